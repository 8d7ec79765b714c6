"""Issue 11 ("Trust on the data path"), against a real dmuxd with two workers: every TUNNEL it
sends is sealed under the router's tunnel key (docs/protocol.md 5.2), so a router can tell a
gateway's TUNNEL from a forgery; GCM's nonce (gateway_id, counter) never repeats, across workers
running at once and across a restart; and what an attacker can send a gateway does not change
that: DATA of version 1, and a TUNNEL (or RETURN) aimed at the data port, get nothing forwarded
and are counted. The router is a Python one (tests/pylib/ipdmux/gateway_router.py) that checks
each tag with the key, written from the spec alone."""
import os
import socket
import sys
import threading
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "pylib"))
from ipdmux import wire  # noqa: E402
from ipdmux.gateway_router import KeyedRouter  # noqa: E402
from ipdmux.gateway_harness import Dmuxd, free_udp_port, main, wait_for  # noqa: E402

GATEWAY_ID = "198.18.0.41"
PROVIDER = 7
SENDERS = 4          # threads sending at once, so both workers have batches in flight together
FLOWS = 16           # source ports per thread (SO_REUSEPORT spreads them over the workers)
ROUNDS = 25


def blast(dest, flows, rounds, results, index):
    """Sends `rounds` DATA per flow; records (source port, token) pairs it used."""
    socks = []
    try:
        for _ in range(flows):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        for rnd in range(rounds):
            for k, s in enumerate(socks):
                token = (index << 32) | (k << 16) | rnd
                s.sendto(wire.data(wire.IPV6, PROVIDER, token, b"\x60" + bytes(39)), dest)
        results[index] = [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


class GatewayTunnelAuth(unittest.TestCase):
    def setUp(self):
        self.router = KeyedRouter(rcvbuf=16 << 20)
        self.port = free_udp_port()
        self.dest = ("127.0.0.1", self.port)
        self.args = ["--listen", f"127.0.0.1:{self.port}", "--gateway-id", GATEWAY_ID,
                     "--static-router", self.router.static_router("ipv6", PROVIDER),
                     "--socket-buffer-bytes", str(8 << 20)]
        self.d = None

    def tearDown(self):
        if self.d is not None:
            self.d.stop()
        self.router.close()

    def start(self):
        self.d = Dmuxd(self.args, workers=2)
        self.assertEqual(self.d.ctl("status")["workers"], 2)

    def stop(self):
        self.d.stop()
        self.d = None

    def load(self):
        """Concurrent DATA from many flows; returns the TUNNELs the router got, each checked."""
        results = [None] * SENDERS
        threads = [threading.Thread(target=blast, args=(self.dest, FLOWS, ROUNDS, results, i))
                   for i in range(SENDERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        want = SENDERS * FLOWS * ROUNDS
        self.assertTrue(wait_for(lambda: self.d.ctl("status")["received_packets"] >= want),
                        self.d.ctl("status"))
        return self.router.recv_tunnels(0.5)  # raises BadTunnel on a wrong tag or reused nonce

    def test_every_tunnel_is_sealed_and_no_nonce_repeats_across_workers_and_restarts(self):
        per_run = []
        for _ in range(2):
            self.start()
            tunnels = self.load()
            status = self.d.ctl("status")
            self.assertEqual(len(tunnels), status["forwarded_packets"])
            self.assertEqual(status["dropped_packets"], 0, status["drops"])
            # Both workers carried part of the load, each with its own blocks of counters.
            self.assertTrue(all(n > 0 for n in status["worker_received_packets"]),
                            status["worker_received_packets"])
            self.assertEqual(len(tunnels), SENDERS * FLOWS * ROUNDS)
            for t in tunnels:
                self.assertEqual(t["gateway_id"], wire.ip(GATEWAY_ID))
                self.assertEqual(t["key_id"], 0)
            per_run.append(sorted(t["counter"] for t in tunnels))
            self.stop()
        self.assertEqual(len(self.router.nonces), 2 * SENDERS * FLOWS * ROUNDS)
        self.assertGreater(per_run[1][0], per_run[0][-1], "a restart reused counters")

    def test_a_tunnel_under_another_key_is_refused_by_the_router(self):
        # What the router's check protects against: the same datagram sealed with another key,
        # or changed in any byte after sealing, does not pass.
        self.start()
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.sendto(wire.data(wire.IPV6, PROVIDER, 5, b"\x60hello"), self.dest)
        finally:
            s.close()
        got = self.router.recv_raw()
        self.assertEqual(len(got), 1)
        sealed = got[0][0]
        self.router.check(sealed)
        t = wire.parse_tunnel(sealed)
        forged = wire.tunnel(t["proto_id"], t["provider_id"], wire.ip("198.18.66.6"),
                             t["client_port"], t["gateway_id"], t["token"], 0, t["counter"] + 1,
                             t["payload"], key=os.urandom(32))
        self.assertFalse(wire.tunnel_tag_ok(forged, self.router.key))
        for i in range(len(sealed)):
            bad = bytearray(sealed)
            bad[i] ^= 0x80
            if i < 4:
                continue  # a changed common header is refused by parsing already
            self.assertFalse(wire.tunnel_tag_ok(bytes(bad), self.router.key), f"byte {i}")

    def test_old_versions_and_wrong_types_get_nothing_forwarded(self):
        self.start()
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            v1 = wire.data(wire.IPV6, PROVIDER, 1, b"\x60" * 40, version=1)
            # A version-1 TUNNEL and RETURN too: a gateway never reflects or forwards either.
            old_tunnel = bytes([1, 2, 28, 0]) + bytes(24) + b"\x60"
            tunnel_v2 = wire.tunnel(wire.IPV6, PROVIDER, wire.ip("127.0.0.1"), 1, 1, 1, 0, 1,
                                    b"\x60", key=self.router.key)
            return_v2 = wire.return_msg(wire.IPV6, PROVIDER, 1, b"\x60")
            for _ in range(20):
                s.sendto(v1, self.dest)
            s.sendto(old_tunnel, self.dest)
            s.sendto(tunnel_v2, self.dest)
            s.sendto(return_v2, self.dest)
            s.settimeout(0.3)
            with self.assertRaises(socket.timeout):
                s.recvfrom(65535)  # nothing is ever answered
        finally:
            s.close()
        self.assertTrue(wait_for(lambda: self.d.ctl("status")["received_packets"] == 23))
        status = self.d.ctl("status")
        self.assertEqual(status["drops"]["unsupported_version"], 21)
        self.assertEqual(status["drops"]["unexpected_type"], 2)
        self.assertEqual(status["forwarded_packets"], 0)
        self.assertEqual(self.router.recv_raw(0.3), [])
        self.assertTrue(wait_for(lambda: "unsupported protocol version" in self.d.read_log()))


if __name__ == "__main__":
    main()

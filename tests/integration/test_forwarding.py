"""A real dmuxd forwards DATA to the right router as a sealed version-2 TUNNEL: every field right
byte for byte, every tag right under the router's static key, no (gateway_id, counter) ever used
twice, across workers, reloads and restarts."""
import os
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from ipdmux.gateway_harness import REPO, Client, Dmuxd, IPV6, free_udp_port, ip_to_int, main, wait_for  # noqa: E402

from ipdmux import probe, wire  # noqa: E402
from ipdmux.gateway_router import KeyedRouter  # noqa: E402

GATEWAY_ID = "198.18.0.1"


class Forwarding(unittest.TestCase):
    def setUp(self):
        self.routers = [KeyedRouter() for _ in range(3)]
        self.port = free_udp_port()
        # Two listen endpoints: an "anycast" one and a "unicast" one.
        self.listen = [("127.0.0.1", self.port), ("127.0.0.2", self.port)]
        self.conf = self.config([("ipv6", 7, r) for r in self.routers[:2]] +
                                [("ipv6", 9, self.routers[2])])
        self.d = Dmuxd([], config_text=self.conf)
        self.clients = []

    def tearDown(self):
        self.d.stop()
        for x in self.routers + self.clients:
            x.close()

    def config(self, routers):
        lines = [f"listen = {a}:{p}" for a, p in self.listen]
        lines.append(f"gateway-id = {GATEWAY_ID}")
        lines += [f"static-router = {r.static_router(proto, prov)}" for proto, prov, r in routers]
        return "\n".join(lines) + "\n"

    def client(self, addr="127.0.0.1"):
        c = Client(addr)
        self.clients.append(c)
        return c

    def collect(self):
        """Per router: every TUNNEL it got, each checked (tag, fresh nonce)."""
        return {i: r.recv_tunnels(0.3) for i, r in enumerate(self.routers)}

    def test_every_tunnel_field_byte_for_byte(self):
        c = self.client("127.0.3.4")
        payload = bytes(range(256)) * 4
        c.send(self.listen[0], payload, proto=IPV6, provider=0, flags=0x5a)
        got = [(i, d) for i, r in enumerate(self.routers) for d, _ in r.recv_raw(0.3)]
        self.assertEqual(len(got), 1)
        idx, datagram = got[0]
        t = self.routers[idx].check(datagram)
        self.assertEqual((t["version"], t["type"], t["hdr_len"]), (2, 2, 56))
        self.assertEqual(t["flags"], 0x5a)
        self.assertEqual(t["proto_id"], IPV6)
        self.assertEqual(t["client_port"], c.addr[1])
        self.assertEqual(t["provider_id"], 0)
        self.assertEqual(t["client_ipv4"], ip_to_int("127.0.3.4"))
        self.assertEqual(t["gateway_id"], ip_to_int(GATEWAY_ID))
        self.assertEqual(t["token"], c.token)
        self.assertEqual(t["key_id"], 0)  # a static key
        self.assertEqual(t["payload"], payload)
        # The counter started at unix_time_us * 4096 (docs/protocol.md 5.2), so it is a time.
        started_us = t["counter"] // 4096
        self.assertLess(abs(started_us / 1e6 - time.time()), 60)
        # Exactly the spec's layout and tag, independent of the parser.
        want = wire.tunnel(IPV6, 0, ip_to_int("127.0.3.4"), c.addr[1], ip_to_int(GATEWAY_ID),
                           c.token, 0, t["counter"], payload, key=self.routers[idx].key,
                           flags=0x5a)
        self.assertEqual(datagram, want)
        self.assertEqual(len(datagram), 56 + len(payload))
        # Under any other key the tag is wrong.
        self.assertFalse(wire.tunnel_tag_ok(datagram, self.routers[(idx + 1) % 3].key))

    def test_both_listen_endpoints_forward(self):
        c = self.client()
        for ep in self.listen:
            c.send(ep, b"\x60hello", provider=9)
        self.assertEqual(len(self.collect()[2]), 2)

    def test_provider_specific_requests_only_reach_that_provider(self):
        for i in range(40):
            self.client(f"127.0.5.{i + 1}").send(self.listen[0], b"\x60x", provider=9)
        got = self.collect()
        self.assertEqual(len(got[2]), 40)
        self.assertEqual(len(got[0]) + len(got[1]), 0)

    def test_clients_stick_to_a_router_and_spread_over_routers(self):
        clients = [self.client(f"127.0.6.{i + 1}") for i in range(60)]
        for rnd in range(3):
            for c in clients:
                c.send(self.listen[rnd % 2], b"\x60" + bytes([rnd]), provider=7)
        got = self.collect()
        self.assertEqual(len(got[2]), 0)
        owner = {}
        for idx in (0, 1):
            for t in got[idx]:
                key = (t["client_ipv4"], t["client_port"])
                self.assertEqual(owner.setdefault(key, idx), idx, "a client switched routers")
        self.assertEqual(len(owner), 60)
        per_router = [sum(1 for v in owner.values() if v == i) for i in (0, 1)]
        self.assertTrue(all(n >= 10 for n in per_router), per_router)

    def test_reload_moves_only_the_removed_routers_clients(self):
        clients = [self.client(f"127.0.7.{i + 1}") for i in range(60)]
        for c in clients:
            c.send(self.listen[0], b"\x60a", provider=0)
        before = {t["client_ipv4"]: idx for idx, ts in self.collect().items() for t in ts}
        # Remove router 1 while the data plane keeps running.
        self.d.reload(self.config([("ipv6", 7, self.routers[0]), ("ipv6", 9, self.routers[2])]))
        for c in clients:
            c.send(self.listen[0], b"\x60b", provider=0)
        after = {t["client_ipv4"]: idx for idx, ts in self.collect().items() for t in ts}
        self.assertEqual(len(after), 60)
        for client, idx in before.items():
            if idx != 1:
                self.assertEqual(after[client], idx, "a client of a remaining router moved")
            else:
                self.assertNotEqual(after[client], 1)
        self.assertEqual(len(self.d.ctl("routers")["routers"]), 2)

    def test_reload_rereads_key_files_and_a_bad_one_keeps_the_old_config(self):
        c = self.client()
        r = self.routers[2]
        old_key = r.key
        r.rekey()
        self.d.reload(self.conf)  # same config, new key in the same file
        c.send(self.listen[0], b"\x60new-key", provider=9)
        self.assertEqual([t["payload"] for t in r.recv_tunnels()], [b"\x60new-key"])
        # A broken key file: the reload is refused, logged naming option and file, old key kept.
        good_key = r.key
        with open(r.key_file, "w") as f:
            f.write("not a key\n")
        self.d.proc.send_signal(signal.SIGHUP)
        self.assertTrue(wait_for(lambda: "reload failed" in self.d.read_log()), self.d.read_log())
        log = self.d.read_log()
        self.assertIn("--static-router", log)
        self.assertIn(r.key_file, log)
        c.send(self.listen[0], b"\x60still", provider=9)
        got = r.recv_raw()
        self.assertEqual(len(got), 1)
        self.assertTrue(wire.tunnel_tag_ok(got[0][0], good_key))
        self.assertFalse(wire.tunnel_tag_ok(got[0][0], old_key))

    def test_burst_is_forwarded_without_loss(self):
        c = self.client()
        n = 2000
        for i in range(n):
            c.send(self.listen[0], probe.numbered(i, 64), provider=9)
            if i % 100 == 0:
                time.sleep(0.001)
        seqs = {probe.number_of(t["payload"]) for t in self.routers[2].recv_tunnels()}
        self.assertEqual(len(seqs), n)
        st = self.d.ctl("status")
        self.assertEqual(st["protocols"]["ipv6"]["forwarded_packets"], n)
        self.assertEqual(st["routers_without_key"], 0)


class CounterAcrossWorkersAndRestarts(unittest.TestCase):
    """docs/protocol.md 5.2: GCM must never see a nonce twice under one key."""

    def test_counter_never_repeats(self):
        router = KeyedRouter(rcvbuf=8 << 20)
        port = free_udp_port()
        args = ["--listen", f"127.0.0.1:{port}", "--gateway-id", GATEWAY_ID,
                "--static-router", router.static_router("ipv6", 7)]
        clients = [Client() for _ in range(32)]  # many source ports: SO_REUSEPORT uses both workers
        runs = []
        try:
            for _ in range(2):
                d = Dmuxd(args, workers=2)
                try:
                    for rnd in range(40):
                        for c in clients:
                            c.send(("127.0.0.1", port), b"\x60" + bytes([rnd]), provider=7)
                        time.sleep(0.001)
                    tunnels = router.recv_tunnels()  # raises on a repeated (gateway_id, counter)
                    self.assertEqual(len(tunnels), 40 * len(clients))
                    runs.append(sorted(t["counter"] for t in tunnels))
                finally:
                    d.stop()
            self.assertEqual(len(router.nonces), 2 * 40 * len(clients))
            # The restarted gateway starts above every counter it used before.
            self.assertGreater(runs[1][0], runs[0][-1])
        finally:
            for c in clients:
                c.close()
            router.close()


if __name__ == "__main__":
    main()

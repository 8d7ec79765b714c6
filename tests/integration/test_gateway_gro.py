"""dmuxd's DATA sockets with UDP_GRO (gateway/dataplane/worker.cpp): a run of one client's datagrams that
arrives coalesced in one buffer is forwarded as one sealed TUNNEL per datagram, payloads intact,
counters fresh, in order; an oversize run is dropped and counted datagram by datagram; the same
holds with --gro off.

On loopback a UDP GSO send (UDP_SEGMENT) reaches a socket with UDP_GRO as one coalesced buffer,
which is what GRO on a receiving interface makes of back-to-back datagrams of one flow; without
UDP_GRO the kernel splits it into the datagrams first. So the test needs no namespace and no root.
"""
import os
import socket
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from ipdmux.gateway_harness import IPV6, Dmuxd, data_msg, free_udp_port, main  # noqa: E402
from ipdmux.gateway_router import KeyedRouter  # noqa: E402
from ipdmux import packets, probe  # noqa: E402

PROVIDER = 7
TOKEN = 0x1122334455667788


def send_run(sock, dest, datagrams):
    """One UDP GSO send: the datagrams concatenated, all of the first one's size but the last."""
    seg = len(datagrams[0])
    sock.sendmsg([b"".join(datagrams)], [packets.udp_segment_cmsg(seg)], 0, dest)


def run_of(first, count, payload_bytes, last_payload_bytes=None):
    """`count` DATA datagrams numbered first.. (4-byte sequence number, then padding)."""
    out = []
    for i in range(first, first + count):
        n = last_payload_bytes if (i == first + count - 1 and last_payload_bytes) else payload_bytes
        out.append(data_msg(IPV6, PROVIDER, TOKEN, probe.numbered(i, n)))
    return out


class GroReceive(unittest.TestCase):
    def start(self, *extra):
        self.router = KeyedRouter(rcvbuf=8 << 20)
        port = free_udp_port()
        self.dest = ("127.0.0.1", port)
        self.d = Dmuxd(["--listen", f"127.0.0.1:{port}", "--gateway-id", "198.18.0.1",
                        "--static-router", self.router.static_router("ipv6", PROVIDER)]
                       + list(extra), workers=1, metrics=False)
        self.addCleanup(self.d.stop)
        self.addCleanup(self.router.close)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.addCleanup(self.sock.close)

    def check_runs_forwarded(self):
        sent = []
        for k, (count, size, last) in enumerate(((64, 900, None), (40, 64, 20), (1, 500, None),
                                                  (33, 1400, 700))):
            run = run_of(1000 * k, count, size, last)
            send_run(self.sock, self.dest, run)
            sent += [(1000 * k + i, d[20:]) for i, d in enumerate(run)]
        tunnels = self.router.recv_tunnels()  # each tag checked, no nonce twice
        got = [(probe.number_of(t["payload"]), t["payload"]) for t in tunnels]
        self.assertEqual(got, sent)  # every datagram, whole, in order
        st = self.d.ctl("status")
        self.assertEqual(st["forwarded_packets"], len(sent))
        self.assertEqual(st["dropped_packets"], 0)

    def check_oversize_run_dropped(self):
        run = run_of(0, 10, 1600)  # > --max-datagram 1500
        send_run(self.sock, self.dest, run)
        send_run(self.sock, self.dest, run_of(100, 3, 100))  # and the socket still works
        self.assertEqual(len(self.router.recv_tunnels()), 3)
        st = self.d.ctl("status")
        self.assertEqual(st["drops"]["oversize"], 10)
        self.assertEqual(st["forwarded_packets"], 3)

    def test_coalesced_runs_are_forwarded_datagram_by_datagram(self):
        self.start()
        self.check_runs_forwarded()

    def test_coalesced_oversize_run_is_dropped_per_datagram(self):
        self.start()
        self.check_oversize_run_dropped()

    def test_gro_off_forwards_the_same(self):
        self.start("--gro", "off")
        self.check_runs_forwarded()

    def test_gro_off_drops_the_same(self):
        self.start("--gro", "off")
        self.check_oversize_run_dropped()


if __name__ == "__main__":
    main()

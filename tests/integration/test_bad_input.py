"""A barrage of bad datagrams: each is dropped and counted by reason, nothing reaches anyone but a
router in the table, and only as a TUNNEL whose tag is right under that router's key; dmuxd
survives, and good traffic still flows afterwards. DATA of version 1 is dropped, counted as
unsupported_version and logged, naming the sender."""
import os
import random
import signal
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from ipdmux.gateway_harness import REPO, Client, Dmuxd, IPV6, data_msg, free_udp_port, main, wait_for  # noqa: E402

from ipdmux.gateway_router import KeyedRouter  # noqa: E402

GOOD = data_msg(IPV6, 7, 1, b"\x60" + b"\x00" * 39)


class BadInput(unittest.TestCase):
    def setUp(self):
        self.router = KeyedRouter()
        self.bystander = KeyedRouter()  # must never receive anything
        self.port = free_udp_port()
        self.ep = ("127.0.0.1", self.port)
        self.d = Dmuxd(["--listen", f"127.0.0.1:{self.port}",
                        "--static-router", self.router.static_router("ipv6", 7),
                        "--max-datagram-bytes", "1500"])
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)

    def tearDown(self):
        self.d.stop()
        self.router.close()
        self.bystander.close()
        self.sock.close()

    def send(self, b):
        self.sock.sendto(b, self.ep)

    def drops(self):
        return self.d.ctl("status")["drops"]

    def test_each_reason_is_counted_and_good_traffic_survives(self):
        cases = {
            "truncated": [b"\x02", b"\x02\x01\x14", GOOD[:19],
                          data_msg(IPV6, 7, 1, b"x", hdr_len=32)],
            "malformed": [data_msg(IPV6, 7, 1, b"x", hdr_len=16),
                          data_msg(IPV6, 7, 1, b"x", hdr_len=22),
                          GOOD[:20], data_msg(0, 7, 1, b"x"), data_msg(0xFFFF, 7, 1, b"x")],
            "unsupported_version": [data_msg(IPV6, 7, 1, b"x", version=v) for v in (0, 1, 3, 255)],
            "unexpected_type": [data_msg(IPV6, 7, 1, b"x", msg_type=t)
                                for t in (0, 2, 3, 4, 9, 16, 200)],
            "unknown_protocol": [data_msg(2, 7, 1, b"x"), data_msg(0x8001, 0, 1, b"x")],
            "no_router": [data_msg(IPV6, 8, 1, b"x"), data_msg(IPV6, 0xFFFFFFFF, 1, b"x")],
            "oversize": [data_msg(IPV6, 7, 1, b"\x60" * 1481), data_msg(IPV6, 7, 1, b"\x60" * 9000)],
        }
        for reason, datagrams in cases.items():
            for b in datagrams:
                self.send(b)
        # An empty datagram counts as truncated too.
        self.send(b"")
        expected = {k: len(v) for k, v in cases.items()}
        expected["truncated"] += 1
        self.assertTrue(wait_for(lambda: all(self.drops()[k] == n for k, n in expected.items())),
                        f"want {expected}, got {self.drops()}")
        self.assertEqual(self.router.recv_raw(0.3), [])

        # The largest accepted datagram is exactly max-datagram-bytes; its TUNNEL is 36 longer.
        self.send(data_msg(IPV6, 7, 1, b"\x60" * 1480))
        for _ in range(10):
            self.send(GOOD)
        got = self.router.recv_tunnels(0.5)
        self.assertEqual(len(got), 11)
        self.assertEqual(got[0]["payload"], b"\x60" * 1480)
        self.assertEqual(self.bystander.recv_raw(0.1), [])

    def test_version_1_data_is_dropped_counted_and_logged_naming_the_sender(self):
        old = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        old.bind(("127.0.0.1", 0))
        try:
            before = self.drops()["unsupported_version"]
            v1 = data_msg(IPV6, 7, 1, b"\x60" * 40, version=1)
            for _ in range(5):
                old.sendto(v1, self.ep)
            self.assertTrue(wait_for(lambda: self.drops()["unsupported_version"] == before + 5))
            self.assertEqual(self.router.recv_raw(0.3), [])
            sender = f"127.0.0.1:{old.getsockname()[1]}"
            self.assertTrue(wait_for(lambda: sender in self.d.read_log(), timeout=5),
                            self.d.read_log())
            line = [x for x in self.d.read_log().splitlines() if sender in x][0]
            self.assertRegex(line, r"dropped [1-5] DATA datagrams of an unsupported protocol version")
            self.assertIn("version 1", line)
            # More within the minute: counted, not logged again.
            for _ in range(5):
                old.sendto(v1, self.ep)
            self.assertTrue(wait_for(lambda: self.drops()["unsupported_version"] == before + 10))
            time.sleep(1.5)
            self.assertEqual(self.d.read_log().count("unsupported protocol version"), 1)
        finally:
            old.close()

    def test_random_garbage_barrage(self):
        rng = random.Random(1234)
        n = 20000
        for i in range(n):
            kind = rng.randrange(4)
            if kind == 0:
                b = rng.randbytes(rng.randrange(0, 64))
            elif kind == 1:  # a valid header with random fields mutated
                b = bytearray(GOOD)
                for _ in range(rng.randrange(1, 4)):
                    b[rng.randrange(len(b))] = rng.randrange(256)
                b = bytes(b)
            elif kind == 2:  # valid version/type, random rest
                b = b"\x02\x01" + rng.randbytes(rng.randrange(0, 40))
            else:
                b = GOOD[: rng.randrange(len(GOOD))]
            self.send(b)
            if i % 500 == 0:
                time.sleep(0.002)  # stay well inside the socket buffers on a loaded machine
        st = wait_for(lambda: self.d.ctl("status")["received_packets"] >= n, timeout=10)
        self.assertTrue(st, self.d.ctl("status"))
        status = self.d.ctl("status")
        forwarded = status["forwarded_packets"]
        dropped = status["dropped_packets"]
        self.assertEqual(forwarded + dropped, status["received_packets"])
        # Whatever was forwarded went to the one router in the table, as a TUNNEL sealed under
        # its key with a fresh counter (recv_tunnels raises otherwise).
        got = self.router.recv_tunnels(0.5)
        self.assertEqual(len(got), forwarded)
        for t in got:
            self.assertEqual((t["version"], t["type"], t["hdr_len"]), (2, 2, 56))
        self.assertEqual(self.bystander.recv_raw(0.1), [])
        self.assertIsNone(self.d.proc.poll(), "dmuxd died")
        # Good traffic still flows.
        c = Client()
        c.send(self.ep, b"\x60ok", provider=7)
        after = self.router.recv_tunnels(0.5)
        c.close()
        self.assertEqual(len(after), 1)
        self.assertEqual(after[0]["payload"], b"\x60ok")


class KernelDrops(unittest.TestCase):
    def test_receive_buffer_overflow_is_counted(self):
        router = KeyedRouter()
        port = free_udp_port()
        d = Dmuxd(["--listen", f"127.0.0.1:{port}",
                   "--static-router", router.static_router("ipv6", 7),
                   "--socket-buffer-bytes", "4096"], workers=1)
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            d.proc.send_signal(signal.SIGSTOP)  # dmuxd cannot read: its tiny buffer overflows
            sent = 500
            for _ in range(sent):
                sock.sendto(GOOD, ("127.0.0.1", port))
            d.proc.send_signal(signal.SIGCONT)
            self.assertTrue(wait_for(lambda: d.ctl("status")["received_packets"] > 0))
            sock.sendto(GOOD, ("127.0.0.1", port))  # carries the kernel's newest drop count
            sent += 1

            def accounted():
                s = d.ctl("status")
                return s["received_packets"] + s["receive_buffer_dropped_packets"] == sent
            self.assertTrue(wait_for(accounted), d.ctl("status"))
            s = d.ctl("status")
            self.assertGreater(s["receive_buffer_dropped_packets"], 0)
            self.assertIn("dmux_gateway_receive_buffer_dropped_packets_total "
                          f"{s['receive_buffer_dropped_packets']}", d.metrics())
        finally:
            d.proc.send_signal(signal.SIGCONT)
            sock.close()
            d.stop()
            router.close()


if __name__ == "__main__":
    main()

"""Issue 12, finding 6, against a real dmuxd: a flood of TLS handshakes from one source is turned
away before it costs crypto or memory, an authenticated peer's flood of bad frames cannot flood
the log, slow or idle clients cannot stall a metrics scrape, and idle connections cannot lock
dmuxctl out of the control socket."""
import os
import socket
import ssl
import subprocess
import sys
import time
import unittest
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "pylib"))
from ipdmux import wire  # noqa: E402
from ipdmux.ca import TestCa  # noqa: E402
from ipdmux.meshpeer import MeshPeer  # noqa: E402
from ipdmux.gateway_harness import BUILD_DIR, DMUXCTL, Dmuxd, free_tcp_port, free_udp_port, wait_for  # noqa: E402

ADDR = "127.0.0.25"


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class ResourceLimits(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.ca = TestCa(BUILD_DIR, prefix="dmux-reslim-")
        cls.x_cert, cls.x_key = cls.ca.gateway("x", "198.18.0.25")
        cls.m_cert, cls.m_key = cls.ca.gateway("m", "198.18.0.26")
        cls.mesh_port = free_tcp_port()
        cls.d = Dmuxd(["--listen", f"{ADDR}:{free_udp_port(ADDR)}", "--gateway-id", "198.18.0.25",
                       "--ca-cert", cls.ca.ca_cert, "--mesh-listen", f"{ADDR}:{cls.mesh_port}",
                       "--mesh-cert", cls.x_cert, "--mesh-key", cls.x_key], workers=1)

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        cls.ca.close()

    def mesh_counters(self):
        return self.d.ctl("status")["mesh"]["counters"]

    def test_1_a_handshake_flood_from_one_source_is_turned_away(self):
        before_rss = rss_kib(self.d.proc.pid)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        socks = []
        for _ in range(300):  # each sends a real ClientHello and then waits
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex((ADDR, self.mesh_port))
            socks.append(s)
        time.sleep(0.2)
        tls = []
        for s in socks:
            try:
                t = ctx.wrap_socket(s, do_handshake_on_connect=False)
                try:
                    t.do_handshake()
                except (ssl.SSLWantReadError, ssl.SSLWantWriteError, OSError, ssl.SSLError):
                    pass
                tls.append(t)
            except OSError:
                pass
        time.sleep(1)
        c = self.mesh_counters()
        grown = rss_kib(self.d.proc.pid) - before_rss
        print(f"\n  300 handshakes from one address: {c['handshakes_refused']} refused at accept, "
              f"{c['links_accepted']} accepted; memory grew {grown} KiB")
        self.assertGreaterEqual(c["handshakes_refused"], 290)
        self.assertLess(grown, 64 * 1024)
        for t in tls:
            t.close()
        # A real gateway from another address is still welcome.
        peer = MeshPeer(ADDR, self.mesh_port, self.m_cert, self.m_key, wire.ip("198.18.0.26"),
                        source="127.0.0.26")
        try:
            self.assertIsNotNone(peer.wait_for(wire.MESH_HELLO), "a genuine peer was turned away")
        finally:
            peer.close()

    def test_2_a_flood_of_bad_frames_cannot_flood_the_log(self):
        # The previous test's link of this gateway must be gone (one link per pair).
        self.assertTrue(wait_for(lambda: not [p for p in self.d.ctl("peers")["peers"]
                                               if p["state"] == "up"], timeout=10))
        peer = MeshPeer(ADDR, self.mesh_port, self.m_cert, self.m_key, wire.ip("198.18.0.26"),
                        source="127.0.0.27")
        try:
            self.assertIsNotNone(peer.wait_for(wire.MESH_HELLO))
            log_before = os.path.getsize(self.d.log_path)
            junk = wire.mesh_frame(30, b"") * 100000  # 800 KB of unknown-type frames
            peer.send(junk)
            self.assertTrue(wait_for(lambda: self.mesh_counters()["bad_frames"]["unexpected_type"]
                                     >= 100000, timeout=20))
        finally:
            peer.close()
        time.sleep(0.5)
        grown = os.path.getsize(self.d.log_path) - log_before
        print(f"\n  100,000 bad frames (800 KB): the log grew {grown} bytes")
        self.assertLess(grown, 20000)

    def test_3_slow_clients_cannot_stall_a_metrics_scrape(self):
        slow = []
        for _ in range(100):
            s = socket.create_connection(("127.0.0.1", self.d.metrics_port), timeout=5)
            s.sendall(b"GET /metr")  # and never the rest
            slow.append(s)
        t0 = time.monotonic()
        with urllib.request.urlopen(f"http://127.0.0.1:{self.d.metrics_port}/metrics",
                                    timeout=20) as r:
            body = r.read().decode()
        took = time.monotonic() - t0
        for s in slow:
            s.close()
        print(f"\n  scrape with 100 slow-loris connections open: {took * 1000:.0f} ms")
        self.assertIn("dmux_gateway_", body)
        self.assertLess(took, 5)

    def test_4_idle_connections_cannot_lock_dmuxctl_out(self):
        idle = []
        for _ in range(64):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(self.d.control)
            idle.append(s)
        t0 = time.monotonic()
        r = subprocess.run([DMUXCTL, "--socket", self.d.control, "--json", "status"],
                           capture_output=True, text=True, timeout=20)
        took = time.monotonic() - t0
        for s in idle:
            s.close()
        print(f"\n  dmuxctl status with 64 idle connections open: {took * 1000:.0f} ms")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertLess(took, 5)


if __name__ == "__main__":
    unittest.main(verbosity=2)

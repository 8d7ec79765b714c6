"""Issue 12, findings 1-3, against a real dmuxd: a gateway holding a valid certificate from the
operator's CA but misbehaving cannot capture a provider's traffic (router records must carry the
provider's signature for that gateway, and an RTT lie cannot win selection), cannot stall the
control thread with a huge FULL_STATE or a burst of UPDATEs, and cannot make the gateway dial
without end through PEERS. The honest and the malicious peer are Python gateways
(tests/pylib/ipdmux/meshpeer.py) written from docs/protocol.md."""
import json
import os
import socket
import subprocess
import sys
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "pylib"))
from ipdmux import crypto, wire  # noqa: E402
from ipdmux.ca import TestCa  # noqa: E402
from ipdmux.meshpeer import MeshPeer, make_router_record  # noqa: E402
from ipdmux.gateway_harness import (BUILD_DIR, DMUXCTL, Dmuxd, build_is_sanitized,  # noqa: E402
                                    free_tcp_port, free_udp_port, wait_for)

ADDR = "127.0.0.21"
X_ID, H_ID, M_ID = "198.18.0.21", "198.18.0.22", "198.18.0.23"
GENUINE = ("127.0.0.31", 5000)
LIAR = ("127.0.0.32", 5000)
TUNNEL_KEY = bytes(range(32))


def ctl_time(control, command="status"):
    """Seconds dmuxctl took to get an answer."""
    t0 = time.monotonic()
    subprocess.run([DMUXCTL, "--socket", control, "--json", command], capture_output=True,
                   timeout=30, check=True)
    return time.monotonic() - t0


class MeshTrust(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.ca = TestCa(BUILD_DIR, prefix="dmux-meshtrust-")
        cls.x_cert, cls.x_key = cls.ca.gateway("x", X_ID)
        cls.h_cert, cls.h_key = cls.ca.gateway("h", H_ID)
        cls.m_cert, cls.m_key = cls.ca.gateway("m", M_ID)
        cls.p7 = cls.ca.provider("p7", 7, "ipv6")

    @classmethod
    def tearDownClass(cls):
        cls.ca.close()

    def setUp(self):
        self.data_port = free_udp_port(ADDR)
        self.mesh_port = free_tcp_port()
        self.peers = []
        self.d = Dmuxd(["--listen", f"{ADDR}:{self.data_port}", "--gateway-id", X_ID,
                        "--ca-cert", self.ca.ca_cert,
                        "--mesh-listen", f"{ADDR}:{self.mesh_port}",
                        "--mesh-cert", self.x_cert, "--mesh-key", self.x_key,
                        "--mesh-probe-interval-ms", "200", "--selection", "path",
                        "--mesh-max-routers-per-origin", "70000",
                        "--mesh-max-routers-per-provider", "70000"], workers=1)

    def tearDown(self):
        for p in self.peers:
            p.close()
        self.d.stop()

    def peer(self, cert, key, gw_id):
        p = MeshPeer(ADDR, self.mesh_port, cert, key, wire.ip(gw_id))
        self.peers.append(p)
        self.assertIsNotNone(p.wait_for(wire.MESH_HELLO), "no HELLO from dmuxd")
        return p

    def record(self, addr, origin, key_id, router_rtt_us, signed_rtt_us, sign=True):
        return make_router_record(self.p7.key, self.p7.der, wire.IPV6, 7, wire.ip(addr[0]),
                                  addr[1], wire.ip(origin), key_id, TUNNEL_KEY,
                                  router_rtt_us=router_rtt_us, signed_rtt_us=signed_rtt_us,
                                  sign=sign)

    def mesh_status(self):
        return self.d.ctl("status")["mesh"]

    def test_1_a_lying_gateway_captures_nothing(self):
        honest = self.peer(self.h_cert, self.h_key, H_ID)
        honest.send_certificate(self.p7.der)
        honest.send_full_state([self.record(GENUINE, H_ID, 1, 2000, 2000)])
        liar = self.peer(self.m_cert, self.m_key, M_ID)
        liar.send_certificate(self.p7.der)
        fakes = [self.record(("127.0.0.%d" % (40 + i), 5000), M_ID, 10 + i, 1, 1, sign=False)
                 for i in range(4)]                                             # forged
        fakes += [self.record(("127.0.0.%d" % (50 + i), 5000), H_ID, 20 + i, 1, 1)
                  for i in range(3)]                                            # not made at M
        fakes.append(self.record(LIAR, M_ID, 30, 1, 5000))  # genuine, but "router_rtt_us = 1"
        liar.send_full_state(fakes)
        self.assertTrue(wait_for(lambda: self.mesh_status()["remote_routers"] == 2, timeout=10),
                        self.mesh_status())
        time.sleep(1.5)  # RTT medians to both peers
        sink = {}
        for addr in (GENUINE, LIAR):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
            s.bind(addr)
            s.settimeout(0.2)
            sink[addr] = s
        client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        flows = 2000
        for i in range(flows):
            src = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            src.bind((f"127.1.{i // 250}.{i % 250 + 1}", 0))
            src.sendto(wire.data(wire.IPV6, 7, i, b"\x60" + bytes(40)), (ADDR, self.data_port))
            src.close()
        counts = {}
        for addr, s in sink.items():
            n = 0
            try:
                while True:
                    d = s.recv(65535)
                    self.assertTrue(wire.tunnel_tag_ok(d, TUNNEL_KEY))
                    n += 1
            except socket.timeout:
                pass
            counts[addr] = n
            s.close()
        client.close()
        refused = self.d.ctl("status")["mesh"]["counters"]["records_refused"]
        print(f"\n  flows: {flows}; to the genuine router {counts[GENUINE]}, to the liar's "
              f"{counts[LIAR]}; records refused {refused}")
        self.assertEqual(counts[LIAR], 0)
        self.assertGreater(counts[GENUINE], flows * 0.95)
        self.assertEqual(refused["signature"], 4)
        self.assertEqual(refused["wrong_gateway"], 3)

    def test_2_a_huge_full_state_and_an_update_burst_do_not_stall_the_control_thread(self):
        liar = self.peer(self.m_cert, self.m_key, M_ID)
        liar.send_certificate(self.p7.der)
        n = 65534
        base = self.record(("127.0.0.60", 5000), M_ID, 1, 1, 1, sign=False)
        records = []
        for i in range(n):  # forged: every one costs dmuxd a signature check
            records.append(wire.mesh_router_with(base, router_ipv4=(10 << 24) + i + 1,
                                                 key_id=i + 1))
        worst = [0.0]
        stop = threading.Event()

        def poll():
            while not stop.is_set():
                worst[0] = max(worst[0], ctl_time(self.d.control))
                time.sleep(0.02)

        poller = threading.Thread(target=poll)
        poller.start()
        try:
            liar.send_full_state(records)
            for i in range(20000):
                liar.send_update(records[i % n])
            done = wait_for(lambda: self.mesh_status()["counters"]["intake"]["records_verified"] >=
                            n + 20000 and self.mesh_status()["records_queued"] == 0, timeout=120,
                            interval=0.5)
        finally:
            stop.set()
            poller.join()
        status = self.mesh_status()
        print(f"\n  {n} records + 20000 updates verified: {done}; slowest status answer "
              f"{worst[0] * 1000:.0f} ms; longest slice {status['counters']['longest_slice_us']} us")
        self.assertTrue(done, status)
        self.assertEqual(status["remote_routers"], 0)
        # Coarse, to catch a stall: bench/mesh/control_thread measures the real figure (release
        # build). Under ASan at -O0 every dmuxctl call (itself instrumented) is several times
        # slower, and the test's own Python thread sending 85,000 frames holds the GIL.
        self.assertLess(worst[0], 3.0 if build_is_sanitized() else 1.0)

    def test_3_peers_lists_make_the_gateway_dial_only_a_few_targets_a_few_times(self):
        liar = self.peer(self.m_cert, self.m_key, M_ID)
        entries = [(wire.ip(f"198.18.{100 + i // 250}.{i % 250 + 1}"), wire.ip("127.0.0.99"),
                    20000 + i) for i in range(2000)]
        liar.send(wire.mesh_peers([(gw, addr, port) for gw, addr, port in entries[:256]]))
        liar.send(wire.mesh_peers([(gw, addr, port) for gw, addr, port in entries[256:512]]))
        time.sleep(6)
        status = self.mesh_status()
        dialled = status["counters"]["links_dialed"]
        fds = len(os.listdir(f"/proc/{self.d.proc.pid}/fd"))
        print(f"\n  vouched entries 512 (256 per frame); dials in 6 s: {dialled}; open fds {fds}; "
              f"ignored {status['counters']['directory']['ignored']}")
        self.assertLess(dialled, 64 * 6)
        self.assertLess(fds, 100)
        liar.close()
        self.assertTrue(wait_for(lambda: not [p for p in self.d.ctl("peers")["peers"]
                                               if not p["gateway_id"]], timeout=5),
                        "vouched targets outlived their voucher")


if __name__ == "__main__":
    unittest.main(verbosity=2)

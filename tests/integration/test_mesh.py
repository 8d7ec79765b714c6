"""The gateway mesh with real dmuxd processes on loopback (127.0.0.11-13), credentials from the
real dmux-ca and registrations made by tests/pylib's agent (docs/protocol.md 9): a registration at
one gateway is usable at the others, with the router's tunnel key (every gateway's TUNNELs verify
under the session's K_t), a killed gateway's routers vanish elsewhere after the grace time and come
back when it restarts, a gateway with a certificate from another CA is refused and counted, a CRL
installed at one gateway revokes mesh-wide, and garbage on the mesh port harms nobody."""
import os
import shutil
import socket
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pylib"))
from ipdmux.gateway_harness import (BUILD_DIR, Dmuxd, Router, free_tcp_port, free_udp_port, main,  # noqa: E402
                                    wait_for)
from ipdmux import wire  # noqa: E402
from ipdmux.registration import Agent, Credentials, Provider  # noqa: E402

DMUX_CA = os.path.join(BUILD_DIR, "tools", "ca", "dmux-ca")
GRACE_MS = 1500
ADDRS = ["127.0.0.11", "127.0.0.12", "127.0.0.13"]


class Gateway:
    """One dmuxd of the mesh, restartable with the same addresses and ports."""

    def __init__(self, cred_dir, ca_dir, index, seeds, name=None):
        self.addr = ADDRS[index]
        self.gateway_id = f"198.18.0.{11 + index}"
        self.data_port = free_udp_port(self.addr)
        self.reg_port = free_udp_port(self.addr)
        self.mesh_port = free_tcp_port(self.addr)
        prefix = os.path.join(cred_dir, name or f"gw{index}")
        subprocess.run([DMUX_CA, "issue-gateway", "--dir", ca_dir, "--gateway-id", self.gateway_id,
                        "--out", prefix], check=True, capture_output=True)
        self.args = ["--listen", f"{self.addr}:{self.data_port}", "--gateway-id", self.gateway_id,
                     "--registration-listen", f"{self.addr}:{self.reg_port}",
                     "--ca-cert", os.path.join(ca_dir, "ca.crt"),
                     "--registration-rate", "1000", "--registration-burst", "1000",
                     "--mesh-listen", f"{self.addr}:{self.mesh_port}",
                     "--mesh-cert", prefix + ".crt", "--mesh-key", prefix + ".key",
                     "--mesh-grace-ms", str(GRACE_MS), "--mesh-probe-interval-ms", "200"]
        for s in seeds:
            self.args += ["--mesh-peer", s]
        self.d = None

    @property
    def mesh_endpoint(self):
        return f"{self.addr}:{self.mesh_port}"

    def start(self):
        self.d = Dmuxd(self.args, workers=1)

    def peers(self):
        return self.d.ctl("peers")

    def up_peers(self):
        return sorted(p["gateway_id"] for p in self.peers()["peers"] if p["state"] == "up")

    def mesh_routers(self):
        return sorted((r["address"], r["provider_id"], r.get("origin_gateway"))
                      for r in self.d.ctl("routers")["routers"] if r["origin"] == "mesh")

    def metric(self, name, **labels):
        """The value of one sample on /metrics, None if absent."""
        want = name + ("{" + ",".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"
                       if labels else "")
        for line in self.d.metrics().splitlines():
            if line.startswith(want + " "):
                return float(line.split()[-1])
        return None

    def register(self, provider, router):
        """Registers `router` (its socket is the agent's) here; the accepted Session."""
        agent = Agent((self.addr, self.reg_port), provider, sock=router.sock, timeout=2)
        session = agent.register()
        if session is None or isinstance(session, dict):
            raise AssertionError(f"registration at {self.gateway_id} refused: {session}")
        router.session = session
        return session


class Mesh(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cred = Credentials(DMUX_CA, prefix="dmux-mesh-test-")
        cls.provider = Provider(cls.cred.provider("prov"))
        ca = cls.cred.ca
        g0 = Gateway(cls.cred.dir, ca, 0, [])
        # The others know only the first gateway: the rest of the mesh is learned from it.
        g1 = Gateway(cls.cred.dir, ca, 1, [g0.mesh_endpoint])
        g2 = Gateway(cls.cred.dir, ca, 2, [g0.mesh_endpoint])
        cls.gws = [g0, g1, g2]
        for g in cls.gws:
            g.start()
        cls.routers = []

    @classmethod
    def tearDownClass(cls):
        for g in cls.gws:
            if g.d is not None:
                g.d.stop()
        for r in cls.routers:
            r.close()
        cls.cred.close()

    def new_router(self):
        r = Router()
        self.routers.append(r)
        return r

    def assert_full_mesh(self, timeout=10):
        ids = sorted(g.gateway_id for g in self.gws)
        for g in self.gws:
            want = [i for i in ids if i != g.gateway_id]
            self.assertTrue(wait_for(lambda: g.up_peers() == want, timeout=timeout),
                            f"{g.gateway_id} sees {g.up_peers()}, wants {want}:\n{g.d.read_log()[-2000:]}")

    def forwards_to(self, gw, routers, payload):
        """True if a DATA sent to `gw` reaches one of `routers` (a tier is hashed over) as a
        TUNNEL sealed with that router's tunnel key from its registration."""
        c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        c.sendto(wire.data(wire.IPV6, 0, 1, payload), (gw.addr, gw.data_port))
        c.close()
        for r in routers:
            for d, _ in r.recv_all(0.3):
                t = wire.parse_tunnel(d)
                if t["payload"] != payload:
                    continue
                self.assertEqual(t["key_id"], r.session.key_id)
                self.assertTrue(wire.tunnel_tag_ok(d, r.session.k_t), "TUNNEL tag does not verify")
                self.assertEqual(t["gateway_id"], wire.ip(gw.gateway_id))
                return True
        return False

    def test_1_full_mesh_from_a_seed_with_rtt(self):
        self.assert_full_mesh()
        g = self.gws[1]
        self.assertTrue(wait_for(lambda: all(p["rtt_ms"] is not None for p in g.peers()["peers"]
                                             if p["state"] == "up"), timeout=5))
        for p in g.peers()["peers"]:
            self.assertLess(p["rtt_ms"], 100)
            self.assertEqual(p["loss"], 0)
        text = g.d.ctl("peers", json_out=False)
        self.assertIn("198.18.0.11", text)
        self.assertIn("up", text)
        # One link per pair: two links in total per gateway.
        self.assertEqual(len(g.peers()["peers"]), 2)

    def test_1b_mesh_metrics_follow_the_peers(self):
        self.assert_full_mesh()
        g = self.gws[1]
        self.assertEqual(g.metric("dmux_gateway_mesh_peer_up", peer="198.18.0.11"), 1)
        self.assertTrue(wait_for(lambda: g.metric("dmux_gateway_mesh_peer_rtt_seconds",
                                                  peer="198.18.0.13") is not None, timeout=5))
        self.assertLess(g.metric("dmux_gateway_mesh_peer_rtt_seconds", peer="198.18.0.13"), 0.1)
        self.assertEqual(g.metric("dmux_gateway_mesh_peer_loss_ratio", peer="198.18.0.11"), 0)
        self.assertGreater(g.metric("dmux_gateway_mesh_bytes_total", direction="sent"), 0)
        self.assertGreater(g.metric("dmux_gateway_mesh_messages_total", direction="sent",
                                    type="probe"), 0)
        self.assertEqual(g.metric("dmux_gateway_mesh_rejected_total", reason="hello_mismatch"), 0)
        if shutil.which("promtool"):
            r = subprocess.run(["promtool", "check", "metrics"], input=g.d.metrics(),
                               capture_output=True, text=True)
            ours = [line for line in (r.stdout + r.stderr).splitlines() if "dmux_" in line]
            self.assertEqual(ours, [], "\n".join(ours))

    def test_2_registration_at_one_is_usable_at_all(self):
        self.assert_full_mesh()
        r = self.new_router()
        self.gws[0].register(self.provider, r)
        for i, g in enumerate(self.gws[1:], start=1):
            self.assertTrue(wait_for(lambda: (r.endpoint, 7, "198.18.0.11") in g.mesh_routers()),
                            g.d.read_log()[-2000:])
            self.assertTrue(self.forwards_to(g, [r], b"\x60via-" + bytes([48 + i])))

    def test_3_kill_drops_routers_after_grace_restart_resyncs(self):
        self.assert_full_mesh()
        r0 = self.new_router()
        self.gws[0].register(self.provider, r0)
        r2 = self.new_router()
        self.gws[2].register(self.provider, r2)
        g0, g1, g2 = self.gws
        self.assertTrue(wait_for(lambda: (r2.endpoint, 7, "198.18.0.13") in g1.mesh_routers()))
        self.assertTrue(wait_for(lambda: (r2.endpoint, 7, "198.18.0.13") in g0.mesh_routers()))

        g2.d.proc.kill()  # SIGKILL: no goodbye
        g2.d.proc.wait()
        killed = time.time()
        self.assertTrue(wait_for(lambda: "198.18.0.13" not in g1.up_peers(), timeout=5))
        # Still there within the grace time...
        self.assertIn((r2.endpoint, 7, "198.18.0.13"), g1.mesh_routers())
        # ... and gone after it (bounded: grace + one expiry tick + scheduling slack).
        self.assertTrue(wait_for(lambda: all((r2.endpoint, 7, "198.18.0.13") not in g.mesh_routers()
                                             for g in (g0, g1)), timeout=GRACE_MS / 1000 + 3))
        gone_after = time.time() - killed
        self.assertGreaterEqual(gone_after, GRACE_MS / 1000 - 0.3)
        g2.d.stop(check_exit=False)

        g2.start()  # same addresses, ports and certificate; a new incarnation
        self.assert_full_mesh()
        # It relearns the others' registrations (anti-entropy) and can forward to them.
        self.assertTrue(wait_for(lambda: (r0.endpoint, 7, "198.18.0.11") in g2.mesh_routers()))
        # Every router registered at the first gateway is equally near: any of them may be chosen.
        self.assertTrue(self.forwards_to(g2, self.routers, b"\x60resynced"))
        # Its own registrations died with it (soft state); re-registering spreads again.
        self.assertNotIn((r2.endpoint, 7, "198.18.0.13"), g1.mesh_routers())
        g2.register(self.provider, r2)
        self.assertTrue(wait_for(lambda: (r2.endpoint, 7, "198.18.0.13") in g1.mesh_routers()))

    def test_4_foreign_certificate_is_refused_and_counted(self):
        self.assert_full_mesh()
        g0 = self.gws[0]
        before = g0.peers()["counters"]["auth_refused"]["untrusted"]
        other = Gateway(self.cred.dir, self.cred.other_ca, 0, [g0.mesh_endpoint], name="foreign")
        other.args[other.args.index("--ca-cert") + 1] = os.path.join(self.cred.other_ca, "ca.crt")
        # Same gateway id as a real one, different CA, its own loopback address and ports.
        other.addr = "127.0.0.14"
        other.args = [a.replace("127.0.0.11", "127.0.0.14") for a in other.args]
        other.args[other.args.index("--mesh-listen") + 1] = f"127.0.0.14:{free_tcp_port('127.0.0.14')}"
        other.args[other.args.index("--listen") + 1] = f"127.0.0.14:{free_udp_port('127.0.0.14')}"
        other.args[other.args.index("--registration-listen") + 1] = \
            f"127.0.0.14:{free_udp_port('127.0.0.14')}"
        other.args += ["--mesh-peer", g0.mesh_endpoint]
        other.start()
        try:
            self.assertTrue(wait_for(
                lambda: g0.peers()["counters"]["auth_refused"]["untrusted"] > before, timeout=5))
            self.assertEqual(len([p for p in g0.peers()["peers"] if p["state"] == "up"]), 2)
            self.assertEqual(other.up_peers(), [])
        finally:
            other.d.stop()
        self.assert_full_mesh()

    def test_5_garbage_on_the_mesh_port_is_harmless(self):
        self.assert_full_mesh()
        g0 = self.gws[0]
        def turned_away():
            c = g0.peers()["counters"]
            return c["links_failed"] + c["handshakes_refused"]

        before = turned_away()
        for junk in (b"", b"\x00" * 7, b"GET / HTTP/1.0\r\n\r\n", os.urandom(5000),
                     b"\x16\x03\x01\xff\xff" + os.urandom(100)):
            s = socket.create_connection((g0.addr, g0.mesh_port), timeout=2)
            s.sendall(junk)
            s.close()
        # A connection that says nothing is dropped at the handshake timeout; here it just goes,
        # and a source whose handshakes keep failing is turned away at accept for a while.
        self.assertTrue(wait_for(lambda: turned_away() >= before + 4, timeout=5))
        self.assertIsNone(g0.d.proc.poll())
        self.assert_full_mesh()


    def test_6_a_crl_installed_at_one_gateway_revokes_mesh_wide(self):
        self.assert_full_mesh()
        g0, g1, g2 = self.gws
        r = self.new_router()
        g0.register(self.provider, r)
        self.assertTrue(wait_for(lambda: (r.endpoint, 7, "198.18.0.11") in g2.mesh_routers()))
        subprocess.run([DMUX_CA, "revoke", "--dir", self.cred.ca, self.provider.prefix + ".crt"],
                       check=True, capture_output=True)
        crl = os.path.join(self.cred.dir, "crl.pem")
        subprocess.run([DMUX_CA, "crl", "--dir", self.cred.ca, "--out", crl], check=True,
                       capture_output=True)
        g1.d.ctl("crl " + crl)  # installed at one gateway only
        for g in self.gws:
            self.assertTrue(wait_for(lambda: g.d.ctl("status")["mesh"]["counters"]["crl_number"] >= 1,
                                     timeout=5), g.gateway_id)
        # The provider's registration at g0 is gone, and so is its record everywhere.
        self.assertTrue(wait_for(lambda: all((r.endpoint, 7, "198.18.0.11") not in g.mesh_routers()
                                             for g in (g1, g2)), timeout=5))
        self.assertFalse(self.forwards_to(g1, [r], b"\x60revoked"))


if __name__ == "__main__":
    main()

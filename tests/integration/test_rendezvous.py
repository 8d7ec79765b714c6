#!/usr/bin/python3
"""The rendezvous protocol (examples/rendezvous) for real, in network namespaces (needs root): one
dmuxd, two rendezvous-routers of one provider built on the SDK (registered with dmuxd for the
experimental proto_id 0x8001, peers of each other), and two IPv4-only clients running the
rendezvous client programs (rv_client.py, through the SDK's client helper).

    c1 198.18.21.x --+                         +-- r1 198.18.4.2:5000 (rendezvous-router)
                     +-- gw (dmuxd) -----------+        | peers (through gw)
    c2 198.18.22.x --+   198.18.0.1:4500/4501  +-- r2 198.18.5.2:5000 (rendezvous-router)

dmuxd hashes each client to a router (protocol.md 8); the client addresses are chosen so that c1
uses r1 and c2 uses r2, so every delivery crosses routers. Checks: a trigger inserted at r2 is
known at r1 and c1's SEND reaches c2; nothing is delivered to an id without a trigger; a trigger
that is not refreshed expires; when r2 dies, c2's refreshes move to r1 and delivery goes on. The
gateway is unchanged: dmuxd forwards exp-0x8001 like any protocol. Every namespace, process and
file is removed in tearDownClass, also on failure."""
import os
import signal
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "pylib"))
from ipdmux.agent_lab import (DMUX_CA, DMUXD, LAB_ALLOWED, REPO, BUILD_DIR, open_lab,  # noqa: E402
                              unix_request, wait_for)
from ipdmux.gateway_harness import rendezvous_choice  # noqa: E402

ROUTER = os.path.join(BUILD_DIR, "examples", "rendezvous", "rendezvous-router")
RV_CLIENT = os.path.join(REPO, "examples", "rendezvous", "rv_client.py")
PREFIX = f"dmuxrv-{os.getpid()}-"
GW_IP, DATA_PORT, REG_PORT, ROUTER_PORT = "198.18.0.1", 4500, 4501, 5000
ROUTERS = {"r1": ("198.18.4.1", "198.18.4.2"), "r2": ("198.18.5.1", "198.18.5.2")}
SUBNETS = {"c1": "198.18.21", "c2": "198.18.22"}
WANTED = {"c1": "r1", "c2": "r2"}
PROVIDER_ID = 7
KEEPALIVE_MS, HOLD_MS = 300, 1500
GATEWAY = f"{GW_IP}:{DATA_PORT}"


def client_address(client):
    routers = {name: (addr, ROUTER_PORT) for name, (_, addr) in ROUTERS.items()}
    for host in range(2, 255):
        ip = f"{SUBNETS[client]}.{host}"
        if rendezvous_choice(ip, routers, PROVIDER_ID) == WANTED[client]:
            return ip
    raise RuntimeError("no address hashes to the wanted router")


CLIENT_IPS = {c: client_address(c) for c in SUBNETS}


class RendezvousNetns(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.procs = {}

        def build(lab):
            cls.lab, cls.dir = lab, lab.dir
            cls._topology()
            cls._credentials()
            cls._daemons()
        open_lab(PREFIX, ("gw", "r1", "r2", "c1", "c2"), (DMUXD, ROUTER, DMUX_CA), build)

    @classmethod
    def tearDownClass(cls):
        cls.lab.close()

    @classmethod
    def _topology(cls):
        lab = cls.lab
        for role in lab.ns:
            lab.run(role, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1")  # IPv4-only
        lab.run("gw", "ip", "addr", "add", f"{GW_IP}/32", "dev", "lo")
        lab.run("gw", "sysctl", "-qw", "net.ipv4.ip_forward=1")
        links = [(r, gw_side, addr) for r, (gw_side, addr) in ROUTERS.items()]
        links += [(c, f"{SUBNETS[c]}.1", CLIENT_IPS[c]) for c in SUBNETS]
        for role, gw_side, addr in links:
            lab.link(role, "eth0", f"{addr}/24", "gw", f"to{role}", f"{gw_side}/24")
            lab.run(role, "ip", "route", "add", "default", "via", gw_side)

    @classmethod
    def _credentials(cls):
        cls.ca_cert, cls.cert, cls.key = cls.lab.credentials(PROVIDER_ID, "0x8001")
        cls.peer_key = cls.lab.path("peer.key")
        with open(cls.peer_key, "w") as f:
            f.write(os.urandom(32).hex() + "\n")

    @classmethod
    def _daemons(cls):
        cls.procs["gw"] = cls.lab.spawn("dmuxd", "gw", [
            DMUXD, "--listen", GATEWAY, "--workers", "1",
            "--registration-listen", f"{GW_IP}:{REG_PORT}", "--ca-cert", cls.ca_cert,
            "--keepalive-interval-ms", KEEPALIVE_MS, "--hold-time-ms", HOLD_MS,
            "--control-socket", cls.sock("gw"), "--metrics-listen", "off"])
        for r in ROUTERS:
            cls.start_router(r)
        for r in ROUTERS:
            if not wait_for(lambda: cls.registered(r), timeout=15):
                raise RuntimeError(f"{r} never registered:\n" + cls.lab.logs())
        if not wait_for(lambda: all(cls.status(r)["peers"][0]["alive"] for r in ROUTERS), 10):
            raise RuntimeError("the routers do not see each other:\n" + cls.lab.logs())

    @classmethod
    def start_router(cls, r):
        other = [o for o in ROUTERS if o != r][0]
        cls.procs[r] = cls.lab.spawn(r, r, [
            ROUTER, "--gateway", f"{GW_IP}:{REG_PORT}", "--listen", f"{ROUTERS[r][1]}:{ROUTER_PORT}",
            "--cert", cls.cert, "--key", cls.key, "--peer", f"{ROUTERS[other][1]}:{ROUTER_PORT}",
            "--peer-key", cls.peer_key, "--allow", LAB_ALLOWED, "--control", cls.sock(r),
            "--max-lifetime-s", "60"])

    @classmethod
    def sock(cls, role):
        return os.path.join(cls.dir, f"{role}.sock")

    @classmethod
    def status(cls, role):
        return unix_request(cls.sock(role), "status")

    @classmethod
    def registered(cls, r):
        try:
            return cls.status(r)["registrations"][0]["state"] == "registered"
        except (OSError, ValueError, KeyError, IndexError):
            return False

    def app(self, r):
        return self.status(r)["app"]

    # ---- the client programs -------------------------------------------------------------------

    def receiver(self, c, name, *args):
        """rv_client.py recv in client `c`'s namespace; waits until its trigger is in."""
        tag = f"{c}-{name}-{time.monotonic_ns()}"
        p = self.lab.spawn(tag, c, ["/usr/bin/python3", "-u", RV_CLIENT, "recv", "--gateway",
                                    GATEWAY, "--id", name, *args])
        self.assertTrue(wait_for(lambda: "ready" in p.read_log() or not p.alive(), 10),
                        p.read_log())
        self.assertIn("ready", p.read_log())
        return p

    def send(self, c, name, message, count=1, interval=0.1):
        self.lab.run(c, "/usr/bin/python3", RV_CLIENT, "send", "--gateway", GATEWAY, "--id", name,
                     "--message", message, "--count", count, "--interval", interval)

    @staticmethod
    def received(p):
        """(unix time, text) of each delivery a receiver printed."""
        out = []
        for line in p.read_log().splitlines():
            t, _, text = line.partition(" ")
            if t.replace(".", "").isdigit() and "." in t:
                out.append((float(t), text))
        return out

    # ---- tests ---------------------------------------------------------------------------------

    def test_a_delivery_across_routers(self):
        before = self.app("r1")
        rx = self.receiver("c2", "alice")
        self.assertTrue(wait_for(lambda: self.app("r1")["peer_entries"] > before["peer_entries"], 5),
                        "r2 did not tell r1 about the trigger")
        self.send("c1", "alice", "hello", count=3)
        self.assertTrue(wait_for(lambda: len(self.received(rx)) >= 3, 5), self.lab.logs())
        self.assertEqual([t for _, t in self.received(rx)], ["hello 0", "hello 1", "hello 2"])
        r1, r2 = self.app("r1"), self.app("r2")
        self.assertGreaterEqual(r1["sends"] - before["sends"], 3)  # c1's SENDs went to r1,
        self.assertGreaterEqual(r2["inserted"], 1)                 # c2's INSERT to r2
        self.assertGreaterEqual(r1["delivered"] - before["delivered"], 3)  # and r1 delivered
        rx.stop()

    def test_b_no_delivery_without_trigger(self):
        rx = self.receiver("c2", "bob")
        before = self.app("r1")["no_trigger"]
        self.send("c1", "nobody-inserted-this", "lost", count=3)
        self.assertTrue(wait_for(lambda: self.app("r1")["no_trigger"] >= before + 3, 5))
        time.sleep(0.3)
        self.assertEqual(self.received(rx), [])
        rx.stop()

    def test_c_trigger_expiry(self):
        # The sender runs first (8 s of sends), so that the trigger's 2 s are all covered however
        # long the programs take to start on a loaded machine.
        before = self.app("r1")["no_trigger"]
        tx = self.lab.spawn(f"c1-send-carol-{time.monotonic_ns()}", "c1", [
            "/usr/bin/python3", RV_CLIENT, "send", "--gateway", GATEWAY, "--id", "carol",
            "--message", "m", "--count", 40, "--interval", 0.2])
        self.assertTrue(wait_for(lambda: self.app("r1")["no_trigger"] > before or not tx.alive(), 15))
        rx = self.receiver("c2", "carol", "--lifetime", "2", "--no-refresh")
        inserted = time.time()
        self.assertTrue(wait_for(lambda: not tx.alive(), 20))
        unmatched = self.app("r1")["no_trigger"] - before
        got = self.received(rx)
        self.assertGreater(len(got), 0, self.lab.logs())
        self.assertLess(max(t for t, _ in got) - inserted, 2.7)  # nothing after the expiry
        self.assertTrue(wait_for(lambda: self.app("r2")["expired"] >= 1, 3))
        self.assertTrue(wait_for(lambda: self.app("r1")["expired"] >= 1, 3))
        # Sends went on after the expiry and found no trigger.
        self.assertGreater(unmatched, 0)
        self.assertLessEqual(len(got) + unmatched, 40)
        rx.stop()

    def test_d_router_death(self):
        rx = self.receiver("c2", "dave", "--lifetime", "3")
        self.send("c1", "dave", "before", count=2)
        self.assertTrue(wait_for(lambda: len(self.received(rx)) >= 2, 5), self.lab.logs())
        inserted_at_r1 = self.app("r1")["inserted"] + self.app("r1")["refreshed"]
        self.procs["r2"].stop(signal.SIGKILL)
        killed = time.time()
        # c2's refreshes reach r1 once dmuxd drops r2 (hold time); the trigger outlives its
        # original 3 s lifetime only through them.
        self.assertTrue(wait_for(lambda: self.app("r1")["inserted"] + self.app("r1")["refreshed"] >
                                 inserted_at_r1, 10), self.lab.logs())
        time.sleep(max(0.0, killed + 4.0 - time.time()))
        self.send("c1", "dave", "after", count=3)
        self.assertTrue(wait_for(lambda: sum(t.startswith("after") for _, t in self.received(rx))
                                 >= 3, 5), self.lab.logs())
        rx.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2)

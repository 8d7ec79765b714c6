"""The multi-PoP lab (deploy/lab) with real FRR, as an integration test (needs root, ~2 min):

  * client traffic and anycast registrations land at the nearest PoP;
  * ping6 works end to end from IPv4-only clients (to the IPv6 server and between the clients);
  * kill -9 of a gateway's dmuxd moves its clients to another PoP (its route dies with it);
  * kill -9 of a provider's agent moves the replies to its other router too (the provider's
    BGP at s6 follows the agent-held client-prefix route);
  * a drain loses no packet (graceful shutdown first, then withdrawal);
  * a restarted gateway re-announces the prefix and resyncs the mesh before attracting traffic;
  * unmodified multicast programs (socat, the paper-style multicast ping) on the two IPv4-only
    clients, attached through different PoPs and multicast routers, hear each other exactly once;
  * protocol version 2 holds throughout: the clients hold a return token for each protocol, and
    no router or client refused a TUNNEL or RETURN (tag, key, replay, token, destination), also
    across the gateway restart.

The lab's names are fixed (dl-*), so a lab left up by `lab.py up` is taken down first. The lab is
torn down at the end, also when a test fails.
"""
import os
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from ipdmux.gateway_harness import BUILD_DIR, main, wait_for  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(REPO, "deploy", "lab"))
from lab import Lab  # noqa: E402
import daemons as D  # noqa: E402
import report  # noqa: E402

STREAM = os.path.join(REPO, "bench", "failover", "stream.py")


def received(lab, i):
    """DATA from clients at g<i>: dmux-healthcheck's probes beside each dmuxd (an experimental
    protocol, counted under "other") move every gateway's counter 10 times a second."""
    st = lab.ctl(f"g{i}")
    return st["received_packets"] - st["protocols"]["other"]["received_packets"]


class LabTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.lab = Lab(BUILD_DIR, verbose=False)
        cls.lab.down(quiet=True)
        try:
            cls.lab.up()
        except BaseException:
            cls.lab.down(quiet=True)
            raise
        # packets a client captured before its tokens came are dropped (no_token); none after
        cls.no_token_at_start = {c: cls.lab.ctl(c)["drops"]["no_token"] for c in cls.lab.clients}

    @classmethod
    def tearDownClass(cls):
        cls.lab.down(quiet=True)

    def ping6(self, node, dst, count=3):
        r = self.lab.run(node, "ping", "-6", "-c", str(count), "-i", "0.2", "-W", "2", dst)
        return r.returncode == 0, r.stdout + r.stderr

    def assert_entry(self, node, pop, timeout=10):
        self.assertTrue(wait_for(lambda: self.lab.entry_pop(node) == pop, timeout=timeout),
                        f"{node} enters at {self.lab.entry_pop(node)}, expected {pop}")

    def test_0_clients_hold_return_tokens(self):
        for c in self.lab.clients:
            self.assertEqual(self.lab.client_tokens(c), {"ipv6": True, "ipv4-multicast": True})

    def test_1_nearest_pop_for_clients_and_registrations(self):
        self.assert_entry("c1", "g1")
        self.assert_entry("c2", "g3")
        # DATA really enters there: ping from c1 moves g1's counter, not g2's or g3's
        before = {i: received(self.lab, i) for i in (1, 2, 3)}
        ok, out = self.ping6("c1", self.lab.server_v6)
        self.assertTrue(ok, out)
        after = {i: received(self.lab, i) for i in (1, 2, 3)}
        self.assertGreaterEqual(after[1] - before[1], 3)
        self.assertEqual(after[2], before[2])
        self.assertEqual(after[3], before[3])
        # r1 registered (through the anycast address) at g1, r2 at g3; each known everywhere
        local = {}
        for i in (1, 2, 3):
            routers = self.lab.ctl(f"g{i}", "routers")["routers"]
            local[i] = sorted(r["address"] for r in routers if r["origin"] == "registered"
                              and r["protocol"] in ("ipv6", "ipv4-multicast"))  # not rendezvous
            self.assertEqual(len([r for r in routers if r["protocol"] == "ipv6"]), 2, routers)
            self.assertEqual(len([r for r in routers if r["protocol"] == "ipv4-multicast"]), 2)
        r1 = f"{self.lab.topology.router_v4('r1')}:{self.lab.topology.ROUTER_PORT}"
        r2 = f"{self.lab.topology.router_v4('r2')}:{self.lab.topology.ROUTER_PORT}"
        m1 = f"{self.lab.topology.mcast_v4('m1')}:{self.lab.topology.ROUTER_PORT}"
        m2 = f"{self.lab.topology.mcast_v4('m2')}:{self.lab.topology.ROUTER_PORT}"
        self.assertEqual(local, {1: sorted([r1, m1]), 2: [], 3: sorted([r2, m2])})

    def test_2_ping6_end_to_end(self):
        for node in ("c1", "c2"):
            ok, out = self.ping6(node, self.lab.server_v6)
            self.assertTrue(ok, out)
        c2 = self.lab.client_address("c2")
        self.assertTrue(c2)
        ok, out = self.ping6("c1", c2)
        self.assertTrue(ok, out)

    def test_3_drain_loses_no_packet(self):
        log_dir = os.path.join(self.lab.state_dir, "test-drain")
        os.makedirs(log_dir, exist_ok=True)
        sent_log, recv_log = os.path.join(log_dir, "sent"), os.path.join(log_dir, "recv")
        recv = self.lab.popen(self.lab.server, sys.executable, STREAM, "recv", "--listen",
                              "[::]:9001", "--log", recv_log)
        self.addCleanup(lambda: recv.poll() is None and (recv.terminate(), recv.wait()))
        time.sleep(0.3)
        send = self.lab.popen("c1", sys.executable, STREAM, "send", "--to",
                              f"[{self.lab.server_v6}]:9001", "--rate", "100", "--seconds", "8",
                              "--log", sent_log)
        self.addCleanup(lambda: send.poll() is None and (send.kill(), send.wait()))
        time.sleep(1.5)
        g2_before = received(self.lab, 2)
        self.assertEqual(self.lab.ctl("g1", "drain")["announce"]["state"], "draining")
        # graceful shutdown: u1 now prefers the path through u2 to g2, while g1 still forwards
        self.assert_entry("c1", "g2", timeout=5)
        self.assertTrue(wait_for(lambda: self.lab.ctl("g1")["announce"]["state"] == "drained",
                                 timeout=10))
        send.wait(timeout=20)
        time.sleep(1.0)
        recv.terminate()
        recv.wait()
        with open(sent_log) as f:
            sent = {line.split()[0] for line in f}
        with open(recv_log) as f:
            got = {line.split()[0] for line in f}
        self.assertGreater(len(sent), 700)
        self.assertEqual(sorted(sent - got, key=int), [], "datagrams lost during the drain")
        self.assertGreater(received(self.lab, 2) - g2_before, 100, "traffic did not move to g2")
        self.lab.ctl("g1", "undrain")
        self.assert_entry("c1", "g1")

    def test_4_kill_moves_clients_and_restart_reannounces_and_resyncs(self):
        self.assert_entry("c1", "g1")
        pid = D.pid_of("g1", "dmuxd")
        os.kill(pid, signal.SIGKILL)
        t0 = time.time()
        # the route died with the process: g1's FRR withdraws, u1 switches to g2
        self.assert_entry("c1", "g2", timeout=5)
        switched = time.time() - t0
        self.lab.kill_gateway(1)  # reap
        ok, out = self.ping6("c1", self.lab.server_v6)
        self.assertTrue(ok, out)
        print(f"\n  kill -9 of g1: u1 on g2's path after {switched:.2f} s", file=sys.stderr)

        # restart: g1 announces again only once healthy and synchronised with the mesh
        self.lab.start_gateway(1)
        self.assert_entry("c1", "g1", timeout=20)
        routers = self.lab.ctl("g1", "routers")["routers"]
        self.assertEqual(len([r for r in routers if r["protocol"] == "ipv6"]), 2, routers)
        with open(os.path.join(D.node_dir("g1"), "dmuxd.log")) as f:
            log = f.read()
        synced, announced = log.rfind("mesh synchronised"), log.rfind("metric 100 (announced)")
        self.assertGreater(synced, 0, log[-2000:])
        self.assertGreater(announced, synced, "announced before the mesh was synchronised")
        before = received(self.lab, 1)
        ok, out = self.ping6("c1", self.lab.server_v6)
        self.assertTrue(ok, out)
        self.assertGreaterEqual(received(self.lab, 1) - before, 3)

    def test_5_multicast_between_clients_at_different_pops(self):
        g1, _ = self.lab.topology.MCAST_GROUPS
        lines = report.socat_exchange(self.lab, "c1", "c2", g1)
        self.assertEqual(lines, [f"hello {g1} from c1"] * 3)  # each line exactly once
        m1, m2 = (self.lab.ctl(m) for m in ("m1", "m2"))
        self.assertGreaterEqual(m1["forwarded"], 3, "m1 did not pass c1's packets to m2")
        self.assertGreaterEqual(m2["from_peers"], 3)
        res = report.mping(self.lab, "c1", "c2", 10)
        self.assertGreaterEqual(res["received"], 9, res)
        self.assertEqual(res["duplicates"], 0, res)
        print(f"\n  mping c1 <-> c2: p50 {res['p50_ms']:.2f} ms", file=sys.stderr)

    def test_6_router_crash_fails_over_both_directions(self):
        """kill -9 of r1's agent: r1's FRR withdraws the client prefix it held (the route died
        with the agent's TUN device), s6 routes replies to r2; c1 <-> s6 works both ways; r1's
        restart takes the replies back."""
        self.assertEqual(self.lab.return_router(), "r1")
        os.kill(D.pid_of("r1", "provider"), signal.SIGKILL)
        t0 = time.time()
        self.assertTrue(wait_for(lambda: self.lab.return_router() == "r2", timeout=5),
                        f"s6 routes replies to {self.lab.return_router()}")
        moved = time.time() - t0
        self.lab.stop_router("r1")  # reap
        ok, out = self.ping6("c1", self.lab.server_v6)
        self.assertTrue(ok, out)
        ok, out = self.ping6(self.lab.server, self.lab.client_address("c1"))
        self.assertTrue(ok, out)
        print(f"\n  kill -9 of r1's agent: s6 routes replies to r2 after {moved:.2f} s",
              file=sys.stderr)
        self.lab.start_router("r1")
        self.assertTrue(wait_for(lambda: self.lab.return_router() == "r1", timeout=20))
        ok, out = self.ping6("c1", self.lab.server_v6)
        self.assertTrue(ok, out)

    def test_7_nothing_refused_by_the_v2_checks(self):
        """Runs last: over everything above, no TUNNEL failed its tag, key or replay check at a
        router, no router refused a client or a destination, no client refused a RETURN."""
        checks = ("unknown_key", "bad_tag", "replayed", "unproven", "forbidden_destination",
                  "wrong_provider")
        for node in self.lab.routers + self.lab.topology.MCAST_ROUTERS:
            drops = self.lab.ctl(node)["drops"]
            self.assertEqual({k: drops[k] for k in checks}, dict.fromkeys(checks, 0), node)
        for c in self.lab.clients:
            drops = self.lab.ctl(c)["drops"]
            self.assertEqual(drops["bad_token"], 0, c)
            self.assertEqual(drops["no_token"], self.no_token_at_start[c], c)


if __name__ == "__main__":
    main()

"""dmuxd's announcement of the dmux-prefix, for real, in a network namespace (needs root): the
kernel route FRR redistributes appears only after `rise` good health samples, moves to the drain
metric on `dmuxctl drain`, disappears after the drain period, comes back on `undrain`; SIGTERM
drains before exiting; SIGKILL removes it at once (the TUN device dies with the process); and
the systemd notify protocol (READY=1, WATCHDOG=1, STOPPING=1) is spoken on a real NOTIFY_SOCKET,
with the watchdog pings stopping while the process is stopped (SIGSTOP), which is how systemd
catches a hang. FRR itself is exercised by tests/integration/test_lab.py.
"""
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pylib"))
from ipdmux.gateway_harness import DMUXCTL, DMUXD, main, wait_for  # noqa: E402
from ipdmux import proc  # noqa: E402

NS = f"dmuxt-{os.getpid()}-announce"
PREFIX = "198.18.0.0/24"


def sh(*args):
    """The output of a command that must succeed (ipdmux.proc.sh)."""
    return proc.sh(*args).stdout


def routes():
    """The dmux-prefix routes in the namespace, as {metric: device}."""
    out = {}
    for line in sh("ip", "-n", NS, "-4", "route", "show", PREFIX).splitlines():
        f = line.split()
        out[int(f[f.index("metric") + 1]) if "metric" in f else 0] = f[f.index("dev") + 1]
    return out


class AnnounceTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        subprocess.run(["ip", "netns", "del", NS], capture_output=True)
        sh("ip", "netns", "add", NS)
        sh("ip", "-n", NS, "link", "set", "lo", "up")
        sh("ip", "-n", NS, "addr", "add", "198.18.0.1/32", "dev", "lo")
        cls.tmp = tempfile.TemporaryDirectory(prefix="dmux-announce-")

    @classmethod
    def tearDownClass(cls):
        subprocess.run(["ip", "netns", "del", NS], capture_output=True)
        cls.tmp.cleanup()

    def start(self, *extra, env=None, metrics="off"):
        sock = os.path.join(self.tmp.name, "dmuxd.sock")
        log = open(os.path.join(self.tmp.name, "dmuxd.log"), "w")
        self.addCleanup(log.close)
        p = subprocess.Popen(
            ["ip", "netns", "exec", NS, DMUXD, "--listen", "198.18.0.1:4789", "--workers", "1",
             "--announce-prefix", PREFIX, "--health-interval-ms", "100", "--health-rise", "3",
             "--drain-withdraw-ms", "1500", "--control-socket", sock, "--metrics-listen", metrics,
             *extra],
            stdout=log, stderr=subprocess.STDOUT, env=env)
        self.addCleanup(self.stop, p)
        self.sock = sock
        return p

    @staticmethod
    def stop(p):
        if p.poll() is None:
            p.send_signal(signal.SIGCONT)
            p.kill()
            p.wait()

    def log(self):
        with open(os.path.join(self.tmp.name, "dmuxd.log")) as f:
            return f.read()

    def ctl(self, command):
        return subprocess.run([DMUXCTL, "--socket", self.sock, "--json", command],
                              capture_output=True, text=True, check=True).stdout

    def test_rise_drain_undrain_and_graceful_sigterm(self):
        t0 = time.monotonic()
        p = self.start()
        self.assertTrue(wait_for(lambda: routes() == {100: "dmuxa0"}, timeout=5), routes())
        # rise 3 at 100 ms: not before ~0.3 s
        self.assertGreater(time.monotonic() - t0, 0.25)
        self.assertIn('"state": "announced"', self.ctl("status"))

        self.assertIn('"state": "draining"', self.ctl("drain"))
        self.assertEqual(routes(), {1000: "dmuxa0"})  # make before break: never without a route
        self.assertTrue(wait_for(lambda: routes() == {}, timeout=5))
        self.assertIn('"state": "drained"', self.ctl("status"))
        self.ctl("undrain")
        self.assertEqual(routes(), {100: "dmuxa0"})

        # SIGTERM: graceful shutdown first, withdrawal, then exit
        p.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        self.assertIsNone(p.poll(), "exited before the drain period")
        self.assertEqual(routes(), {1000: "dmuxa0"})
        p.wait(timeout=5)
        self.assertEqual(p.returncode, 0)
        self.assertEqual(routes(), {})
        self.assertNotIn("dmuxa0", sh("ip", "-n", NS, "link"))

    def test_metrics_lint_clean(self):
        self.start(metrics="127.0.0.1:9750")
        self.assertTrue(wait_for(lambda: routes() == {100: "dmuxa0"}, timeout=5), self.log())
        text = sh("ip", "netns", "exec", NS, "curl", "-sf", "http://127.0.0.1:9750/metrics")
        self.assertIn('dmux_gateway_announce_state{state="announced"} 1', text)
        self.assertIn("dmux_gateway_healthy 1", text)
        r = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                           text=True)
        ours = [line for line in (r.stdout + r.stderr).splitlines() if "dmux_" in line]
        self.assertEqual(ours, [], "\n".join(ours))

    def test_sigkill_withdraws_at_once(self):
        p = self.start()
        self.assertTrue(wait_for(lambda: routes() == {100: "dmuxa0"}, timeout=5))
        p.kill()
        p.wait()
        self.assertTrue(wait_for(lambda: routes() == {}, timeout=1), routes())
        self.assertNotIn("dmuxa0", sh("ip", "-n", NS, "link"))

    def test_second_sigterm_exits_at_once(self):
        p = self.start()
        self.assertTrue(wait_for(lambda: routes() == {100: "dmuxa0"}, timeout=5))
        p.send_signal(signal.SIGTERM)
        time.sleep(0.2)
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=1)
        self.assertEqual(routes(), {})

    def test_systemd_notify_and_watchdog(self):
        path = os.path.join(self.tmp.name, "notify.sock")
        server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        server.bind(path)
        self.addCleanup(server.close)
        env = dict(os.environ, NOTIFY_SOCKET=path, WATCHDOG_USEC="300000")
        p = self.start(env=env)

        def messages(duration):
            server.settimeout(0.05)
            got, end = [], time.monotonic() + duration
            while time.monotonic() < end:
                try:
                    got.append(server.recv(4096).decode())
                except socket.timeout:
                    pass
            return got

        first = messages(1.0)
        self.assertTrue(any("READY=1" in m for m in first), first)
        pings = [m for m in first if m == "WATCHDOG=1"]
        self.assertGreaterEqual(len(pings), 3, first)  # every 100 ms (a third of 300 ms)

        os.kill(p.pid, signal.SIGSTOP)  # a hang: no pings, so systemd would kill and restart us
        messages(0.1)
        self.assertEqual([m for m in messages(0.8) if m == "WATCHDOG=1"], [])
        self.assertEqual(routes(), {100: "dmuxa0"})  # why the watchdog is needed
        os.kill(p.pid, signal.SIGCONT)
        self.assertTrue(any(m == "WATCHDOG=1" for m in messages(1.0)))

        p.send_signal(signal.SIGINT)
        p.wait(timeout=5)
        self.assertTrue(any("STOPPING=1" in m for m in messages(0.2)))
        self.assertEqual(routes(), {})


if __name__ == "__main__":
    main()

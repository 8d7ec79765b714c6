"""dmuxctl status/routers (human and --json) and the Prometheus endpoint of a real dmuxd."""
import os
import re
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from ipdmux.gateway_harness import DMUXCTL, REPO, Client, Dmuxd, free_udp_port, main, wait_for  # noqa: E402

from ipdmux.gateway_router import KeyedRouter, write_key_file  # noqa: E402

NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")


class ControlAndMetrics(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.router = KeyedRouter()
        cls.port = free_udp_port()
        # A second static router that never gets traffic; it needs a key file all the same.
        cls.other_key = os.path.join(cls.router.dir, "other.key")
        write_key_file(cls.other_key, bytes(32))
        cls.d = Dmuxd(["--listen", f"127.0.0.1:{cls.port}", "--gateway-id", "198.18.0.9",
                       "--static-router", cls.router.static_router("ipv6", 7),
                       "--static-router", f"ipv4-multicast 9 198.18.9.9:6000 {cls.other_key}"])
        c = Client()
        for _ in range(5):
            c.send(("127.0.0.1", cls.port), b"\x60" * 100, provider=7)
        c.sock.sendto(b"\x07junk", ("127.0.0.1", cls.port))
        c.close()
        wait_for(lambda: cls.d.ctl("status")["received_packets"] == 6)

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        cls.router.close()

    def test_status_json(self):
        s = self.d.ctl("status")
        self.assertEqual(s["gateway_id"], "198.18.0.9")
        self.assertEqual(s["listen"], [f"127.0.0.1:{self.port}"])
        self.assertEqual(s["routers_known"], 2)
        self.assertEqual(s["protocols"]["ipv6"]["received_packets"], 5)
        self.assertEqual(s["protocols"]["ipv6"]["received_bytes"], 5 * 120)
        self.assertEqual(s["protocols"]["ipv6"]["forwarded_packets"], 5)
        self.assertEqual(s["protocols"]["ipv6"]["forwarded_bytes"], 5 * (56 + 100))
        self.assertEqual(s["routers_without_key"], 0)
        self.assertEqual(s["drops"]["unsupported_version"], 1)
        self.assertEqual(s["workers"], 2)

    def test_status_human(self):
        out = self.d.ctl("status", json_out=False)
        self.assertIn("gateway 198.18.0.9", out)
        self.assertIn("routers known: 2", out)
        self.assertIn("unsupported_version=1", out)

    def test_routers(self):
        r = self.d.ctl("routers")["routers"]
        self.assertEqual({(x["protocol"], x["provider_id"], x["address"], x["origin"], x["state"],
                           x["key_id"]) for x in r},
                         {("ipv6", 7, self.router.endpoint, "static", "up", 0),
                          ("ipv4-multicast", 9, "198.18.9.9:6000", "static", "up", 0)})
        human = self.d.ctl("routers", json_out=False)
        self.assertIn("198.18.9.9:6000", human)

    def test_dmuxctl_errors(self):
        r = subprocess.run([DMUXCTL, "--socket", "/nonexistent/x.sock", "status"],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 1)
        self.assertIn("is dmuxd running", r.stderr)
        r = subprocess.run([DMUXCTL, "--socket", self.d.control, "frobnicate"],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)
        self.assertIn("unknown command", r.stderr)
        r = subprocess.run([DMUXCTL, "--help"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0)
        self.assertIn("routers", r.stdout)

    def test_metrics_values_and_naming(self):
        text = self.d.metrics()
        self.assertIn('dmux_gateway_received_packets_total{protocol="ipv6"} 5', text)
        self.assertIn('dmux_gateway_forwarded_bytes_total{protocol="ipv6"} 780', text)
        self.assertIn("dmux_gateway_routers_without_key 0", text)
        self.assertIn('dmux_gateway_dropped_packets_total{reason="unsupported_version"} 1', text)
        self.assertIn('dmux_gateway_routers{origin="static",protocol="ipv6"} 1', text)
        types = dict(re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M))
        for name, kind in types.items():
            if not name.startswith("dmux_"):
                continue
            self.assertRegex(name, NAME)
            if kind == "counter":
                self.assertTrue(name.endswith("_total"), name)
            else:
                self.assertFalse(name.endswith("_total"), name)

    def test_promtool_lints_metrics_and_rules(self):
        metrics = self.d.metrics()
        r = subprocess.run(["promtool", "check", "metrics"], input=metrics, capture_output=True,
                           text=True)
        # promtool also lints prometheus-cpp's own exposer_* metrics; judge only ours.
        ours = [line for line in (r.stdout + r.stderr).splitlines() if "dmux_" in line]
        self.assertEqual(ours, [], "\n".join(ours))
        rules = os.path.join(REPO, "dashboards", "prometheus-rules.yml")
        r = subprocess.run(["promtool", "check", "rules", rules], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_metrics_listen_on_loopback_by_default(self):
        # The default endpoint is documented as 127.0.0.1:9750; check the parsed default.
        out = subprocess.run([os.path.join(os.path.dirname(DMUXCTL), "..", "gateway", "dmuxd"),
                              "--help"], capture_output=True, text=True).stdout
        self.assertIn("127.0.0.1:9750", out)


if __name__ == "__main__":
    main()

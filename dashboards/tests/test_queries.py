"""Every PromQL expression in dashboards/ (Grafana panels and variables, alert and recording
rules) parses (promtool) and reads only metrics the daemons really export, scraped live from a
real dmuxd pair (mesh, registration, announcement), dmux-provider, dmux-mcast and dmux-client in
a namespace of this test's own. While they run, dmuxctl renders each one's status without --json
and the --control-group option hands each control socket to the group.

Needs root (namespace, TUN devices, iptables). Cleans up its namespace and processes."""
import grp
import re
import os
import shutil
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "pylib"))
sys.path.insert(0, HERE)

from ipdmux.ca import TestCa  # noqa: E402
from ipdmux.client_lab import NsProcess, delete_namespace, sh, wait_for  # noqa: E402
from ipdmux import control  # noqa: E402
import promql_names  # noqa: E402

BUILD = os.environ.get("DMUX_BUILD_DIR", os.path.join(HERE, "..", "..", "build"))
NS = "o15-metrics"
GROUP = "nogroup"  # any existing group: the daemons run as root here
# Names no daemon exports: Prometheus' own, and the recording rules' outputs.
EXTERNAL = {"up"}


def binary(*parts):
    return os.path.join(BUILD, *parts)


def scrape(port):
    """The metric names of one /metrics page (TYPE lines and samples), fetched inside NS."""
    text = sh("curl", "-sf", f"http://127.0.0.1:{port}/metrics", ns=NS).stdout
    names = set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            names.add(line.split()[2])
        elif line and not line.startswith("#"):
            names.add(line.split("{")[0].split()[0])
    return text, names


class Fleet:
    """Two meshed gateways, an IPv6 provider agent, a multicast router and a client in NS."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="o15-metrics-")
        self.procs = []
        self.ca = TestCa(BUILD, prefix="o15-ca-")
        delete_namespace(NS)
        sh("ip", "netns", "add", NS)
        sh("ip", "link", "set", "lo", "up", ns=NS)
        for a in ("198.18.0.1", "198.18.0.2", "198.18.2.2", "198.18.3.2"):
            sh("ip", "addr", "add", f"{a}/32", "dev", "lo", ns=NS)
        self.sockets = {}

    def start(self, name, cmd):
        p = NsProcess(name, NS, cmd, self.dir)
        self.procs.append(p)
        return p

    def gateway(self, name, addr, metrics_port, peer=None):
        cert, key = self.ca.gateway(name, addr)
        sock = os.path.join(self.dir, f"{name}.sock")
        self.sockets[name] = sock
        cmd = [binary("gateway", "dmuxd"), "--listen", f"{addr}:4500", "--gateway-id", addr,
               "--workers", "1", "--registration-listen", f"{addr}:4501",
               "--ca-cert", self.ca.ca_cert, "--mesh-listen", f"{addr}:4600",
               "--mesh-cert", cert, "--mesh-key", key, "--metrics-listen",
               f"127.0.0.1:{metrics_port}", "--control-socket", sock, "--control-group", GROUP,
               "--announce-prefix", f"198.18.{100 + len(self.sockets)}.0/24",
               "--announce-device", f"o15a{len(self.sockets)}", "--keepalive-interval-ms", "500",
               "--hold-time-ms", "2000"]
        if peer:
            cmd += ["--mesh-peer", f"{peer}:4600"]
        return self.start(name, cmd)

    def config_file(self, name, lines):
        path = os.path.join(self.dir, f"{name}.conf")
        with open(path, "w") as f:
            f.write("\n".join(f"{k} = {v}" for k, v in lines) + "\n")
        return path

    def provider(self):
        creds = self.ca.provider("prov", provider_id=7, protocols="ipv6")
        sock = os.path.join(self.dir, "provider.sock")
        self.sockets["provider"] = sock
        conf = self.config_file("provider", [
            ("gateway", "198.18.0.1:4501"), ("listen", "198.18.2.2:5000"), ("cert", creds.cert),
            ("key", creds.key_path), ("client-prefix", "2001:db8:7::/48"), ("tun", "o15p0"),
            ("control-socket", sock), ("control-group", GROUP),
            ("metrics-listen", "127.0.0.1:19752")])
        return self.start("provider", [binary("provider", "dmux-provider"), "--config", conf])

    def mcast(self):
        creds = self.ca.provider("mcast", provider_id=9, protocols="ipv4-multicast")
        peer_key = os.path.join(self.dir, "peer.key")
        with open(peer_key, "w") as f:
            f.write("00112233445566778899aabbccddeeff\n")
        sock = os.path.join(self.dir, "mcast.sock")
        self.sockets["mcast"] = sock
        conf = self.config_file("mcast", [
            ("gateway", "198.18.0.2:4501"), ("listen", "198.18.3.2:5000"), ("cert", creds.cert),
            ("key", creds.key_path), ("peer", "198.18.4.2:5000"), ("peer-key", peer_key),
            ("control-socket", sock), ("control-group", GROUP),
            ("metrics-listen", "127.0.0.1:19753")])
        return self.start("mcast", [binary("multicast", "dmux-mcast"), "--config", conf])

    def client(self):
        sock = os.path.join(self.dir, "client.sock")
        self.sockets["client"] = sock
        return self.start("client", [
            binary("client", "dmux-client"), "--gateway", "198.18.0.1:4500",
            "--capture", "ipv6", "--tun", "o15c0", "--chain", "O15-CLIENT", "--phase-out", "off",
            "--control-socket", sock, "--control-group", GROUP,
            "--metrics-listen", "127.0.0.1:19754"])

    def close(self):
        for p in reversed(self.procs):
            p.stop()
        delete_namespace(NS)
        self.ca.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class QueriesTest(unittest.TestCase):
    def test_every_expression_parses(self):
        problem = promql_names.check_syntax(promql_names.all_queries())
        self.assertIsNone(problem, problem)

    def test_every_metric_is_exported_by_a_daemon(self):
        if os.geteuid() != 0:
            self.skipTest("needs root")
        fleet = Fleet()
        try:
            self.run_fleet(fleet)
        except BaseException:
            for p in fleet.procs:
                print(f"--- {p.name}.log\n{p.read_log()[-3000:]}", file=sys.stderr)
            raise
        finally:
            fleet.close()

    def run_fleet(self, fleet):
        daemons = {
            "g1": (fleet.gateway("g1", "198.18.0.1", 19750), 19750),
            "g2": (fleet.gateway("g2", "198.18.0.2", 19751, peer="198.18.0.1"), 19751),
            "provider": (fleet.provider(), 19752),
            "mcast": (fleet.mcast(), 19753),
            "client": (fleet.client(), 19754),
        }
        for name, (proc, _) in daemons.items():
            self.assertTrue(wait_for(lambda: not proc.alive() or os.path.exists(fleet.sockets[name]),
                                     timeout=15), name)
            self.assertTrue(proc.alive(), f"{name} exited:\n{proc.read_log()}")
        # Both agents registered, the gateways meshed: every family has its samples.
        def registered(sock):
            regs = control.command(sock, "status").get("registrations", [])
            return bool(regs) and all(r["state"] == "registered" for r in regs)
        self.assertTrue(wait_for(lambda: registered(fleet.sockets["provider"]), timeout=20))
        self.assertTrue(wait_for(lambda: registered(fleet.sockets["mcast"]), timeout=20))
        self.assertTrue(wait_for(lambda: control.command(fleet.sockets["g2"], "peers")
                                 .get("peers", [{}])[0].get("state") == "up", timeout=20))
        time.sleep(1.5)  # agents publish their metrics once a second

        exported = set()
        pages = {}
        for name, (_, port) in daemons.items():
            pages[name], names = scrape(port)
            self.assertIn("dmux_build_info", names, name)
            exported |= names
        self.check_names(exported)
        self.check_zero_series(pages)
        self.check_status_rendering(fleet)
        gid = grp.getgrnam(GROUP).gr_gid
        for name, sock in fleet.sockets.items():
            self.assertEqual(os.stat(sock).st_gid, gid, f"{name}: --control-group")

    def check_names(self, exported):
        recorded = {rec for _, _, rec in promql_names.rules() if rec}
        missing = []
        for where, expr in promql_names.all_queries():
            for name in promql_names.metric_names(promql_names.substitute(expr)):
                if name not in exported and name not in recorded and name not in EXTERNAL:
                    missing.append(f"{where}: {name}")
        self.assertEqual(missing, [], "expressions name metrics no daemon exports")

    def check_zero_series(self, pages):
        g1 = pages["g1"]
        # A protocol without routers is a series at 0, never a missing one.
        self.assertIn('dmux_gateway_routers{origin="static",protocol="ipv4-multicast"} 0', g1)
        self.assertIn('dmux_config_last_reload_successful{daemon="dmuxd"} 1', g1)
        self.assertTrue(re.search(r'dmux_certificate_expiry_timestamp_seconds\{daemon="dmuxd",'
                                  r'certificate="mesh"\} [0-9.e+]+', g1), "mesh certificate expiry")
        self.assertIn('dmux_provider_registered{protocol="ipv6"} 1', pages["provider"])
        self.assertIn('dmux_mcast_peer_up{peer="198.18.4.2:5000"} 0', pages["mcast"])

    def check_status_rendering(self, fleet):
        ctl = binary("dmuxctl", "dmuxctl")
        expect = {"g1": "gateway 198.18.0.1", "g2": "gateway 198.18.0.2",
                  "provider": "provider 7  (dmux-provider", "mcast": "multicast router of provider 9",
                  "client": "client "}
        for name, sock in fleet.sockets.items():
            r = sh(ctl, "--socket", sock, "status", check=False)
            self.assertEqual(r.returncode, 0, f"dmuxctl status {name}: {r.stderr}")
            self.assertIn(expect[name], r.stdout, name)
            self.assertIn("dropped packets" if name not in ("g1", "g2") else "drops:", r.stdout)


if __name__ == "__main__":
    unittest.main()

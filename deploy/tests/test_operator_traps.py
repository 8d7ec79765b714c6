"""What an operator meets first, against the real programs: --version everywhere (the release
from CMakeLists.txt), stray arguments refused, a second dmuxd on a data port already taken
refuses to start and names the address, a metrics port in use is named, and a reload with a bad
file is refused and shows in dmux_config_last_reload_successful.

Runs on loopback (dmuxd, dmux-mcast) and in a namespace of its own (dmux-provider and
dmux-client need TUN devices). Cleans up its processes, namespace and files."""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
sys.path.insert(0, os.path.join(ROOT, "tests", "pylib"))

from ipdmux.ca import TestCa  # noqa: E402
from ipdmux.client_lab import delete_namespace, sh, wait_for  # noqa: E402

BUILD = os.environ.get("DMUX_BUILD_DIR", os.path.join(ROOT, "build"))
NS = "o15-traps"
PROGRAMS = {
    "dmuxd": "gateway/dmuxd", "dmux-provider": "provider/dmux-provider",
    "dmux-mcast": "multicast/dmux-mcast", "dmux-client": "client/dmux-client",
    "dmuxctl": "dmuxctl/dmuxctl", "dmux-ca": "tools/ca/dmux-ca",
    "dmux-loadgen": "tools/loadgen/dmux-loadgen",
}


def binary(name):
    return os.path.join(BUILD, PROGRAMS[name])


def project_version():
    with open(os.path.join(ROOT, "CMakeLists.txt")) as f:
        return re.search(r"project\(\s*ipdmux\s+VERSION\s+([0-9.]+)", f.read()).group(1)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_tcp_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(cmd, ns=None, timeout=20):
    full = (["ip", "netns", "exec", ns] if ns else []) + [str(c) for c in cmd]
    return subprocess.run(full, capture_output=True, text=True, timeout=timeout)


class Daemon:
    def __init__(self, cmd, log, ns=None):
        self.log = log
        full = (["ip", "netns", "exec", ns] if ns else []) + [str(c) for c in cmd]
        with open(log, "w") as f:
            self.proc = subprocess.Popen(full, stdout=f, stderr=subprocess.STDOUT)

    def text(self):
        with open(self.log) as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class OperatorTraps(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="o15-traps-")
        cls.ca = TestCa(BUILD, prefix="o15-traps-ca-")
        cls.daemons = []

    @classmethod
    def tearDownClass(cls):
        for d in cls.daemons:
            d.stop()
        delete_namespace(NS)
        cls.ca.close()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def start(self, cmd, name, ns=None):
        d = Daemon(cmd, os.path.join(self.dir, name + ".log"), ns)
        self.daemons.append(d)
        return d

    def test_version_everywhere(self):
        want = project_version()
        for name in PROGRAMS:
            r = run([binary(name), "--version"])
            self.assertEqual(r.returncode, 0, f"{name}: {r.stderr}")
            self.assertEqual(r.stdout.strip(), f"{name} {want} (IPdmux wire protocol version 2)")

    def test_stray_arguments_refused(self):
        cases = {
            "dmuxd": ["--listen", "127.0.0.1:4500", "--check-config", "stray"],
            "dmux-provider": ["--check-config", "stray"],
            "dmux-mcast": ["--check-config", "stray"],
            "dmux-client": ["--gateway", "198.18.0.1:4500", "--check-config", "stray"],
            "dmuxctl": ["status", "stray"],
            "dmux-ca": ["show", "a.crt", "stray"],
            "dmux-loadgen": ["sink", "stray"],
        }
        for name, args in cases.items():
            r = run([binary(name)] + args)
            self.assertEqual(r.returncode, 2, f"{name} accepted a stray argument: {r.stdout}")
            self.assertIn("stray" if name not in ("dmuxctl", "dmux-ca") else "", r.stderr, name)

    def test_second_dmuxd_on_a_taken_data_port_refuses(self):
        port = free_port()
        first = self.start([binary("dmuxd"), "--listen", f"127.0.0.1:{port}", "--workers", "2",
                            "--metrics-listen", "off", "--control-socket",
                            os.path.join(self.dir, "first.sock")], "first")
        self.assertTrue(wait_for(lambda: os.path.exists(os.path.join(self.dir, "first.sock")), 10),
                        first.text())
        r = run([binary("dmuxd"), "--listen", f"127.0.0.1:{port}", "--metrics-listen", "off",
                 "--control-socket", os.path.join(self.dir, "second.sock")])
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn(f"listen 127.0.0.1:{port} is in use", r.stderr)
        self.assertIsNone(first.proc.poll(), "the first dmuxd must keep running")

    def test_metrics_port_in_use_is_named(self):
        with socket.socket() as taken:
            taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            r = run([binary("dmuxd"), "--listen", f"127.0.0.1:{free_port()}", "--metrics-listen",
                     f"127.0.0.1:{port}", "--control-socket", os.path.join(self.dir, "m.sock")])
            self.assertNotEqual(r.returncode, 0)
            self.assertIn(f"127.0.0.1:{port}", r.stderr, "dmuxd")
            creds = self.ca.provider("traps-mc", provider_id=9, protocols="ipv4-multicast")
            r = run([binary("dmux-mcast"), "--gateway", "127.0.0.1:4501", "--listen",
                     f"127.0.0.1:{free_port()}", "--cert", creds.cert, "--key", creds.key_path,
                     "--metrics-listen", f"127.0.0.1:{port}"])
            self.assertNotEqual(r.returncode, 0)
            self.assertIn(f"127.0.0.1:{port}", r.stderr, "dmux-mcast")
        if os.geteuid() != 0:
            return
        # dmux-provider and dmux-client make TUN devices: in a namespace of our own.
        delete_namespace(NS)
        sh("ip", "netns", "add", NS)
        sh("ip", "link", "set", "lo", "up", ns=NS)
        holder = self.start(["python3", "-c", "import socket,time;s=socket.socket();"
                             "s.bind(('127.0.0.1',19999));s.listen();time.sleep(60)"], "holder", NS)
        self.assertTrue(wait_for(lambda: "19999" in run(["ss", "-ltn"], ns=NS).stdout, 5))
        creds = self.ca.provider("traps-p", provider_id=7, protocols="ipv6")
        r = run([binary("dmux-provider"), "--gateway", "127.0.0.1:4501", "--listen",
                 "127.0.0.1:5000", "--cert", creds.cert, "--key", creds.key_path,
                 "--client-prefix", "2001:db8:7::/48", "--tun", "o15t0",
                 "--metrics-listen", "127.0.0.1:19999"], ns=NS)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("127.0.0.1:19999", r.stderr, "dmux-provider")
        r = run([binary("dmux-client"), "--gateway", "198.18.0.1:4500", "--tun", "o15t1",
                 "--chain", "O15-TRAPS", "--metrics-listen", "127.0.0.1:19999"], ns=NS)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("127.0.0.1:19999", r.stderr, "dmux-client")
        holder.stop()

    def test_reload_with_a_bad_file_is_refused_and_visible(self):
        conf = os.path.join(self.dir, "dmuxd.conf")
        metrics = free_tcp_port()
        good = (f"listen = 127.0.0.1:{free_port()}\nworkers = 1\nmetrics-listen = 127.0.0.1:{metrics}\n"
                f"control-socket = {os.path.join(self.dir, 'reload.sock')}\n")
        with open(conf, "w") as f:
            f.write(good)
        d = self.start([binary("dmuxd"), "--config", conf], "reload")

        def page():
            try:
                return urllib.request.urlopen(f"http://127.0.0.1:{metrics}/metrics", timeout=2).read().decode()
            except OSError:
                return ""
        self.assertTrue(wait_for(lambda: "dmux_build_info" in page(), 10), d.text())
        self.assertIn('dmux_config_last_reload_successful{daemon="dmuxd"} 1', page())
        with open(conf, "a") as f:
            f.write("static-router = ipv6 7 198.18.2.2:5000 /nonexistent/key\n")
        # What the unit's ExecReload runs first: the check fails, so systemctl reload fails.
        self.assertEqual(run([binary("dmuxd"), "--config", conf, "--check-config"]).returncode, 2)
        d.proc.send_signal(signal.SIGHUP)  # and if someone signals anyway, it is refused
        self.assertTrue(wait_for(lambda: 'dmux_config_last_reload_successful{daemon="dmuxd"} 0'
                                 in page(), 5), d.text())
        self.assertIn('dmux_config_reload_failures_total{daemon="dmuxd"} 1', page())
        with open(conf, "w") as f:
            f.write(good)
        d.proc.send_signal(signal.SIGHUP)
        self.assertTrue(wait_for(lambda: 'dmux_config_last_reload_successful{daemon="dmuxd"} 1'
                                 in page(), 5), d.text())
        d.stop()


if __name__ == "__main__":
    unittest.main()

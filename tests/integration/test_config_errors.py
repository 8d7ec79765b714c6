"""Bad command lines and config files: one line on stderr naming the option, non-zero exit.
Start-up failures (port in use, control socket in use) are reported clearly too. A static router
needs a key file: without one, or with a bad one, dmuxd says why and how to make one."""
import os
import socket
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pylib"))
from ipdmux.gateway_harness import DMUXD, REPO, Dmuxd, free_udp_port, main


def run(*args):
    return subprocess.run([DMUXD, *args], capture_output=True, text=True, timeout=10)


class ConfigErrors(unittest.TestCase):
    def assert_one_line_error(self, r, option, code=2):
        self.assertEqual(r.returncode, code, r.stderr)
        lines = r.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertTrue(lines[0].startswith(f"dmuxd: error: --{option}:"), lines[0])

    def test_bad_options_name_themselves(self):
        cases = [
            ((), "listen"),
            (("--listen", "198.18.0.1"), "listen"),
            (("--listen", "127.0.0.1:4500", "--workers", "many"), "workers"),
            (("--listen", "127.0.0.1:4500", "--static-router", "ipv6 seven 198.18.2.2:5000 /dev/null"), "static-router"),
            (("--listen", "127.0.0.1:4500", "--tunnel-source", "nowhere"), "tunnel-source"),
            (("--listen", "127.0.0.1:4500", "--no-such-option"), "no-such-option"),
            (("--listen", "127.0.0.1:4500", "--config", "/nonexistent.conf"), "config"),
        ]
        for args, option in cases:
            with self.subTest(args=args):
                self.assert_one_line_error(run(*args), option)

    def test_bad_config_file(self):
        with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as f:
            f.write("listen = 127.0.0.1:4500\nstatic-router = ipv6 7\n")
        try:
            self.assert_one_line_error(run("--config", f.name), "static-router")
        finally:
            os.unlink(f.name)

    def test_static_router_without_a_usable_key_file(self):
        with tempfile.TemporaryDirectory(prefix="dmuxd-keytest-") as d:
            bad = os.path.join(d, "bad.key")
            with open(bad, "w") as f:
                f.write("00" * 31 + "\n")  # 31 bytes
            missing = os.path.join(d, "missing.key")
            r = run("--listen", "127.0.0.1:4500", "--static-router", "ipv6 7 198.18.2.2:5000")
            self.assert_one_line_error(r, "static-router")
            for word in ("authenticated", "dmux-provider --static-tunnel-key",
                         "openssl rand -hex 32"):
                self.assertIn(word, r.stderr)
            for path in (bad, missing):
                with self.subTest(path=path):
                    r = run("--listen", "127.0.0.1:4500", "--static-router",
                            f"ipv6 7 198.18.2.2:5000 {path}")
                    self.assert_one_line_error(r, "static-router")
                    self.assertIn(path, r.stderr)

    def test_example_config_checks(self):
        example = os.path.join(REPO, "deploy", "dmuxd.conf")
        r = run("--config", example, "--check-config")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("config OK", r.stdout)
        # Its commented static routers work once their key files exist.
        with tempfile.TemporaryDirectory(prefix="dmuxd-example-") as d:
            key = os.path.join(d, "r.tunnel-key")
            with open(key, "w") as f:
                f.write(os.urandom(32).hex() + "\n")
            lines = []
            with open(example) as f:
                for line in f:
                    if line.startswith("# static-router = "):
                        fields = line[len("# "):].split()
                        line = " ".join(fields[:-1] + [key]) + "\n"
                    lines.append(line)
            conf = os.path.join(d, "dmuxd.conf")
            with open(conf, "w") as f:
                f.writelines(lines)
            r = run("--config", conf, "--check-config")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("2 static routers", r.stdout)

    def test_help_and_version(self):
        r = run("--help")
        self.assertEqual(r.returncode, 0)
        for word in ("--listen", "--static-router", "--check-config", "--metrics-listen", "SIGHUP"):
            self.assertIn(word, r.stdout)
        self.assertIn("protocol version 2", run("--version").stdout)

    def test_port_in_use_is_reported(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        try:
            r = run("--listen", f"127.0.0.1:{port}", "--control-socket", "/tmp/dmuxd-inuse-test.sock",
                    "--metrics-listen", "off")
            self.assertEqual(r.returncode, 1)
            self.assertIn(f"127.0.0.1:{port}", r.stderr)
        finally:
            s.close()

    def test_control_socket_in_use_is_reported(self):
        d = Dmuxd(["--listen", f"127.0.0.1:{free_udp_port()}"], metrics=False)
        try:
            r = run("--listen", f"127.0.0.1:{free_udp_port()}", "--control-socket", d.control,
                    "--metrics-listen", "off")
            self.assertEqual(r.returncode, 1)
            self.assertIn("in use", r.stderr)
            self.assertIsNone(d.proc.poll())
        finally:
            d.stop()


if __name__ == "__main__":
    main()

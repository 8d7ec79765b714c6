"""dmux-healthcheck on loopback, against a real dmuxd whose --static-router for the health
protocol is the checker's socket: its command line (errors naming the option, exit 2;
--check-config's summary), probes answered (dmuxd forwards), a frozen dmuxd (SIGSTOP) found dead
after --fall misses, found alive again after SIGCONT, and SIGTERM ending it with exit 0. The
announcement device does not exist here, so the checker reports that it could not take it down.
Needs no root; cleans up its processes and files."""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pylib"))
from ipdmux.gateway_harness import BUILD_DIR, Dmuxd, free_udp_port, main  # noqa: E402

HEALTHCHECK = os.path.join(BUILD_DIR, "bgp-glue", "dmux-healthcheck")
DEVICE = "dmuxhc-none0"  # no such device


def wait_for_text(path, text, timeout=5.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        with open(path) as f:
            if text in f.read():
                return True
        time.sleep(0.02)
    return False


class Healthcheck(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="dmux-hc-test-")
        cls.key = os.path.join(cls.dir, "health.key")
        with open(cls.key, "w") as f:
            f.write(os.urandom(32).hex() + "\n")
        cls.data_port, cls.back_port = free_udp_port(), free_udp_port()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def args(self, *extra):
        return [HEALTHCHECK, "--data", f"127.0.0.1:{self.data_port}", "--listen",
                f"127.0.0.1:{self.back_port}", "--key", self.key, "--device", DEVICE, *extra]

    def test_command_line(self):
        r = subprocess.run([HEALTHCHECK, "--data", "nowhere"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stderr, "dmux-healthcheck: error: --data: need IPV4:PORT\n")
        r = subprocess.run(self.args("--fall", "0"), capture_output=True, text=True)
        self.assertEqual((r.returncode, r.stderr), (2, "dmux-healthcheck: error: --fall: must be >= 1\n"))
        r = subprocess.run(self.args("--check-config"), capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(f"config OK: probing 127.0.0.1:{self.data_port} every 100 ms", r.stdout)
        bad = self.args("--check-config")
        bad[bad.index(self.key)] = os.path.join(self.dir, "missing.key")
        r = subprocess.run(bad, capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)
        self.assertTrue(r.stderr.startswith("dmux-healthcheck: error: --key: "), r.stderr)

    def test_frozen_dmuxd_found_dead_and_alive_again(self):
        d = Dmuxd(["--listen", f"127.0.0.1:{self.data_port}", "--static-router",
                   f"exp-0xfffe 1 127.0.0.1:{self.back_port} {self.key}"], workers=1, metrics=False)
        log_path = os.path.join(self.dir, "healthcheck.log")
        with open(log_path, "w") as log:
            hc = subprocess.Popen(self.args("--interval-ms", "50", "--timeout-ms", "50"), stderr=log)
        try:
            self.assertTrue(wait_for_text(log_path, "healthcheck: dmuxd forwards"), d.read_log())
            d.proc.send_signal(signal.SIGSTOP)
            self.assertTrue(wait_for_text(log_path, "forwarded none of the last 3 probes"))
            with open(log_path) as f:
                self.assertIn(f"could not take down {DEVICE}", f.read())
            d.proc.send_signal(signal.SIGCONT)
            self.assertTrue(wait_for_text(log_path, "probes answered); it re-announces itself"))
            hc.send_signal(signal.SIGTERM)
            self.assertEqual(hc.wait(timeout=5), 0)
            self.assertTrue(wait_for_text(log_path, "healthcheck: SIGTERM, exiting"))
        finally:
            if hc.poll() is None:
                hc.kill()
                hc.wait()
            d.proc.send_signal(signal.SIGCONT)
            d.stop()


if __name__ == "__main__":
    main()

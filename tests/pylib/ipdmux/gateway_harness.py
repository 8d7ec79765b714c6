"""Real dmuxd processes for tests and benchmarks (was tests/integration/dmuxlib.py): start them,
build and parse wire messages, the rendezvous-choice model, and main() for unittest modules.

Everything here talks only to loopback. Each Dmuxd removes its control socket and kills its
process on exit, even when a test fails.
"""
import json
import os
import secrets
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.request

BUILD_DIR = os.environ.get("DMUX_BUILD_DIR",
                           os.path.join(os.path.dirname(__file__), "..", "..", "..", "build"))
DMUXD = os.path.join(BUILD_DIR, "gateway", "dmuxd")
DMUXCTL = os.path.join(BUILD_DIR, "dmuxctl", "dmuxctl")
REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))


def build_is_sanitized(build_dir=BUILD_DIR):
    """True for a build with ASan+UBSan (-DDMUX_SANITIZE=ON): its daemons and dmuxctl run several
    times slower, so a test's coarse time bound, there to catch a stall, allows for that."""
    try:
        with open(os.path.join(build_dir, "CMakeCache.txt")) as f:
            return any(line.strip() == "DMUX_SANITIZE:BOOL=ON" for line in f)
    except OSError:
        return False

from . import wire  # docs/protocol.md, version 2
from .proc import free_tcp_port, free_udp_port, wait_for  # noqa: F401  (re-exported)

DATA, TUNNEL, RETURN = wire.DATA, wire.TUNNEL, wire.RETURN
IPV6, IPV4_MCAST = wire.IPV6, wire.IPV4_MCAST


def data_msg(proto, provider, token, payload, flags=0, version=wire.VERSION, hdr_len=wire.DATA_HDR,
             msg_type=DATA):
    """A DATA datagram (or, with msg_type=RETURN, a RETURN), version 2 unless told otherwise."""
    return wire.data(proto, provider, token, payload, flags, version, hdr_len, msg_type)


def parse_tunnel(b):
    """A version-2 TUNNEL as a dict (spec field names, plus version, type, hdr_len, flags, tag,
    payload); raises ValueError for anything else. The tag is not checked here: see
    ipdmux.gateway_router."""
    return wire.parse_tunnel(b)


ip_to_int = wire.ip  # dotted quad -> int


class Router:
    """A test router: a UDP socket that collects TUNNEL datagrams."""

    def __init__(self, addr="127.0.0.1"):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.sock.bind((addr, 0))
        self.addr = self.sock.getsockname()

    @property
    def endpoint(self):
        return f"{self.addr[0]}:{self.addr[1]}"

    def recv_all(self, timeout=0.5):
        """Every datagram until `timeout` seconds pass with nothing new."""
        out = []
        self.sock.settimeout(timeout)
        try:
            while True:
                d, src = self.sock.recvfrom(65535)
                out.append((d, src))
        except socket.timeout:
            pass
        return out

    def close(self):
        self.sock.close()


class Client:
    def __init__(self, addr="127.0.0.1"):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((addr, 0))
        self.addr = self.sock.getsockname()
        self.token = secrets.randbits(64)

    def send(self, dest, payload, proto=IPV6, provider=0, flags=0):
        self.sock.sendto(data_msg(proto, provider, self.token, payload, flags), dest)

    def close(self):
        self.sock.close()


class Dmuxd:
    """A real dmuxd process on loopback with its own control socket and metrics port."""

    def __init__(self, args, config_text=None, workers=2, metrics=True):
        self.dir = tempfile.mkdtemp(prefix="dmuxd-test-")
        self.control = os.path.join(self.dir, "dmuxd.sock")
        self.metrics_port = free_tcp_port() if metrics else None
        self.config_path = None
        cmd = [DMUXD, "--control-socket", self.control, "--workers", str(workers),
               "--metrics-listen", f"127.0.0.1:{self.metrics_port}" if metrics else "off"]
        if config_text is not None:
            self.config_path = os.path.join(self.dir, "dmuxd.conf")
            with open(self.config_path, "w") as f:
                f.write(config_text)
            cmd += ["--config", self.config_path]
        self.log_path = os.path.join(self.dir, "dmuxd.log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(cmd + list(args), stdout=self.log, stderr=subprocess.STDOUT)
        self._wait_ready()

    def _wait_ready(self, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"dmuxd exited with {self.proc.returncode}: {self.read_log()}")
            if os.path.exists(self.control):
                try:
                    self.ctl("status")
                    return
                except Exception:
                    pass
            time.sleep(0.05)
        raise RuntimeError("dmuxd did not become ready: " + self.read_log())

    def read_log(self):
        self.log.flush()
        with open(self.log_path) as f:
            return f.read()

    def ctl(self, command, json_out=True):
        args = [DMUXCTL, "--socket", self.control] + (["--json"] if json_out else []) + command.split()
        r = subprocess.run(args, capture_output=True, text=True, timeout=10)
        if r.returncode != 0:
            raise RuntimeError(f"dmuxctl {command} failed: {r.stderr}")
        if json_out and not r.stdout.strip():
            raise RuntimeError(f"dmuxctl {command} exited 0 with no output (stderr: {r.stderr!r})")
        return json.loads(r.stdout) if json_out else r.stdout

    def metrics(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5) as r:
            return r.read().decode()

    def reload(self, config_text):
        with open(self.config_path, "w") as f:
            f.write(config_text)
        gen = self.ctl("status")["table_generation"]
        self.proc.send_signal(1)  # SIGHUP
        deadline = time.time() + 5
        while self.ctl("status")["table_generation"] == gen:
            if time.time() > deadline:
                raise RuntimeError("reload not applied: " + self.read_log())
            time.sleep(0.02)

    def stop(self, check_exit=True):
        """SIGTERM, wait, clean up. Raises if dmuxd did not exit cleanly with status 0 (under the
        sanitizer build this is where leaks and late memory errors show)."""
        hung = False
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                hung = True
                self.proc.kill()
                self.proc.wait()
        log = self.read_log()
        self.log.close()
        for name in os.listdir(self.dir):
            os.unlink(os.path.join(self.dir, name))
        os.rmdir(self.dir)
        if check_exit and (hung or self.proc.returncode != 0):
            raise RuntimeError(f"dmuxd did not exit cleanly (status {self.proc.returncode}, "
                               f"hung={hung}):\n{log[-3000:]}")


_MASK = (1 << 64) - 1


def _mix64(x):
    x = (x + 0x9E3779B97F4A7C15) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


def rendezvous_choice(client_ip, routers, provider_id):
    """The router dmuxd picks for a client among equally near ones (protocol.md section 8):
    `routers` maps a name to (IPv4 address, port); returns the name. Tests and benchmarks use it
    to choose client addresses that pin each client to a wanted router."""
    client = ip_to_int(client_ip)
    best, best_score = None, -1
    for name, (addr, port) in routers.items():
        seed = _mix64(((ip_to_int(addr) << 32) ^ (port << 16) ^ _mix64(provider_id)) & _MASK)
        score = _mix64(seed ^ _mix64(client))
        if score > best_score:
            best, best_score = name, score
    return best




def main():
    """Run the calling module's tests; exit non-zero on failure."""
    unittest.main(verbosity=2)

#!/usr/bin/python3
"""The SDK's Python package and tutorial routers (docs/sdk.md):

  - the package against docs/protocol.md's vectors, read out of the document: vector 2 (a TUNNEL)
    passes the Router's tag check once and is replayed the second time, a changed byte fails it,
    vector 6 (K_r, rt) and vector 7 (TOKEN_OFFER) come out of the Router; the SDK peer message
    S1 (section 18) is rebuilt from its definition;
  - the tutorial as written, on loopback through a real dmuxd: the C++ echo-router
    (sdk/examples/echo_router.cpp) and the Python echo_router.py register with dmuxd, and a
    Client gets its packets back from each. Processes and files are removed also on failure."""
import hashlib
import hmac
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "pylib"))
from ipdmux import control, crypto, wire  # noqa: E402
from ipdmux.ca import TestCa  # noqa: E402
from ipdmux.proc import free_udp_port, wait_for  # noqa: E402
from test_protocol_vectors import vectors  # noqa: E402  (tests/pylib: the document's vectors)
from ipdmux_sdk import Client, Router  # noqa: E402

BUILD = os.environ.get("DMUX_BUILD_DIR", os.path.join(REPO, "build"))
DMUXD = os.path.join(BUILD, "gateway", "dmuxd")
ECHO_CPP = os.path.join(BUILD, "sdk", "echo-router")
ECHO_PY = os.path.join(HERE, "echo_router.py")
SEED = bytes.fromhex("00112233445566778899aabbccddeeff")


class Sent:
    """Stands in for the Router's socket: records what it sends."""

    def __init__(self):
        self.out = []

    def sendto(self, d, to):
        self.out.append((d, to))


class Vectors(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.v = vectors()
        cls.ca = TestCa(BUILD, prefix="sdk-py-ca-")
        cls.p = cls.ca.provider("p", 7, "ipv6,0x8001")

    @classmethod
    def tearDownClass(cls):
        cls.ca.close()

    def router(self, proto=1):
        r = Router(proto, ("127.0.0.1", 0), [], self.p.cert, self.p.key_path, 7,
                   allow=["198.18.0.0/15"], return_key_seed=SEED)
        r.sock.close()
        r.sock = Sent()
        return r

    def test_tunnel_vector_2_tag_and_replay(self):
        r = self.router()
        r.keys[42] = bytes(range(32))
        seen = []
        r.on_packet = seen.append
        d = self.v["Vector 2"]
        bad = bytearray(d)
        bad[-1] ^= 1
        r._on_datagram(bytes(bad), 0)
        self.assertEqual(r.counts["bad_tag"], 1)
        r._on_datagram(d, 0)  # authentic, but its token is not the client's rt
        self.assertEqual(r.counts["unproven"], 1)
        r._on_datagram(d, 0)
        self.assertEqual(r.counts["replayed"], 1)
        self.assertEqual(seen, [])

    def test_return_token_vector_6_and_offer_vector_7(self):
        r = self.router()
        self.assertEqual(crypto.return_key(SEED).hex(), "6bd52f70f63cd921c966bbdbb19dad47")
        self.assertEqual(r.rt(("198.18.1.2", 40000)), 0x21f600be122c4524)
        r.keys[42] = bytes(range(32))
        request = self.v["Vector 5"]  # the DATA; the gateway turns it into this TUNNEL
        t = wire.tunnel(1, 0, wire.ip("198.18.1.2"), 40000, 0xc6120001, 0x1122334455667788, 42, 7,
                        request[20:], key=bytes(range(32)), flags=wire.FLAG_CONTROL)
        r._on_datagram(t, 0)
        self.assertEqual(r.sock.out, [(self.v["Vector 7"], ("198.18.1.2", 40000))])

    def test_sdk_peer_message_vector_s1(self):
        p = hmac.new(b"0123456789abcdef", b"ipdmux-v2-sdk-peer", hashlib.sha256).digest()
        body = struct.pack("!BBBBIHHIQQ", 2, 34, 4, 0, wire.ip("198.18.2.2"), 5000, 0x8001, 7,
                           1700000000000000, 1700000000000123) + b"hi"
        mac = hmac.new(p, body, hashlib.sha256).digest()[:16]
        self.assertEqual(self.v["S1"], body + mac)


class TutorialText(unittest.TestCase):
    def test_the_tutorial_shows_the_tested_file(self):
        doc = open(os.path.join(REPO, "docs", "sdk.md"), encoding="utf-8").read()
        block = doc.split("<!-- echo_router.cpp", 1)[1].split("```cpp\n", 1)[1].split("```", 1)[0]
        with open(os.path.join(REPO, "sdk", "examples", "echo_router.cpp"), encoding="utf-8") as f:
            code = f.read()
        self.assertEqual(block, code)
        self.assertLess(len(code.splitlines()), 50)


class Tutorial(unittest.TestCase):
    """Both echo routers, as docs/sdk.md runs them, through a real dmuxd on loopback."""

    @classmethod
    def setUpClass(cls):
        for b in (DMUXD, ECHO_CPP):
            if not os.path.exists(b):
                raise unittest.SkipTest(f"{b} is not built")
        cls.procs = []
        cls.dir = tempfile.mkdtemp(prefix="sdk-tutorial-")
        cls.ca = TestCa(BUILD, prefix="sdk-tutorial-ca-")
        try:
            cls._start()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def _start(cls):
        p = cls.ca.provider("echo", 7, "0x8001,0x8002")
        cls.data, reg = free_udp_port(), free_udp_port()
        cls.gw_sock = os.path.join(cls.dir, "dmuxd.sock")
        cls.spawn("dmuxd", [DMUXD, "--listen", f"127.0.0.1:{cls.data}", "--workers", "1",
                            "--registration-listen", f"127.0.0.1:{reg}", "--ca-cert", cls.ca.ca_cert,
                            "--keepalive-interval-ms", "300", "--hold-time-ms", "1500",
                            "--control-socket", cls.gw_sock, "--metrics-listen", "off"])
        if not wait_for(lambda: os.path.exists(cls.gw_sock), 10):
            raise RuntimeError("dmuxd did not start:\n" + cls.logs())
        common = ["--gateway", f"127.0.0.1:{reg}", "--cert", p.cert, "--key", p.key_path,
                  "--allow", "127.0.0.0/8"]
        cls.spawn("echo-cpp", [ECHO_CPP, "--proto", "0x8001", "--listen",
                               f"127.0.0.1:{free_udp_port()}", *common])
        cls.spawn("echo-py", [sys.executable, ECHO_PY, "--proto", "0x8002", "--listen",
                              f"127.0.0.1:{free_udp_port()}", "--provider-id", "7", *common])
        if not wait_for(lambda: cls.routers() >= 2, 15):
            raise RuntimeError("the echo routers did not register:\n" + cls.logs())

    @classmethod
    def spawn(cls, name, cmd):
        log = open(os.path.join(cls.dir, name + ".log"), "w")
        cls.procs.append((name, subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)))

    @classmethod
    def routers(cls):
        """Routers dmuxd holds up (its "routers" control command)."""
        try:
            return sum(1 for r in control.command(cls.gw_sock, "routers")["routers"]
                       if r["state"] == "up")
        except (OSError, ValueError, KeyError):
            return 0

    @classmethod
    def logs(cls):
        out = []
        for name, _ in cls.procs:
            with open(os.path.join(cls.dir, name + ".log")) as f:
                out.append(f"--- {name}\n{f.read()[-2000:]}")
        return "\n".join(out)

    @classmethod
    def tearDownClass(cls):
        for _, proc in cls.procs:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        cls.ca.close()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def echo(self, proto):
        c = Client(("127.0.0.1", self.data), proto, bind=("127.0.0.1", 0))
        try:
            c.request_token()
            for i in range(3):
                msg = f"hello {proto:#x} {i}".encode()
                c.send(msg)
                self.assertEqual(c.recv(3.0), msg, self.logs())
        finally:
            c.close()

    def test_cpp_echo_router(self):
        self.echo(0x8001)

    def test_python_echo_router(self):
        self.echo(0x8002)


if __name__ == "__main__":
    unittest.main(verbosity=2)

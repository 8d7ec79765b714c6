"""Registration against a real dmuxd, with REGISTERs built from docs/protocol.md alone and signed
by the openssl command line (an independent implementation of the spec), credentials made by the
real dmux-ca: the valid one is accepted and forwarded to; every bad one is refused, counted by
reason, never answered (except out-of-scope) and never enters the forwarding table."""
import hashlib
import hmac
import os
import secrets
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from dmuxlib import BUILD_DIR, Client, Dmuxd, Router, free_udp_port, main, parse_tunnel, wait_for

DMUX_CA = os.path.join(BUILD_DIR, "tools", "ca", "dmux-ca")
IPV6 = 1


def run(*args):
    subprocess.run(args, check=True, capture_output=True)


class Credentials:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="dmux-reg-test-")
        self.ca = os.path.join(self.dir, "ca")
        run(DMUX_CA, "init", "--dir", self.ca)
        self.other_ca = os.path.join(self.dir, "other-ca")
        run(DMUX_CA, "init", "--dir", self.other_ca)

    def provider(self, name, provider_id=7, protocols="ipv6", ca=None, extra=()):
        out = os.path.join(self.dir, name)
        run(DMUX_CA, "issue-provider", "--dir", ca or self.ca, "--provider-id", str(provider_id),
            "--protocols", protocols, "--out", out, *extra)
        return out

    def gateway(self, name):
        out = os.path.join(self.dir, name)
        run(DMUX_CA, "issue-gateway", "--dir", self.ca, "--gateway-id", "198.18.0.1", "--out", out)
        return out

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


X25519_SPKI_PREFIX = bytes.fromhex("302a300506032b656e032100")


class X25519:
    """An X25519 key pair through the openssl command line (protocol.md 9.2)."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="dmux-x25519-")
        self.key = os.path.join(self.dir, "k.pem")
        run("openssl", "genpkey", "-algorithm", "X25519", "-out", self.key)
        der = subprocess.run(["openssl", "pkey", "-in", self.key, "-pubout", "-outform", "DER"],
                             check=True, capture_output=True).stdout
        self.public = der[-32:]

    def shared_secret(self, peer_public):
        peer = os.path.join(self.dir, "peer.der")
        with open(peer, "wb") as f:
            f.write(X25519_SPKI_PREFIX + peer_public)
        return subprocess.run(["openssl", "pkeyutl", "-derive", "-inkey", self.key, "-peerkey", peer,
                               "-peerform", "DER"], check=True, capture_output=True).stdout

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def session_key(shared, session_id, ts_us):
    return hmac.new(shared, b"ipdmux-v1-session" + struct.pack("!QQ", session_id, ts_us),
                    hashlib.sha256).digest()


def mac(key, covered):
    return hmac.new(key, covered, hashlib.sha256).digest()[:16]


def keepalive_msg(key, session_id, counter, msg_type=6, rtt_us=0):
    """KEEPALIVE (or DEREGISTER) per protocol.md 9.3."""
    head = struct.pack("!BBBBQQI", 1, msg_type, 4, 0, session_id, counter, rtt_us)
    return head + mac(key, head)


def register_msg(cred, provider=7, proto=IPV6, router_port=5000, router_ipv4=0, ts_us=None,
                 signer=None, session_key_public=None):
    """REGISTER per protocol.md 9.1, signed with `openssl pkeyutl` (Ed25519)."""
    der = subprocess.run(["openssl", "x509", "-in", cred + ".crt", "-outform", "DER"],
                         check=True, capture_output=True).stdout
    ts_us = ts_us if ts_us is not None else int(time.time() * 1e6)
    # Any 32 bytes is a usable X25519 public key when the session is not used afterwards.
    session_key = session_key_public or secrets.token_bytes(32)
    body = struct.pack("!BBBBHHIIQ", 1, 4, 4, 0, proto, router_port, provider, router_ipv4, ts_us)
    body += session_key + struct.pack("!H", len(der)) + der
    with tempfile.NamedTemporaryFile() as msg, tempfile.NamedTemporaryFile() as sig:
        msg.write(body)
        msg.flush()
        subprocess.run(["openssl", "pkeyutl", "-sign", "-rawin", "-inkey", (signer or cred) + ".key",
                        "-in", msg.name, "-out", sig.name], check=True, capture_output=True)
        with open(sig.name, "rb") as f:
            signature = f.read()
    assert len(signature) == 64
    return body + struct.pack("!H", 64) + signature


class Registration(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cred = Credentials()
        cls.good = cls.cred.provider("good")
        cls.router = Router()
        cls.reg_port = free_udp_port()
        cls.data_port = free_udp_port()
        cls.d = Dmuxd(["--listen", f"127.0.0.1:{cls.data_port}",
                       "--registration-listen", f"127.0.0.1:{cls.reg_port}",
                       "--ca-cert", os.path.join(cls.cred.ca, "ca.crt"),
                       "--gateway-id", "198.18.0.1", "--registration-rate", "1000",
                       "--registration-burst", "1000"])

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        cls.router.close()
        cls.cred.close()

    def setUp(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.3)  # refusals are silent: wait this long for no answer

    def tearDown(self):
        self.sock.close()

    def send(self, msg):
        self.sock.sendto(msg, ("127.0.0.1", self.reg_port))
        try:
            return self.sock.recv(1024)
        except socket.timeout:
            return None

    def count(self, reason):
        return self.d.ctl("status")["registration"]["registers"][reason]

    def registered(self):
        return sorted((r["address"], r["provider_id"], r["protocol"], r["state"])
                      for r in self.d.ctl("routers")["routers"] if r["origin"] == "registered")

    def assert_refused(self, msg, reason, answered=False):
        before = self.count(reason)
        routers_before = self.registered()
        reply = self.send(msg)
        if answered:
            self.assertIsNotNone(reply)
        else:
            self.assertIsNone(reply, f"{reason}: a refusal was answered")
        self.assertTrue(wait_for(lambda: self.count(reason) == before + 1), reason)
        self.assertEqual(self.registered(), routers_before, f"{reason}: the table changed")
        return reply

    def test_1_valid_registration_is_acked_and_forwarded_to(self):
        port = self.router.addr[1]
        reply = self.send(register_msg(self.good, router_port=port,
                                       router_ipv4=struct.unpack("!I", socket.inet_aton("127.0.0.1"))[0]))
        self.assertIsNotNone(reply)
        self.assertEqual(len(reply), 84)
        version, msg_type, hdr_len, _, result = struct.unpack("!BBBBB", reply[:5])
        gateway_id, session_id = struct.unpack("!IQ", reply[8:20])
        self.assertEqual((version, msg_type, hdr_len, result), (1, 5, 4, 0))
        self.assertEqual(gateway_id, struct.unpack("!I", socket.inet_aton("198.18.0.1"))[0])
        self.assertNotEqual(session_id, 0)
        self.assertIn((f"127.0.0.1:{port}", 7, "ipv6", "up"), self.registered())
        # Client traffic now reaches the registered router.
        c = Client()
        c.send(("127.0.0.1", self.data_port), b"\x60hello", provider=7)
        got = self.router.recv_all(0.5)
        c.close()
        self.assertEqual(len(got), 1)
        self.assertEqual(parse_tunnel(got[0][0])["payload"], b"\x60hello")

    def test_2_refusals(self):
        c = self.cred
        good = register_msg(self.good, router_port=6001)
        self.assertIsNotNone(self.send(good))
        self.assert_refused(good, "replayed")
        self.assert_refused(register_msg(c.provider("other", ca=c.other_ca), router_port=6002), "forged")
        self.assert_refused(register_msg(c.provider("expired", extra=("--not-before-offset", "-7200",
                                                                      "--valid-seconds", "3600")),
                                         router_port=6003), "expired")
        self.assert_refused(register_msg(c.provider("future", extra=("--not-before-offset", "3600")),
                                         router_port=6004), "not_yet_valid")
        self.assert_refused(register_msg(c.gateway("gw"), router_port=6005), "wrong_role")
        self.assert_refused(register_msg(self.good, router_port=6006, signer=c.provider("thief")),
                            "bad_signature")
        tampered = bytearray(register_msg(self.good, router_port=6007))
        tampered[7] ^= 1
        self.assert_refused(bytes(tampered), "bad_signature")
        self.assert_refused(register_msg(self.good, router_port=6008,
                                         ts_us=int((time.time() - 120) * 1e6)), "stale")
        self.assert_refused(good[:-1], "truncated")
        self.assert_refused(good + b"\x00", "malformed")
        reply = self.assert_refused(register_msg(c.provider("mcast", protocols="ipv4-multicast"),
                                                 router_port=6009), "out_of_scope", answered=True)
        self.assertEqual(reply[4], 1)
        reply = self.assert_refused(register_msg(self.good, provider=8, router_port=6010),
                                    "out_of_scope", answered=True)
        self.assertEqual(struct.unpack("!Q", reply[12:20])[0], 0)  # no session

    def test_3_metrics_count_refusals(self):
        text = self.d.metrics()
        self.assertIn('dmux_gateway_registrations_total{result="forged"}', text)
        self.assertIn('dmux_gateway_keepalives_total{result="alive"}', text)


class SessionsExpiryAndDampening(unittest.TestCase):
    """Short timers: keepalive 200 ms, hold 600 ms, dampening half-life 2 s."""

    @classmethod
    def setUpClass(cls):
        cls.cred = Credentials()
        cls.good = cls.cred.provider("good")
        cls.reg_port = free_udp_port()
        cls.d = Dmuxd(["--listen", f"127.0.0.1:{free_udp_port()}",
                       "--registration-listen", f"127.0.0.1:{cls.reg_port}",
                       "--ca-cert", os.path.join(cls.cred.ca, "ca.crt"), "--gateway-id", "198.18.0.1",
                       "--keepalive-interval-ms", "200", "--hold-time-ms", "600",
                       "--dampening-half-life-s", "2", "--registration-rate", "1000",
                       "--registration-burst", "1000"])
        cls.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        cls.sock.bind(("127.0.0.1", 0))
        cls.sock.settimeout(1.0)

    @classmethod
    def tearDownClass(cls):
        cls.sock.close()
        cls.d.stop()
        cls.cred.close()

    def exchange(self, msg):
        self.sock.sendto(msg, ("127.0.0.1", self.reg_port))
        return self.sock.recv(1024)

    def register(self, port, ts_us=None):
        """Registers with a real X25519 exchange; returns (ack result, session id, K)."""
        x = X25519()
        try:
            ts_us = ts_us or int(time.time() * 1e6)
            ack = self.exchange(register_msg(self.good, router_port=port, ts_us=ts_us,
                                             session_key_public=x.public))
            result, = struct.unpack("!B", ack[4:5])
            session_id, echo_ts, keepalive_ms, hold_ms = struct.unpack("!QQII", ack[12:36])
            if result != 0:
                return result, 0, None
            self.assertEqual(echo_ts, ts_us)
            self.assertEqual((keepalive_ms, hold_ms), (200, 600))
            key = session_key(x.shared_secret(ack[36:68]), session_id, ts_us)
            self.assertEqual(mac(key, ack[:68]), ack[68:84], "REGISTER_ACK MAC per protocol.md 9.2")
            return result, session_id, key
        finally:
            x.close()

    def state(self, port):
        for r in self.d.ctl("routers")["routers"]:
            if r["address"] == f"127.0.0.1:{port}":
                return r
        return None

    def test_keepalives_hold_a_router_and_silence_expires_it(self):
        _, sid, key = self.register(7001)
        for counter in range(1, 8):  # 1.4 s of keepalives, over twice the hold time
            ack = self.exchange(keepalive_msg(key, sid, counter))
            self.assertEqual(len(ack), 44)
            self.assertEqual(ack[4], 0)
            self.assertEqual(mac(key, ack[:28]), ack[28:44], "KEEPALIVE_ACK MAC per protocol.md 9.4")
            time.sleep(0.2)
        self.assertEqual(self.state(7001)["state"], "up")
        # A keepalive with a wrong MAC is ignored; a replayed counter too.
        self.sock.sendto(keepalive_msg(b"x" * 32, sid, 100), ("127.0.0.1", self.reg_port))
        self.sock.sendto(keepalive_msg(key, sid, 3), ("127.0.0.1", self.reg_port))
        self.assertTrue(wait_for(lambda: self.state(7001)["state"] == "withdrawn", timeout=3))
        ka = self.d.ctl("status")["registration"]["keepalives"]
        self.assertGreaterEqual(ka["bad_mac"], 1)
        self.assertGreaterEqual(ka["replayed"], 1)
        # Its session is gone: the gateway says so, unauthenticated.
        ack = self.exchange(keepalive_msg(key, sid, 200))
        self.assertEqual(ack[4], 1)

    def test_deregister_is_immediate_and_flapping_is_suppressed(self):
        results = []
        for _ in range(6):
            result, sid, key = self.register(7002)
            results.append(result)
            if result == 0:
                ack = self.exchange(keepalive_msg(key, sid, 1, msg_type=8))  # DEREGISTER
                self.assertEqual(ack[4], 2)
                self.assertIn(self.state(7002)["state"], ("withdrawn", "suppressed"))
        # Each withdrawal adds 1000; above 3000 the router is refused as suppressed (result 3).
        self.assertEqual(results[:4], [0, 0, 0, 0])
        self.assertEqual(results[4:], [3, 3])
        st = self.state(7002)
        self.assertTrue(st["suppressed"])
        self.assertEqual(st["state"], "suppressed")
        self.assertEqual(st["flaps"], 4)
        # With a 2 s half-life the penalty (~4000) falls below 750 within ~5 s.
        self.assertTrue(wait_for(lambda: self.register(7002)[0] == 0, timeout=10, interval=0.5))


if __name__ == "__main__":
    main()

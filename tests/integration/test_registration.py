"""Registration (docs/protocol.md section 9) against a real dmuxd, with messages built and signed by
tests/pylib/ipdmux (an implementation of the spec independent of the C++ one) and credentials made
by the real dmux-ca: the cookie exchange, a valid REGISTER acknowledged with a tunnel key that the
data plane then uses, and every bad REGISTER refused, counted by reason, never answered (except
out-of-scope) and never in the forwarding table; keepalives, expiry, DEREGISTER and dampening."""
import os
import signal
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pylib"))
from ipdmux.gateway_harness import BUILD_DIR, Dmuxd, Router, free_udp_port, main, wait_for  # noqa: E402
from ipdmux import crypto, wire  # noqa: E402
from ipdmux.registration import Agent, Credentials, Provider  # noqa: E402

DMUX_CA = os.path.join(BUILD_DIR, "tools", "ca", "dmux-ca")
GATEWAY_ID = wire.ip("198.18.0.1")


def gateway_args(cred, reg_port, data_port, *extra):
    return ["--listen", f"127.0.0.1:{data_port}",
            "--registration-listen", f"127.0.0.1:{reg_port}", "--ca-cert", cred.ca_cert,
            "--gateway-id", "198.18.0.1", "--registration-rate", "1000",
            "--registration-burst", "1000", *extra]


class Registration(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cred = Credentials(DMUX_CA, prefix="dmux-reg-test-")
        cls.good = Provider(cls.cred.provider("good"))
        cls.reg_port = free_udp_port()
        cls.data_port = free_udp_port()
        cls.gw = ("127.0.0.1", cls.reg_port)
        try:
            cls.d = Dmuxd(gateway_args(cls.cred, cls.reg_port, cls.data_port))
        except Exception:
            cls.cred.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        cls.cred.close()

    def setUp(self):
        self.agent = Agent(self.gw, self.good, timeout=0.3)  # refusals are silent: wait this long

    def tearDown(self):
        self.agent.close()

    def status(self):
        return self.d.ctl("status")["registration"]

    def count(self, reason):
        return self.status()["registers"][reason]

    def registered(self):
        return sorted((r["address"], r["provider_id"], r["protocol"], r["state"])
                      for r in self.d.ctl("routers")["routers"] if r["origin"] == "registered")

    def assert_refused(self, msg, reason, answered=False, agent=None):
        agent = agent or self.agent
        before = self.count(reason)
        routers_before = self.registered()
        reply = agent.exchange(msg)
        if answered:
            self.assertIsNotNone(reply, f"{reason}: not answered")
        else:
            self.assertIsNone(reply, f"{reason}: a refusal was answered")
        self.assertTrue(wait_for(lambda: self.count(reason) == before + 1), reason)
        self.assertEqual(self.registered(), routers_before, f"{reason}: the table changed")
        return reply

    def fresh(self, **overrides):
        """A REGISTER of self.agent with a valid cookie, as the agent would send it."""
        return self.agent.register_msg(self.agent.cookie(), crypto.X25519(), **overrides)

    def test_1_cookie_register_ack_and_forwarding_with_the_tunnel_key(self):
        router = Router()
        try:
            agent = Agent(self.gw, self.good, sock=router.sock)  # TUNNELs come where it registered
            c = agent.cookie()
            self.assertEqual(c["gateway_id"], GATEWAY_ID)
            self.assertEqual(c["valid_ms"], 60000)
            x = crypto.X25519()
            ts = agent.timestamp()
            reply = agent.exchange(agent.register_msg(c, x, timestamp_us=ts), wire.REGISTER_ACK)
            self.assertIsNotNone(reply)
            self.assertEqual(len(reply), 92)
            s = agent.accept(reply, x, ts)  # checks the MAC under K (protocol.md 9.3)
            self.assertEqual(s.ack["result"], 0)
            self.assertEqual(s.gateway_id, GATEWAY_ID)
            self.assertNotEqual(s.session_id, 0)
            self.assertNotEqual(s.key_id, 0)
            self.assertEqual(s.ack["suite"], wire.SUITE_AES256_GMAC)
            self.assertIn((router.endpoint, 7, "ipv6", "up"), self.registered())
            # Client traffic now reaches the registered router, tagged under K_t, named by key_id
            # (once the data plane has the new table: the registry answers first, so a datagram
            # sent at once may still find no router; one DATA per try, each answered alone).
            client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            client.bind(("127.0.0.1", 0))
            got, deadline = [], time.monotonic() + 5
            while not got and time.monotonic() < deadline:
                client.sendto(wire.data(wire.IPV6, 7, 0, b"\x60hello"),
                              ("127.0.0.1", self.data_port))
                got = router.recv_all(0.2)
            client.close()
            self.assertEqual(len(got), 1)
            t = wire.parse_tunnel(got[0][0])
            self.assertEqual(t["payload"], b"\x60hello")
            self.assertEqual(t["key_id"], s.key_id)
            self.assertTrue(wire.tunnel_tag_ok(got[0][0], s.k_t), "TUNNEL tag under K_t")
        finally:
            router.close()

    def test_2_refusals(self):
        c, a = self.cred, self.agent
        x = crypto.X25519()
        good = a.register_msg(a.cookie(), x)
        self.assertIsNotNone(a.exchange(good, wire.REGISTER_ACK))
        self.assert_refused(good, "replayed")
        other = Provider(c.provider("other", ca=c.other_ca))
        self.assert_refused(self.fresh(signer=other.key, der=other.der), "forged")
        expired = Provider(c.provider("expired", extra=("--not-before-offset", "-7200",
                                                       "--valid-seconds", "3600")))
        self.assert_refused(self.fresh(signer=expired.key, der=expired.der), "expired")
        future = Provider(c.provider("future", extra=("--not-before-offset", "3600")))
        self.assert_refused(self.fresh(signer=future.key, der=future.der), "not_yet_valid")
        gw = Provider(c.gateway("gw"))
        self.assert_refused(self.fresh(signer=gw.key, der=gw.der), "wrong_role")
        thief = Provider(c.provider("thief"))
        self.assert_refused(self.fresh(signer=thief.key), "bad_signature")
        tampered = bytearray(self.fresh())
        tampered[4] ^= 0x80  # proto_id, under the signature
        self.assert_refused(bytes(tampered), "bad_signature")
        self.assert_refused(self.fresh(timestamp_us=int((time.time() - 120) * 1e6)), "stale")
        fresh = self.fresh()
        self.assert_refused(fresh[:-1], "truncated")
        self.assert_refused(fresh + b"\x00", "malformed")
        mcast = Provider(c.provider("mcast", protocols="ipv4-multicast"))
        reply = self.assert_refused(self.fresh(signer=mcast.key, der=mcast.der), "out_of_scope",
                                    answered=True)
        self.assertEqual(wire.parse_register_ack(reply)["result"], 1)
        reply = self.assert_refused(self.fresh(provider_id=8), "out_of_scope", answered=True)
        ack = wire.parse_register_ack(reply)
        self.assertEqual((ack["session_id"], ack["key_id"], ack["mac"]), (0, 0, bytes(16)))

    def test_3_binding_to_source_gateway_and_cookie(self):
        a = self.agent
        self.assert_refused(self.fresh(router_port=a.addr[1] + 1), "wrong_source")
        self.assert_refused(self.fresh(router_ipv4=wire.ip("127.0.0.2")), "wrong_source")
        self.assert_refused(self.fresh(gateway_id=GATEWAY_ID + 1), "wrong_gateway")
        forged_cookie = {"gateway_id": GATEWAY_ID, "cookie": bytes(16)}
        self.assert_refused(a.register_msg(forged_cookie, crypto.X25519()), "bad_cookie")
        # Another agent's cookie is no good from here: it is bound to address and port.
        other = Agent(self.gw, self.good)
        try:
            theirs = other.cookie()
        finally:
            other.close()
        self.assert_refused(a.register_msg(theirs, crypto.X25519()), "bad_cookie")
        # version 1 allowed router_ipv4 = 0 ("the source address"); version 2 refuses it.
        self.assert_refused(self.fresh(router_ipv4=0), "malformed")

    def test_4_other_versions_and_types_are_dropped_unanswered(self):
        before = self.status()
        self.assertIsNone(self.agent.exchange(bytes([1]) + wire.cookie_request(5)[1:]))
        self.assertIsNone(self.agent.exchange(wire.keepalive(bytes(32), 1, 1)[:8]))
        self.assertIsNone(self.agent.exchange(wire.data(wire.IPV6, 7, 0, b"x")))
        self.assertTrue(wait_for(lambda: self.status()["unsupported_version"] ==
                                 before["unsupported_version"] + 1))
        self.assertTrue(wait_for(lambda: self.status()["other"] == before["other"] + 1))
        self.assertEqual(self.status()["keepalives"]["truncated"],
                         before["keepalives"]["truncated"] + 1)

    def test_5_metrics_count_refusals_and_cookies(self):
        self.assertIsNotNone(self.agent.cookie())
        text = self.d.metrics()
        for line in ('dmux_gateway_registrations_total{result="wrong_source"}',
                     'dmux_gateway_registrations_total{result="bad_cookie"}',
                     'dmux_gateway_registrations_total{result="overloaded"}',
                     'dmux_gateway_keepalives_total{result="alive"}',
                     'dmux_gateway_cookie_requests_total{result="answered"}',
                     'dmux_gateway_certificate_checks_total{result="refused_hit"}',
                     'dmux_gateway_registration_sources'):
            self.assertIn(line, text)


class SessionsExpiryAndDampening(unittest.TestCase):
    """Short timers: keepalive 200 ms, hold 600 ms, dampening half-life 2 s, cookies 500 ms."""

    @classmethod
    def setUpClass(cls):
        cls.cred = Credentials(DMUX_CA, prefix="dmux-reg-test-")
        cls.good = Provider(cls.cred.provider("good"))
        cls.reg_port = free_udp_port()
        try:
            cls.d = Dmuxd(gateway_args(cls.cred, cls.reg_port, free_udp_port(),
                                       "--keepalive-interval-ms", "200", "--hold-time-ms", "600",
                                       "--dampening-half-life-s", "2",
                                       "--registration-cookie-valid-ms", "500"))
        except Exception:
            cls.cred.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        cls.cred.close()

    def agent(self, port=0):
        a = Agent(("127.0.0.1", self.reg_port), self.good, bind=("127.0.0.1", port))
        self.addCleanup(a.close)
        return a

    def state(self, agent):
        for r in self.d.ctl("routers")["routers"]:
            if r["address"] == f"127.0.0.1:{agent.addr[1]}":
                return r
        return None

    def test_keepalives_hold_a_router_and_silence_expires_it(self):
        a = self.agent()
        s = a.register()
        self.assertEqual(s.ack["result"], 0)
        self.assertEqual((s.ack["keepalive_interval_ms"], s.ack["hold_time_ms"]), (200, 600))
        for _ in range(7):  # 1.4 s of keepalives, over twice the hold time
            ack = a.keepalive(rtt_us=1500)  # the MAC is checked by the agent
            self.assertEqual(ack["result"], 0)
            time.sleep(0.2)
        self.assertEqual(self.state(a)["state"], "up")
        self.assertEqual(self.state(a)["router_rtt_us"], 1500)
        # A keepalive with a wrong MAC is ignored; a replayed counter too.
        a.sock.sendto(wire.keepalive(b"x" * 32, s.session_id, 100), a.gateway)
        a.sock.sendto(wire.keepalive(s.k, s.session_id, 3), a.gateway)
        self.assertTrue(wait_for(lambda: self.state(a)["state"] == "withdrawn", timeout=3))
        ka = self.d.ctl("status")["registration"]["keepalives"]
        self.assertGreaterEqual(ka["bad_mac"], 1)
        self.assertGreaterEqual(ka["replayed"], 1)
        # Its session is gone: the gateway says so, unauthenticated and no larger than the request.
        request = wire.keepalive(s.k, s.session_id, 200)
        reply = a.exchange(request, wire.KEEPALIVE_ACK)
        self.assertEqual(len(reply), len(request))
        ack = wire.parse_keepalive_ack(reply)
        self.assertEqual((ack["result"], ack["mac"]), (1, bytes(16)))

    def test_a_stalled_gateway_reads_queued_keepalives_before_it_expires(self):
        # protocol.md 9.7: the gateway stops for 1.5 s (over twice the hold time) while the agent
        # keeps sending; when it resumes it must read those keepalives first, not expire the router.
        a = self.agent()
        s = a.register()
        self.assertEqual(a.keepalive()["result"], 0)
        flaps = self.state(a)["flaps"]
        self.d.proc.send_signal(signal.SIGSTOP)
        try:
            for _ in range(7):
                s.counter += 1
                a.sock.sendto(wire.keepalive(s.k, s.session_id, s.counter), a.gateway)
                time.sleep(0.2)
        finally:
            self.d.proc.send_signal(signal.SIGCONT)
        self.assertEqual(a.keepalive()["result"], 0)
        st = self.state(a)
        self.assertEqual((st["state"], st["flaps"]), ("up", flaps), "expired during the stall")

    def test_deregister_is_immediate_and_flapping_is_suppressed(self):
        a = self.agent()
        results = []
        for _ in range(6):
            r = a.register()
            results.append(r.ack["result"] if hasattr(r, "ack") else r["result"])
            if results[-1] == 0:
                ack = a.deregister()  # answered with result 2, MAC checked by the agent
                self.assertEqual(ack["result"], 2)
                self.assertIn(self.state(a)["state"], ("withdrawn", "suppressed"))
        # Each withdrawal adds 1000; above 3000 the router is refused as suppressed (result 3).
        self.assertEqual(results[:4], [0, 0, 0, 0])
        self.assertEqual(results[4:], [3, 3])
        st = self.state(a)
        self.assertTrue(st["suppressed"])
        self.assertEqual(st["state"], "suppressed")
        self.assertEqual(st["flaps"], 4)

        def accepted_again():
            r = a.register()
            return r is not None and hasattr(r, "ack")
        # With a 2 s half-life the penalty (~4000) falls below 750 within ~5 s.
        self.assertTrue(wait_for(accepted_again, timeout=10, interval=0.5))

    def test_a_cookie_expires_after_two_periods(self):
        a = self.agent()
        c = a.cookie()
        self.assertEqual(c["valid_ms"], 500)
        time.sleep(1.1)  # two rotations of a 500 ms secret
        before = self.d.ctl("status")["registration"]["registers"]["bad_cookie"]
        self.assertIsNone(a.exchange(a.register_msg(c, crypto.X25519()), wire.REGISTER_ACK))
        self.assertTrue(wait_for(lambda: self.d.ctl("status")["registration"]["registers"]
                                 ["bad_cookie"] == before + 1))
        self.assertEqual(a.register().ack["result"], 0)  # a fresh one works


if __name__ == "__main__":
    main()

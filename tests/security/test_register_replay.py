"""Attack (docs/protocol.md 9.2, 9.6, 16; issue 12): a captured, valid REGISTER is replayed from
other addresses and sent to a second gateway. Version 1 registered a fake router for each (with
router_ipv4 = 0 the router was "wherever the REGISTER came from"), and they drew most clients. Now
the REGISTER names the gateway, the router's address and port (its source) and carries a cookie
for that source, all under the provider's signature: every replay registers nothing and is
counted (wrong_source, wrong_gateway, bad_cookie, bad_signature, replayed), and router_ipv4 = 0
is refused outright."""
import os
import socket
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "pylib"))
from ipdmux.gateway_harness import BUILD_DIR, Dmuxd, free_udp_port, main, wait_for  # noqa: E402
from ipdmux import crypto, reg_flood, wire  # noqa: E402
from ipdmux.registration import Agent, Credentials, Provider  # noqa: E402

DMUX_CA = os.path.join(BUILD_DIR, "tools", "ca", "dmux-ca")
VICTIM = "127.0.4.1"
REPLAYERS = [f"127.0.4.{i}" for i in range(2, 7)]


def spoof(src, sport, dport, payload):
    """Sends `payload` to 127.0.0.1:dport from src:sport through a raw socket (root)."""
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    try:
        raw.sendto(reg_flood.ipv4_udp(src, sport, "127.0.0.1", dport, payload), ("127.0.0.1", 0))
    finally:
        raw.close()


def gateway(cred, gateway_id, reg_port):
    return Dmuxd(["--listen", f"127.0.0.1:{free_udp_port()}", "--registration-listen",
                  f"127.0.0.1:{reg_port}", "--ca-cert", cred.ca_cert, "--gateway-id", gateway_id,
                  "--registration-rate", "1000", "--registration-burst", "1000"], workers=1)


class RegisterReplay(unittest.TestCase):
    def setUp(self):
        self.cred = Credentials(DMUX_CA, prefix="dmux-sec-replay-")
        self.addCleanup(self.cred.close)
        self.good = Provider(self.cred.provider("good"))
        self.port1, self.port2 = free_udp_port(), free_udp_port()
        self.gw1 = gateway(self.cred, "198.18.0.1", self.port1)
        self.addCleanup(self.gw1.stop)
        self.gw2 = gateway(self.cred, "198.18.0.2", self.port2)
        self.addCleanup(self.gw2.stop)

    def agent(self, addr, port):
        a = Agent(("127.0.0.1", port), self.good, bind=(addr, 0), timeout=0.3)
        self.addCleanup(a.close)
        return a

    @staticmethod
    def counts(d):
        return d.ctl("status")["registration"]["registers"]

    @staticmethod
    def routers(d):
        return sorted(r["address"] for r in d.ctl("routers")["routers"]
                      if r["origin"] == "registered")

    def expect(self, d, reason, n):
        self.assertTrue(wait_for(lambda: self.counts(d)[reason] == n),
                        f"{reason}: {self.counts(d)[reason]} != {n}")

    def test_a_captured_register_registers_nothing_anywhere_else(self):
        victim = self.agent(VICTIM, self.port1)
        c = victim.cookie()
        captured = victim.register_msg(c, crypto.X25519())
        ack = victim.exchange(captured, wire.REGISTER_ACK)
        self.assertEqual(wire.parse_register_ack(ack)["result"], 0)
        registered = [f"{VICTIM}:{victim.addr[1]}"]
        self.assertEqual(self.routers(self.gw1), registered)

        # 1. The same bytes from five other addresses (the router fields name the victim).
        for addr in REPLAYERS:
            self.assertIsNone(self.agent(addr, self.port1).exchange(captured))
        self.expect(self.gw1, "wrong_source", len(REPLAYERS))

        # 2. The same bytes to another gateway, from the victim's own address (blind spoofing):
        # wrong_gateway. 3. And to the first gateway again: its cookie is still valid there, but
        # the timestamp is not newer than the one accepted: replayed.
        spoof(VICTIM, victim.addr[1], self.port2, captured)
        spoof(VICTIM, victim.addr[1], self.port1, captured)
        self.expect(self.gw2, "wrong_gateway", 1)
        self.expect(self.gw1, "replayed", 1)

        # 4. An attacker with an address of its own rewrites the router fields to it: without a
        # cookie for it that is bad_cookie; with its own cookie the signature no longer matches.
        for addr in REPLAYERS:
            a = self.agent(addr, self.port1)
            rewritten = wire.register_with(captured, router_port=a.addr[1],
                                           router_ipv4=wire.ip(addr))
            self.assertIsNone(a.exchange(rewritten))
            rewritten = wire.register_with(rewritten, cookie=a.cookie()["cookie"])
            self.assertIsNone(a.exchange(rewritten))
        self.expect(self.gw1, "bad_cookie", len(REPLAYERS))
        self.expect(self.gw1, "bad_signature", len(REPLAYERS))

        # 5. Sent to the second gateway with gateway_id rewritten: the signature covers it.
        other = self.agent(VICTIM, self.port2)
        c2 = other.cookie()
        forged = wire.register_with(captured, gateway_id=c2["gateway_id"],
                                    router_port=other.addr[1], cookie=c2["cookie"])
        self.assertIsNone(other.exchange(forged))
        self.expect(self.gw2, "bad_signature", 1)

        self.assertEqual(self.routers(self.gw1), registered)
        self.assertEqual(self.routers(self.gw2), [])
        self.assertEqual(self.counts(self.gw1)["accepted"], 1)
        self.assertEqual(self.counts(self.gw2)["accepted"], 0)

    def test_router_ipv4_zero_is_refused(self):
        # What version 1 allowed ("register whatever address this comes from"), correctly signed
        # and with a valid cookie: refused as malformed, unanswered, nothing registered.
        a = self.agent(VICTIM, self.port1)
        msg = a.register_msg(a.cookie(), crypto.X25519(), router_ipv4=0)
        self.assertIsNone(a.exchange(msg))
        self.expect(self.gw1, "malformed", 1)
        for addr in REPLAYERS:
            self.assertIsNone(self.agent(addr, self.port1).exchange(msg))
        self.expect(self.gw1, "malformed", 1 + len(REPLAYERS))
        self.assertEqual(self.routers(self.gw1), [])
        self.assertEqual(self.counts(self.gw1)["accepted"], 0)


if __name__ == "__main__":
    main()

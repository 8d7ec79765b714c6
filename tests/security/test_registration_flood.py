"""Attack (docs/protocol.md 9.6, 16; issues 11 and 12): 40,000 spoofed REGISTERs a second, each
with the genuine public certificate of a provider, a random signature, a random cookie and a source
address of its own (raw socket, 16,384 sources), sent to a real dmuxd for several seconds while
legitimate agents register and keep alive. Version 1 spent a signature check on each and left most
legitimate REGISTERs and keepalives unanswered; now the cookie turns each away with one hash:

- at least 99% of legitimate COOKIE_REQUESTs, REGISTERs and KEEPALIVEs are answered;
- the spoofed REGISTERs are counted as bad_cookie and never reach the certificate verifier;
- the per-source table holds only sources that showed a cookie, not the spoofed ones;
- a refused certificate costs a cache lookup the second time (certificate_checks.refused_hit)."""
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "pylib"))
from ipdmux.gateway_harness import BUILD_DIR, Dmuxd, free_udp_port, main  # noqa: E402
from ipdmux import crypto, reg_flood, wire  # noqa: E402
from ipdmux.registration import Agent, BusyAgent, Credentials, Provider, totals  # noqa: E402

DMUX_CA = os.path.join(BUILD_DIR, "tools", "ca", "dmux-ca")
GATEWAY_ID = wire.ip("198.18.0.1")
RATE = 40000
SECONDS = 6.0
SPOOFED_SOURCES = 16384
LEGIT_AGENTS = 8


class RegistrationFlood(unittest.TestCase):
    def setUp(self):
        self.cred = Credentials(DMUX_CA, prefix="dmux-sec-flood-")
        self.addCleanup(self.cred.close)
        self.good = Provider(self.cred.provider("good"))
        self.reg_port = free_udp_port()
        self.d = Dmuxd(["--listen", f"127.0.0.1:{free_udp_port()}", "--registration-listen",
                        f"127.0.0.1:{self.reg_port}", "--ca-cert", self.cred.ca_cert,
                        "--gateway-id", "198.18.0.1", "--keepalive-interval-ms", "1000",
                        "--hold-time-ms", "5000"], workers=1)
        self.addCleanup(self.d.stop)
        self.gw = ("127.0.0.1", self.reg_port)
        self.tmp = tempfile.mkdtemp(prefix="dmux-sec-flood-")
        self.addCleanup(lambda: (os.path.exists(self.packets) and os.unlink(self.packets),
                                 os.rmdir(self.tmp)))
        self.packets = os.path.join(self.tmp, "flood.bin")

    def registration(self):
        return self.d.ctl("status")["registration"]

    def test_spoofed_flood_with_a_genuine_certificate(self):
        reg_flood.write_packets(self.packets, reg_flood.spoofed_registers(
            self.good.der, GATEWAY_ID, self.reg_port, SPOOFED_SOURCES))
        stop = threading.Event()
        agents = [BusyAgent(self.gw, self.good, f"127.0.2.{i + 1}", stop)
                  for i in range(LEGIT_AGENTS)]
        flood = subprocess.Popen([sys.executable, "-m", "ipdmux.reg_flood", self.packets,
                                  str(RATE), str(SECONDS)], stdout=subprocess.PIPE,
                                 cwd=os.path.join(HERE, "..", "pylib"))
        try:
            time.sleep(0.5)  # the flood is on
            for a in agents:
                a.start()
            # Meanwhile a real attacker with real addresses sends a forged certificate, twice each:
            # the second time it costs a cache lookup.
            other = Provider(self.cred.provider("other", ca=self.cred.other_ca))
            before = self.registration()
            forged_sent = 0
            for i in range(4):
                attacker = Agent(self.gw, other, bind=(f"127.0.3.{i + 1}", 0), timeout=0.2)
                try:
                    for _ in range(2):
                        c = attacker.cookie()
                        self.assertIsNotNone(c, "COOKIE_REQUEST unanswered during the flood")
                        self.assertIsNone(attacker.exchange(attacker.register_msg(
                            c, crypto.X25519()), wire.REGISTER_ACK))
                        forged_sent += 1
                finally:
                    attacker.close()
            out, _ = flood.communicate(timeout=SECONDS + 30)
        finally:
            stop.set()
            if flood.poll() is None:
                flood.kill()
                flood.wait()
            for a in agents:
                if a.is_alive():
                    a.join(timeout=5)
        result = json.loads(out)
        after = self.registration()
        rate = result["sent"] / result["seconds"]
        print(f"\nflood: {result['sent']} spoofed REGISTERs in {result['seconds']:.1f} s "
              f"({rate:.0f}/s), {result['errors']} send errors", file=sys.stderr)
        self.assertGreaterEqual(rate, 0.9 * RATE, "the flood did not reach its rate")

        for a in agents:
            self.assertIsNone(a.error)
        for kind, (answered, sent) in totals(agents).items():
            print(f"legitimate {kind}: {answered}/{sent} answered", file=sys.stderr)
            self.assertGreater(sent, 0)
            self.assertGreaterEqual(answered, 0.99 * sent, f"legitimate {kind}s went unanswered")

        regs = after["registers"]
        print(f"gateway: bad_cookie {regs['bad_cookie']}, accepted {regs['accepted']}, "
              f"forged {regs['forged']}, sources {after['tracked_sources']}, certificates "
              f"{after['certificate_checks']}, verified REGISTER cost "
              f"{after['verified_register_cost_us_mean']:.0f} us, any REGISTER "
              f"{after['register_cost_us_mean']:.1f} us", file=sys.stderr)
        # The flood arrived and was turned away by the cookie, before any certificate work.
        self.assertGreaterEqual(regs["bad_cookie"], 0.9 * result["sent"])
        self.assertEqual(regs["forged"] - before["registers"]["forged"], forged_sent)
        checks = after["certificate_checks"]
        self.assertLessEqual(checks["miss"], 2, "the genuine and the forged certificate, once each")
        self.assertGreaterEqual(checks["refused_hit"] - before["certificate_checks"]["refused_hit"],
                                forged_sent - 1)
        # Only sources that showed a cookie are tracked: the agents and the attackers.
        self.assertLessEqual(after["tracked_sources"], LEGIT_AGENTS + 4)
        self.assertEqual(regs["overloaded"], 0)


if __name__ == "__main__":
    main()

"""Attack (docs/protocol.md 9.9, 16; issue 17): an off-path host forges ICMP port unreachable
"from" a healthy registered router, quoting TUNNELs with a guessed key_id, a wrong tag, an old
(captured) datagram, or a refusal of a probe it never saw. The gateway must not remove the router:
evidence only makes it send a probe, and only the router's host refusing that probe (whose 64-bit
counter an off-path host cannot know) withdraws a router. Then the real thing: the router's
process dies, its host's kernel refuses our TUNNELs, and the gateway withdraws it and moves its
clients to the provider's other router well under half a second later.

Runs on loopback (the router at 127.0.5.2, the other at 127.0.5.3, the forger claims 127.0.5.2 or
sends from 127.0.5.9). Needs root: dmuxd opens a raw ICMP socket, the test sends raw packets."""
import os
import socket
import sys
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "pylib"))
from ipdmux.gateway_harness import BUILD_DIR, Dmuxd, Router, free_udp_port, main, wait_for  # noqa: E402
from ipdmux import packets, wire  # noqa: E402
from ipdmux.registration import Agent, Credentials, Provider  # noqa: E402

DMUX_CA = os.path.join(BUILD_DIR, "tools", "ca", "dmux-ca")
GATEWAY = "127.0.0.1"  # registration, data, tunnel source
ROUTER, OTHER, FORGER = "127.0.5.2", "127.0.5.3", "127.0.5.9"


def ipv4(src, dst, proto, body):
    return packets.ipv4_packet(src, dst, proto, body, checksum=False)  # the kernel fills it in


def port_unreachable(reporter, quoted_src, quoted_dst, sport, dport, udp_payload, cut=548):
    """ICMP type 3 code 3 from `reporter` quoting the UDP datagram quoted_src -> quoted_dst."""
    udp = packets.udp_header(sport, dport, udp_payload)
    return packets.icmp4_port_unreachable(ipv4(quoted_src, quoted_dst, packets.UDP, udp)[:cut])


def send_icmp(src, icmp):
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    try:
        raw.sendto(ipv4(src, GATEWAY, 1, icmp), (GATEWAY, 0))
    finally:
        raw.close()


class KeptAlive(threading.Thread):
    """The agent's keepalives every 100 ms, as dmux-provider sends them."""

    def __init__(self, agent):
        super().__init__(daemon=True)
        self.agent, self.stop_flag = agent, False

    def run(self):
        while not self.stop_flag:
            s = self.agent.session
            s.counter += 1
            try:
                self.agent.sock.sendto(wire.keepalive(s.k, s.session_id, s.counter),
                                       self.agent.gateway)
            except OSError:
                return
            time.sleep(0.1)


@unittest.skipUnless(os.geteuid() == 0, "needs root (raw sockets)")
class ForgedIcmp(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cred = Credentials(DMUX_CA, prefix="dmux-icmp-test-")
        cls.provider = Provider(cls.cred.provider("p"))
        cls.reg_port, cls.data_port = free_udp_port(), free_udp_port()
        try:
            cls.d = Dmuxd(["--listen", f"{GATEWAY}:{cls.data_port}",
                           "--registration-listen", f"{GATEWAY}:{cls.reg_port}",
                           "--ca-cert", cls.cred.ca_cert, "--gateway-id", "198.18.0.1",
                           "--tunnel-source", GATEWAY, "--registration-rate", "1000",
                           "--registration-burst", "1000", "--keepalive-interval-ms", "100",
                           "--hold-time-ms", "5000"], workers=1)
        except Exception:
            cls.cred.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        cls.cred.close()

    def router(self, addr):
        """A registered router kept alive: (Router, Agent, KeptAlive)."""
        r = Router(addr)
        a = Agent((GATEWAY, self.reg_port), self.provider, sock=r.sock)
        self.assertIsNotNone(a.register())
        k = KeptAlive(a)
        k.start()
        self.addCleanup(lambda: (setattr(k, "stop_flag", True), r.close()))
        return r, a, k

    def routers(self):
        return {r["address"]: r for r in self.d.ctl("routers")["routers"]
                if r["origin"] == "registered"}

    def feedback(self):
        return self.d.ctl("status")["registration"]["router_feedback"]

    def send_data(self, client_addr):
        c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        c.bind((client_addr, 0))
        c.sendto(wire.data(wire.IPV6, 7, 0, b"\x60" + bytes(63)), (GATEWAY, self.data_port))
        c.close()

    @staticmethod
    def tunnels(router, seconds):
        """TUNNELs among what reaches the router in `seconds` (its socket also gets the
        KEEPALIVE_ACKs, every 100 ms, so Router.recv_all would never return)."""
        out, end = [], time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            router.sock.settimeout(left)
            try:
                d, _ = router.sock.recvfrom(65535)
            except (socket.timeout, OSError):
                break
            if len(d) > 1 and d[1] == wire.TUNNEL:
                out.append(d)
        return out

    def one_tunnel(self, router):
        self.send_data(GATEWAY)
        got = self.tunnels(router, 0.3)
        self.assertTrue(got, "no TUNNEL reached the router")
        return got[-1]

    def test_1_forged_refusals_do_not_remove_a_healthy_router(self):
        if not self.feedback()["active"]:
            self.skipTest("dmuxd has no raw ICMP socket")
        r, a, _ = self.router(ROUTER)
        ep = f"{ROUTER}:{r.addr[1]}"
        self.assertTrue(wait_for(lambda: self.routers().get(ep, {}).get("state") == "up"))
        real = self.one_tunnel(r)  # what an on-path observer would have seen
        t = wire.parse_tunnel(real)
        before = self.feedback()
        flaps = self.routers()[ep]["flaps"]
        dport = r.addr[1]

        def quote(tunnel, reporter=ROUTER):
            send_icmp(reporter, port_unreachable(reporter, GATEWAY, ROUTER, 40000, dport, tunnel))

        # A guessed key_id (an off-path host cannot see the real one), with a plausible counter.
        for key_id in (1, 0xdeadbeef, t["key_id"] ^ 1):
            quote(wire.tunnel(wire.IPV6, 7, 0, 0, t["gateway_id"], 0, key_id, t["counter"] + 5,
                              b"\x60" + bytes(63), key=bytes(32)))
        # The right key_id but a tag made without K_t (the whole TUNNEL is quoted, so it is checked).
        quote(wire.tunnel(wire.IPV6, 7, 0, 0, t["gateway_id"], 0, t["key_id"], t["counter"] + 7,
                          b"\x60" + bytes(63), key=bytes(32)))
        # From the forger's own address.
        quote(real, reporter=FORGER)
        # A refusal of a probe nobody sent: a KEEPALIVE_ACK with a guessed counter.
        s = a.session
        fake_probe = wire.keepalive_ack(0, t["gateway_id"], s.session_id, (1 << 63) | 12345)
        quote(fake_probe)
        # The captured TUNNEL itself (valid tag): evidence, so a probe goes out; the live agent's
        # host does not refuse it, so nothing happens. Replayed again: stale.
        quote(real)
        time.sleep(0.1)
        quote(real)
        time.sleep(0.6)  # several probe timeouts and keepalive intervals
        after = self.feedback()
        d = {k: after[k] - before[k] for k in ("unknown_router", "bad_tag", "wrong_reporter",
                                                "unknown_probe", "probe", "stale", "confirmed")}
        self.assertEqual(d, {"unknown_router": 3, "bad_tag": 1, "wrong_reporter": 1,
                             "unknown_probe": 1, "probe": 1, "stale": 1, "confirmed": 0}, d)
        self.assertGreaterEqual(after["probes_expired"] - before["probes_expired"], 1)
        st = self.routers()[ep]
        self.assertEqual((st["state"], st["flaps"]), ("up", flaps), "a forgery removed the router")
        self.assertEqual(self.d.ctl("status")["registration"]["liveness"]["confirmed_dead"], 0)

    def test_2_a_dead_router_is_withdrawn_and_its_clients_move_within_half_a_second(self):
        if not self.feedback()["active"]:
            self.skipTest("dmuxd has no raw ICMP socket")
        r1, _, k1 = self.router(ROUTER)
        r2, _, _ = self.router(OTHER)
        ep1 = f"{ROUTER}:{r1.addr[1]}"
        self.assertTrue(wait_for(lambda: all(
            self.routers().get(e, {}).get("state") == "up"
            for e in (ep1, f"{OTHER}:{r2.addr[1]}"))))
        # A client whose address hashes to r1.
        client = None
        for i in range(1, 100):
            self.send_data(f"127.0.6.{i}")
            if self.tunnels(r1, 0.05):
                client = f"127.0.6.{i}"
                break
            self.tunnels(r2, 0.01)
        self.assertIsNotNone(client, "no client address hashes to r1")
        # The router's process dies: its socket closes (the kernel now refuses), keepalives stop.
        k1.stop_flag = True
        r1.sock.close()
        c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        c.bind((client, 0))
        c.setblocking(False)
        start = time.monotonic()
        moved = None
        r2.sock.settimeout(0.01)
        while time.monotonic() - start < 2.0 and moved is None:
            c.sendto(wire.data(wire.IPV6, 7, 0, b"\x60" + bytes(63)), (GATEWAY, self.data_port))
            try:
                d, _ = r2.sock.recvfrom(65535)
                if len(d) > 1 and d[1] == wire.TUNNEL:
                    moved = time.monotonic() - start
            except socket.timeout:
                pass
            time.sleep(0.005)  # 200 packets/s
        c.close()
        self.assertIsNotNone(moved, "the client never moved to r2")
        print(f"\n  router crash: client moved to the other router after {moved * 1000:.0f} ms",
              file=sys.stderr)
        self.assertLess(moved, 0.5)
        fb = self.feedback()
        self.assertGreaterEqual(fb["confirmed"], 1, fb)  # by the ICMP path, not by silence
        self.assertEqual(self.routers()[ep1]["state"], "withdrawn")


if __name__ == "__main__":
    main()

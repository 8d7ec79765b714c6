"""Issue 11, attacks 1, 2 and 5, against a real dmux-provider behind a real dmuxd (needs root):

1. 100,000 forged TUNNELs straight at the agent (random keys, the static key's id with wrong
   tags or another key's tags, version-1 TUNNELs without any tag, and replays of genuine TUNNELs
   captured on the wire), from spoofed source addresses: none is de-tunnelled, a UDP service on
   the router's IPv6 side receives nothing of them.
2. Forged Router Solicitations (forged TUNNELs, and RS through the real dmuxd with a spoofed
   source and a guessed token): no RETURN leaves the router. A TOKEN_REQUEST through dmuxd gets a
   TOKEN_OFFER no larger than the request.
3. (attack 5) TOKEN_REQUESTs and RSs from spoofed special-purpose sources (10/8, 192.168/16,
   100.64/10, 169.254.169.254) through dmuxd, and IPv6 packets from the provider's network to
   client addresses embedding them: nothing is sent there.

    client 198.18.1.2 ---+                     +--- router (dmux-provider) --- server (IPv6 only)
    attacker 198.18.9.2 -+-- gw (dmuxd) -------+    198.18.2.2:5000            2001:db8:1::2
       |                     198.18.1.1:4500   |    (--allow-destination 198.18.0.0/15 only)
       +---- 198.18.3.2 ---------------------- 198.18.3.1 (another path to the router)

The attacker reaches the gateway's data port (and spoofs any source there), and the router
directly, where it can spoof even the gateway's own tunnel source address.

What leaves the router is watched with a packet socket on its IPv4 link. Each test prints its
figures. The namespaces, processes and files are removed by the Lab, also on failure."""
import os
import secrets
import socket
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "pylib"))
from ipdmux import wire  # noqa: E402
from ipdmux.agent_lab import (DMUXD, LAB_ALLOWED, PROVIDER, LabTestCase, Sniffer,  # noqa: E402
                              inet6, raw_ipv4_socket, request_token, send_spoofed, udp6_packet,
                              udp_socket, unix_request, wait_for, wait_for_socket)

CLIENT_IP, GW_CLIENT = "198.18.1.2", "198.18.1.1"
ATTACKER_IP, GW_ATTACKER = "198.18.9.2", "198.18.9.1"
GW_ROUTER, ROUTER_IP = "198.18.2.1", "198.18.2.2"
ROUTER_V6, SERVER_V6 = "2001:db8:1::1", "2001:db8:1::2"
VICTIM = ("198.18.9.99", 7777)
CLIENT_PREFIX = "2001:db8:7::/48"
PREFIX_BYTES = inet6("2001:db8:7::")[:6]
DATA_PORT, REG_PORT, TUNNEL_PORT, SERVICE_PORT = 4500, 4501, 5000, 9999
PROVIDER_ID = 7
SPECIAL = [("10.1.2.3", 53), ("192.168.1.1", 53), ("100.64.0.1", 53), ("169.254.169.254", 80)]


def v1_tunnel(client_ip, client_port, token, payload):
    """A version-1 TUNNEL (28-byte header, no key, no tag)."""
    return wire.tunnel_v1(wire.IPV6, PROVIDER_ID, wire.ip(client_ip), client_port,
                          wire.ip(GW_CLIENT), token, payload)


class ProviderInjection(LabTestCase):
    PREFIX, ROLES = "dmuxsi-", ("client", "attacker", "gw", "router", "server")
    BINARIES, NEEDS = (DMUXD, PROVIDER), "network namespaces, TUN devices, raw sockets"

    @classmethod
    def build_lab(cls):
        cls._topology()
        cls._daemons()

    @classmethod
    def _topology(cls):
        lab = cls.lab
        for role in lab.ns:
            lab.run(role, "sysctl", "-qw", "net.ipv6.conf.default.accept_dad=0")
        lab.link("client", "eth0", f"{CLIENT_IP}/24", "gw", "toclient", f"{GW_CLIENT}/24")
        lab.link("attacker", "eth0", f"{ATTACKER_IP}/24", "gw", "toattacker", f"{GW_ATTACKER}/24")
        lab.link("gw", "torouter", f"{GW_ROUTER}/24", "router", "eth0", f"{ROUTER_IP}/24")
        lab.link("router", "toserver", f"{ROUTER_V6}/64", "server", "eth0", f"{SERVER_V6}/64")
        lab.link("attacker", "eth1", "198.18.3.2/24", "router", "toattacker", "198.18.3.1/24")
        lab.run("attacker", "ip", "route", "add", f"{ROUTER_IP}/32", "via", "198.18.3.1")
        for role, via in (("client", GW_CLIENT), ("attacker", GW_ATTACKER), ("router", GW_ROUTER)):
            lab.run(role, "ip", "route", "add", "default", "via", via)
        lab.run("gw", "sysctl", "-qw", "net.ipv4.ip_forward=1")
        for conf in ("all", "default", "toattacker"):  # the attacker spoofs sources freely
            lab.run("gw", "sysctl", "-qw", f"net.ipv4.conf.{conf}.rp_filter=0")
        lab.run("router", "sysctl", "-qw", "net.ipv6.conf.all.forwarding=1")
        lab.run("server", "ip", "-6", "route", "add", CLIENT_PREFIX, "via", ROUTER_V6)

    @classmethod
    def _daemons(cls):
        lab = cls.lab
        _, cert, key = lab.credentials(PROVIDER_ID, "ipv6")
        cls.key_file, cls.tunnel_key = lab.tunnel_key()
        cls.gw_sock, cls.prov_sock = lab.path("dmuxd.sock"), lab.path("provider.sock")
        gw = lab.spawn("dmuxd", "gw", [
            DMUXD, "--listen", f"{GW_CLIENT}:{DATA_PORT}", "--workers", "1",
            "--static-router", f"ipv6 {PROVIDER_ID} {ROUTER_IP}:{TUNNEL_PORT} {cls.key_file}",
            "--gso", "off",  # one datagram per TUNNEL on the wire, for the capture of attack 1
            "--control-socket", cls.gw_sock, "--metrics-listen", "off"])
        if not wait_for_socket(cls.gw_sock, gw):
            raise RuntimeError("dmuxd did not start:\n" + lab.logs())
        prov = lab.spawn("provider", "router", [
            PROVIDER, "--gateway", f"{GW_ROUTER}:{REG_PORT}", "--listen",
            f"{ROUTER_IP}:{TUNNEL_PORT}", "--cert", cert, "--key", key,
            "--client-prefix", CLIENT_PREFIX, "--static-tunnel-key", cls.key_file,
            "--allow-destination", LAB_ALLOWED, "--control-socket", cls.prov_sock])
        if not wait_for_socket(cls.prov_sock, prov):
            raise RuntimeError("dmux-provider did not start:\n" + lab.logs())
        cls.service = udp_socket(lab.ns["server"], (SERVER_V6, SERVICE_PORT), socket.AF_INET6)
        cls.service.settimeout(0.2)
        lab.closers.append(cls.service.close)
        cls.raw = raw_ipv4_socket(lab.ns["attacker"])
        lab.closers.append(cls.raw.close)

    def setUp(self):
        self.sniffer = Sniffer(self.lab.ns["router"], "eth0")
        self.addCleanup(self.sniffer.stop)
        self.side_sniffer = Sniffer(self.lab.ns["router"], "toattacker")
        self.addCleanup(self.side_sniffer.stop)

    # ---- helpers ------------------------------------------------------------------------------

    def status(self):
        return unix_request(self.prov_sock, "status")

    def drops(self):
        return self.status()["drops"]

    def service_received(self):
        n = 0
        while True:
            try:
                self.service.recvfrom(65535)
                n += 1
            except socket.timeout:
                return n

    def sent_by_router(self, pred=lambda dst, dport: True):
        """Datagrams the agent sent on either link (not its registration attempts)."""
        def mine(src, sport, dst, dport, payload):
            return src == ROUTER_IP and sport == TUNNEL_PORT and dport != REG_PORT and \
                pred(dst, dport)
        return self.sniffer.matching(mine) + self.side_sniffer.matching(mine)

    def wait_processed(self, before, count, timeout=20):
        """Waits until the agent has read `count` more datagrams than `before` (or stops moving)."""
        last, still = -1, 0
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            n = self.status()["tunnels_received"] - before
            if n >= count:
                return n
            still = still + 1 if n == last else 0
            if still >= 10:
                return n
            last = n
            time.sleep(0.1)
        return self.status()["tunnels_received"] - before

    def udp_from(self, src16, payload):
        return udp6_packet(src16, inet6(SERVER_V6), 40000, SERVICE_PORT, payload)

    # ---- attack 1 -----------------------------------------------------------------------------

    def capture_genuine(self, count):
        """A proven client sends `count` datagrams to the service through dmuxd; returns the
        TUNNELs dmuxd sent for them, as captured on the router's link."""
        sock = udp_socket(self.lab.ns["client"], (CLIENT_IP, 0))
        self.addCleanup(sock.close)
        port = sock.getsockname()[1]
        rt = request_token(sock, (GW_CLIENT, DATA_PORT), wire.IPV6, PROVIDER_ID)[0]
        me = wire.client_address(PREFIX_BYTES, wire.ip(CLIENT_IP), port, 0x1234)
        for i in range(count):
            packet = self.udp_from(me, b"genuine %d" % i)
            sock.sendto(wire.data(wire.IPV6, PROVIDER_ID, rt, packet), (GW_CLIENT, DATA_PORT))
        self.assertTrue(wait_for(lambda: len(self.tunnels_to_router()) >= count + 1, 5))
        return [p for p in self.tunnels_to_router() if not p[3] & wire.FLAG_CONTROL], me

    def tunnels_to_router(self):
        return [x[4] for x in self.sniffer.matching(
            lambda src, sport, dst, dport, payload: dst == ROUTER_IP and dport == TUNNEL_PORT and
            payload[:2] == bytes([wire.VERSION, wire.TUNNEL]))]

    def test_1_forged_tunnels_are_never_detunnelled(self):
        st0 = self.status()
        genuine, me = self.capture_genuine(100)
        self.assertEqual(len(genuine), 100)
        self.assertTrue(wait_for(lambda: self.status()["delivered_to_tun"] ==
                                 st0["delivered_to_tun"] + 100, 5))
        self.assertEqual(self.service_received(), 100)  # the genuine ones arrived
        self.sniffer.clear()  # (the TOKEN_OFFER the client got)
        st1 = self.status()
        me_port = wire.parse_client_address(me)["client_port"]
        payload = self.udp_from(me, b"forged")
        forged = []
        for i in range(40000):  # random key_ids, random counters and tags; token = v1's tag
            forged.append(wire.tunnel(wire.IPV6, PROVIDER_ID, wire.ip(CLIENT_IP), me_port,
                                      wire.ip(GW_CLIENT), 0x1234, secrets.randbits(32) | 1,
                                      secrets.randbits(64), payload)[:40] + os.urandom(16) +
                          payload)
        wrong_key = os.urandom(32)
        top = (1 << 64) - 1  # counters above the window: they reach the tag check
        for i in range(20000):  # the static key's id 0, random tags
            forged.append(wire.tunnel(wire.IPV6, PROVIDER_ID, wire.ip(CLIENT_IP), me_port,
                                      wire.ip(GW_CLIENT), 0x1234, 0, top - i, payload)[:40] +
                          os.urandom(16) + payload)
        for i in range(10000):  # sealed, but under another key
            forged.append(wire.tunnel(wire.IPV6, PROVIDER_ID, wire.ip(CLIENT_IP), me_port,
                                      wire.ip(GW_CLIENT), 0x1234, 0, top - 20000 - i, payload,
                                      key=wrong_key))
        for i in range(10000):  # old counters: below the window
            forged.append(wire.tunnel(wire.IPV6, PROVIDER_ID, wire.ip(CLIENT_IP), me_port,
                                      wire.ip(GW_CLIENT), 0x1234, 0, 10**15 + i, payload)[:40] +
                          os.urandom(16) + payload)
        v1 = v1_tunnel(CLIENT_IP, me_port, 0x1234, payload)
        forged += [v1] * 10000  # version 1: no key, no tag at all
        for t in genuine:  # replays of what dmuxd really sent
            forged += [t] * 100
        # The gateway's own tunnel source first: a source address proves nothing.
        sources = [GW_ROUTER, "198.18.3.2", "198.18.77.7", CLIENT_IP, "203.0.113.5"]
        started = time.monotonic()
        for i, d in enumerate(forged):
            send_spoofed(self.raw, sources[i % len(sources)], 40000 + i % 1000, ROUTER_IP,
                         TUNNEL_PORT, d)
            if i % 2000 == 1999:
                time.sleep(0.01)  # keep within the agent's socket buffer
        elapsed = time.monotonic() - started
        seen = self.wait_processed(st1["tunnels_received"], len(forged))
        st2 = self.status()
        delivered = st2["delivered_to_tun"] - st1["delivered_to_tun"]
        at_service = self.service_received()
        d0, d2 = st1["drops"], st2["drops"]
        by_reason = {k: d2[k] - d0[k] for k in d2 if d2[k] != d0[k]}
        print(f"\nattack 1: {len(forged)} forged TUNNELs sent in {elapsed:.1f} s from "
              f"{len(sources)} source addresses; the agent read {seen}, de-tunnelled {delivered}, "
              f"the UDP service received {at_service}; drops {by_reason}", file=sys.stderr)
        self.assertGreaterEqual(seen, len(forged) * 0.95)  # (a few may overflow the socket)
        self.assertEqual(delivered, 0)
        self.assertEqual(at_service, 0)
        self.assertEqual(st2["tunnels_accepted"], st1["tunnels_accepted"])
        self.assertEqual(sum(by_reason.get(k, 0) for k in
                             ("unknown_key", "bad_tag", "replayed", "unsupported_version")), seen,
                         by_reason)
        self.assertGreaterEqual(by_reason.get("replayed", 0), 10000 * 0.95)
        self.assertGreaterEqual(by_reason.get("bad_tag", 0), 30000 * 0.95)
        self.assertEqual(self.sent_by_router(), [])

    # ---- attack 2 -----------------------------------------------------------------------------

    def test_2_forged_solicitations_get_no_answer(self):
        st0 = self.status()
        rs = wire.router_solicitation()
        vip, vport = wire.ip(VICTIM[0]), VICTIM[1]
        sent = 0
        for i in range(200):  # forged TUNNELs: v1 (the 76-byte reflector of issue 11) and v2
            send_spoofed(self.raw, GW_ROUTER, 40000, ROUTER_IP, TUNNEL_PORT,
                         v1_tunnel(VICTIM[0], vport, 0, rs))
            send_spoofed(self.raw, GW_ROUTER, 40000, ROUTER_IP, TUNNEL_PORT,
                         wire.tunnel(wire.IPV6, 0, vip, vport, wire.ip(GW_CLIENT), 0, 0, i + 1, rs,
                                     key=os.urandom(32)))
            # Through the real dmuxd, from the victim's address, with a guessed token.
            send_spoofed(self.raw, VICTIM[0], vport, GW_CLIENT, DATA_PORT,
                         wire.data(wire.IPV6, 0, secrets.randbits(64), rs))
            sent += 3
        self.wait_processed(st0["tunnels_received"], sent, timeout=5)
        time.sleep(0.3)
        st = self.status()
        answered = st["solicitations_answered"] - st0["solicitations_answered"]
        unproven = st["drops"]["unproven"] - st0["drops"]["unproven"]
        print(f"\nattack 2: {sent} forged solicitations (v1 and v2 TUNNELs, and RS through dmuxd "
              f"from the victim's address); answered {answered}, unproven {unproven}, RETURNs "
              f"sent {len(self.sent_by_router())}", file=sys.stderr)
        self.assertEqual(answered, 0)
        self.assertEqual(unproven, 200)
        self.assertEqual(self.sent_by_router(), [])

    def test_3_a_token_request_is_answered_with_less_than_it_costs(self):
        sock = udp_socket(self.lab.ns["attacker"], (ATTACKER_IP, 0))
        self.addCleanup(sock.close)
        request = len(wire.data(wire.IPV6, 0, 1, wire.token_request()))
        rt, offer, answer = request_token(sock, (GW_CLIENT, DATA_PORT), wire.IPV6)
        print(f"\nTOKEN_REQUEST {request} bytes -> TOKEN_OFFER {len(answer)} bytes "
              f"(factor {len(answer) / request:.2f})", file=sys.stderr)
        self.assertEqual(request, 84)
        self.assertEqual(len(answer), 52)
        self.assertEqual(offer["client_ipv4"], wire.ip(ATTACKER_IP))

    # ---- attack 5 -----------------------------------------------------------------------------

    def test_4_nothing_goes_to_special_purpose_addresses(self):
        st0 = self.status()
        rs = wire.router_solicitation()
        for addr, port in SPECIAL:  # TUNNELs naming them, made by the real dmuxd
            for _ in range(10):
                send_spoofed(self.raw, addr, port, GW_CLIENT, DATA_PORT,
                             wire.data(wire.IPV6, 0, secrets.randbits(64), wire.token_request(),
                                       flags=wire.FLAG_CONTROL))
                send_spoofed(self.raw, addr, port, GW_CLIENT, DATA_PORT,
                             wire.data(wire.IPV6, 0, secrets.randbits(64), rs))
        server = udp_socket(self.lab.ns["server"], (SERVER_V6, 0), socket.AF_INET6)
        self.addCleanup(server.close)
        for addr, port in SPECIAL:  # IPv6 packets from the provider's network to them
            dst = socket.inet_ntop(socket.AF_INET6, wire.client_address(
                PREFIX_BYTES, wire.ip(addr), port, 0xdead))
            for _ in range(10):
                server.sendto(b"to " + addr.encode(), (dst, 53))
        self.assertTrue(wait_for(lambda: self.status()["tun_packets_read"] -
                                 st0["tun_packets_read"] >= 40, 5))
        time.sleep(0.3)
        st = self.status()
        specials = {a for a, _ in SPECIAL}
        leaked = self.sent_by_router(lambda dst, dport: dst in specials)
        forbidden = st["drops"]["forbidden_destination"] - st0["drops"]["forbidden_destination"]
        print(f"\nattack 5: 80 TUNNELs through dmuxd and 40 IPv6 packets naming "
              f"{', '.join(sorted(specials))}: forbidden_destination {forbidden}, unproven "
              f"{st['drops']['unproven'] - st0['drops']['unproven']}, sent there {len(leaked)}",
              file=sys.stderr)
        self.assertEqual(leaked, [])
        self.assertEqual(self.sent_by_router(), [])
        self.assertGreaterEqual(forbidden, 40 + 40)  # the offers and the IPv6 replies
        self.assertEqual(st["returned"], st0["returned"])


if __name__ == "__main__":
    unittest.main(verbosity=2)

"""Attacks on dmux-client's return path (docs/protocol.md 6.3, 13, 16; issue 11, attack 3), against
the real daemon in network namespaces (needs root).

In version 1 the RETURN token was the client's 32-bit address tag, so every server the client
talked to (it sees the client's IPv6 address) could send RETURNs as the client's provider: inject
any packet, or a Router Advertisement that renumbers the client; and with the ipv4-multicast
selector, unicast IPv4 came in through the TUN device, where rp_filter is off, past the host's
NAT and firewall. Each test prints what it tried and what came through.

    client ns (198.18.1.2: dmux-client)  ---  gw ns: the emulated gateway + router (198.18.1.1)
                                                     and a server the client talks to (198.18.1.99)

The emulated router (tests/pylib/ipdmux/client_lab.py) is deliberately lenient: it answers a
Router Solicitation whatever its token, echoing it as a version-1 router did. So the same tests
run against a version-1 client (DMUX_BUILD_DIR pointing at its build), where (a), (b) and (c)
fail: the attacks work there. (d) is the positive control: the check is what stops them.
"""
import os
import secrets
import shutil
import signal
import socket
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "pylib"))
from ipdmux import client_lab, wire  # noqa: E402
from ipdmux.client_lab import (CLIENT_IP, PROVIDER_ID, inet6, udp4_packet,  # noqa: E402
                               udp6_packet, udp_socket, wait_for)

BUILD_DIR = os.environ.get("DMUX_BUILD_DIR", os.path.join(HERE, "..", "..", "build"))
CLIENT = os.path.join(BUILD_DIR, "client", "dmux-client")
SERVER_IP = "198.18.1.99"
LISTEN_PORT = 6666
GROUP = "239.1.2.3"
MASK64 = (1 << 64) - 1


def tokens_derivable(address, tag, ipv4, port):
    """Every 64-bit token one could make of what the address shows: its 8- and 4-byte windows
    (both byte orders, 4-byte ones also shifted up), its fields and their combinations."""
    out = {0, MASK64, tag, tag << 32, ipv4, port, (ipv4 << 16) | port, (ipv4 << 32) | tag,
           (port << 32) | tag, (((ipv4 << 16) | port) << 32 | tag) & MASK64,
           int.from_bytes(tag.to_bytes(4, "big"), "little")}
    for i in range(0, 9):
        out |= {int.from_bytes(address[i:i + 8], "big"), int.from_bytes(address[i:i + 8], "little")}
    for i in range(0, 13):
        w = int.from_bytes(address[i:i + 4], "big")
        out |= {w, w << 32}
    hi, lo = int.from_bytes(address[:8], "big"), int.from_bytes(address[8:], "big")
    out |= {hi ^ lo, (hi + lo) & MASK64}
    return sorted(out)


def client_fields(address):
    """(client_ipv4, client_port, tag) embedded in a client address (docs/protocol.md 11)."""
    f = wire.parse_client_address(address)
    return f["client_ipv4"], f["client_port"], f["tag"]


class ClientInjection(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise unittest.SkipTest("needs root (network namespaces, iptables, TUN devices)")
        if not os.access(CLIENT, os.X_OK):
            raise RuntimeError(f"{CLIENT} is not built")
        cls.dir = tempfile.mkdtemp(prefix="dmux-client-injection-")
        try:
            cls.lab = client_lab.Lab(f"dmuxci-{os.getpid()}-", CLIENT, cls.dir, tun=False)
            client_lab.sh("ip", "addr", "add", f"{SERVER_IP}/24", "dev", "toclient",
                          ns=cls.lab.gw_ns)
        except BaseException:
            shutil.rmtree(cls.dir, ignore_errors=True)
            raise
        cls.emu = cls.lab.provider
        cls.emu.lenient = True

    @classmethod
    def tearDownClass(cls):
        cls.lab.close()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def setUp(self):
        self.socks = []
        self.client = None
        self.addCleanup(self.cleanup)

    def cleanup(self):
        for s in self.socks:
            s.close()
        if self.client is not None:
            self.client.stop(signal.SIGTERM)
            client_lab.sh(CLIENT, "--cleanup", ns=self.lab.client_ns, check=False)

    def start(self, *selectors):
        args = []
        for s in selectors:
            args += ["--capture", s]
        self.client = self.lab.start_client(*args, "--metrics-listen", "off")
        self.assertTrue(wait_for(lambda: self.client.try_status() is not None, timeout=10),
                        self.client.read_log())

    def socket_in(self, ns, bind, family=socket.AF_INET):
        s = udp_socket(ns, bind, family)
        self.socks.append(s)
        return s

    def dest(self):
        return CLIENT_IP, self.client.binding()[1]

    def bad_tokens(self):
        return self.client.status()["drops"]["bad_token"]

    def ipv6_client(self):
        """A client with the ipv6 selector and its address; a listener on [address]:6666."""
        self.start(f"ipv6:provider={PROVIDER_ID}")
        address = self.client.wait_address()
        listener = self.socket_in(self.lab.client_ns, (address, LISTEN_PORT), socket.AF_INET6)
        listener.settimeout(1)
        return address, listener

    def assert_nothing_arrives(self, listener, what):
        try:
            data = listener.recvfrom(2000)[0]
        except socket.timeout:
            return
        self.fail(f"{what}: injected into the host ({data!r})")

    # ---- (a) --------------------------------------------------------------------------------

    def test_a_a_server_cannot_send_as_the_provider(self):
        address, listener = self.ipv6_client()
        a = inet6(address)
        ipv4, port, tag = client_fields(a)
        tokens = tokens_derivable(a, tag, ipv4, port)
        server = self.socket_in(self.lab.gw_ns, (SERVER_IP, 0))
        packet = udp6_packet(inet6("2001:db8:1::2"), a, 443, LISTEN_PORT, b"injected")
        base = self.bad_tokens()
        print(f"\n(a) the server knows {address} (ipv4 {wire.ip_str(ipv4)}, port {port}, tag "
              f"{tag:#010x}); it sends {len(tokens)} RETURNs to {CLIENT_IP}:{port} with every "
              f"token derivable from it (the tag, {tag:#x}, among them)")
        for token in tokens:
            server.sendto(wire.return_msg(wire.IPV6, PROVIDER_ID, token, packet), self.dest())
        self.assert_nothing_arrives(listener, "(a) a RETURN with a token derived from the address")
        self.assertTrue(wait_for(lambda: self.bad_tokens() == base + len(tokens), timeout=3),
                        self.client.status()["drops"])
        print(f"(a) injected: none; the client counted {self.bad_tokens() - base} as bad_token")

    # ---- (b) --------------------------------------------------------------------------------

    def test_b_a_forged_router_advertisement_does_not_renumber(self):
        address, _ = self.ipv6_client()
        st = self.client.status()
        a = inet6(address)
        ipv4, port, tag = client_fields(a)
        forged = wire.router_advert(bytes.fromhex("20010db80bad"), wire.ip("198.18.66.66"), 1234,
                                    1280)
        tokens = tokens_derivable(a, tag, ipv4, port) + [secrets.randbits(64) for _ in range(16)]
        server = self.socket_in(self.lab.gw_ns, (SERVER_IP, 0))
        base = self.bad_tokens()
        print(f"\n(b) {len(tokens)} forged RAs offering 2001:db8:bad:c612:4242:4d2::/96 to "
              f"{address}, with tokens derived from the address and random ones")
        for token in tokens:
            server.sendto(wire.return_msg(wire.IPV6, PROVIDER_ID, token, forged), self.dest())
        counted = wait_for(lambda: self.bad_tokens() == base + len(tokens), timeout=3)
        time.sleep(0.3)
        after = self.client.status()
        print(f"(b) address before {address}, after {after['address']}; adverts accepted "
              f"{after['adverts'] - st['adverts']}")
        self.assertEqual(after["address"], address, "(b) a forged RA renumbered the client")
        self.assertEqual(after["address_changes"], 0)
        self.assertTrue(counted, after["drops"])

    # ---- (c) --------------------------------------------------------------------------------

    def test_c_no_unicast_through_the_multicast_selector(self):
        self.start("ipv4-multicast")
        unicast = self.socket_in(self.lab.client_ns, (CLIENT_IP, LISTEN_PORT))
        unicast.settimeout(1)
        member = self.socket_in(self.lab.client_ns, (GROUP, LISTEN_PORT + 1))
        member.settimeout(3)
        # Joining sends an IGMP report through the tunnel: the client's DATA shows its token. (A
        # version-2 client captures only once it holds its rt.)
        if "token" not in self.client.status():
            self.client.wait_tokens()
        member.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                          socket.inet_aton(GROUP) + socket.inet_aton("0.0.0.0"))
        self.assertTrue(wait_for(lambda: wire.IPV4_MCAST in self.emu.last_token, timeout=5),
                        self.client.read_log())
        token = self.emu.last_token[wire.IPV4_MCAST]
        if "binding" in self.client.status():  # version 2: the DATA token is the rt
            self.assertEqual(token, self.emu.rt(wire.IPV4_MCAST, *self.client.binding()))
        before = self.client.status()["drops"].get("not_for_us", 0)
        print(f"\n(c) a RETURN of ipv4-multicast with the client's valid token {token:#018x}, "
              f"carrying unicast UDP {SERVER_IP} -> {CLIENT_IP}:{LISTEN_PORT}")
        unicast_packet = udp4_packet(SERVER_IP, CLIENT_IP, 53, LISTEN_PORT, b"unicast")
        self.emu.send_return(self.dest(), wire.IPV4_MCAST, token, unicast_packet)
        self.assert_nothing_arrives(unicast, "(c) unicast IPv4 through the multicast TUN device")
        after = self.client.status()["drops"].get("not_for_us", 0)
        print(f"(c) injected: none; not_for_us {before} -> {after}")
        self.assertEqual(after, before + 1)
        # Control: the same RETURN with a group packet is injected and reaches the member.
        group_packet = udp4_packet(SERVER_IP, GROUP, 53, LISTEN_PORT + 1, b"group", ttl=1)
        self.emu.send_return(self.dest(), wire.IPV4_MCAST, token, group_packet)
        self.assertEqual(member.recvfrom(100)[0], b"group")
        print(f"(c) control: the same RETURN carrying a packet to {GROUP} reached the member")

    # ---- (d) --------------------------------------------------------------------------------

    def test_d_the_right_token_to_our_address_is_injected(self):
        address, listener = self.ipv6_client()
        token = self.emu.last_token[wire.IPV6]  # what the client's RS carried
        print(f"\n(d) control: a RETURN from the router with the token the client's own DATA "
              f"carries ({token:#018x}), to {address}:{LISTEN_PORT}")
        packet = udp6_packet(inet6("2001:db8:1::2"), inet6(address), 443, LISTEN_PORT, b"reply")
        self.emu.send_return(self.dest(), wire.IPV6, token, packet)
        self.assertEqual(listener.recvfrom(100)[0], b"reply")
        print("(d) injected: yes")


if __name__ == "__main__":
    unittest.main(verbosity=2)

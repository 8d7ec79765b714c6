"""A real dmuxd forwards DATA to the right router with every TUNNEL field right, byte for byte."""
import os
import socket
import struct
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from dmuxlib import (Client, Dmuxd, IPV6, IPV4_MCAST, Router, free_udp_port, ip_to_int, main,
                     parse_tunnel, wait_for)


class Forwarding(unittest.TestCase):
    def setUp(self):
        self.routers = [Router() for _ in range(3)]
        self.port = free_udp_port()
        # Two listen endpoints: an "anycast" one and a "unicast" one.
        self.listen = [("127.0.0.1", self.port), ("127.0.0.2", self.port)]
        self.conf = self.config([("ipv6", 7, r) for r in self.routers[:2]] +
                                [("ipv6", 9, self.routers[2])])
        self.d = Dmuxd([], config_text=self.conf)
        self.clients = []

    def tearDown(self):
        self.d.stop()
        for x in self.routers + self.clients:
            x.close()

    def config(self, routers):
        lines = [f"listen = {a}:{p}" for a, p in self.listen]
        lines.append("gateway-id = 198.18.0.1")
        lines += [f"static-router = {proto} {prov} {r.endpoint}" for proto, prov, r in routers]
        return "\n".join(lines) + "\n"

    def client(self, addr="127.0.0.1"):
        c = Client(addr)
        self.clients.append(c)
        return c

    def collect(self):
        return {i: r.recv_all(0.3) for i, r in enumerate(self.routers)}

    def test_every_tunnel_field_byte_for_byte(self):
        c = self.client("127.0.3.4")
        payload = bytes(range(256)) * 4
        c.send(self.listen[0], payload, proto=IPV6, provider=0, flags=0x5a)
        got = [d for per in self.collect().values() for d in per]
        self.assertEqual(len(got), 1)
        datagram, src = got[0]
        t = parse_tunnel(datagram)
        self.assertEqual(t["version"], 1)
        self.assertEqual(t["type"], 2)
        self.assertEqual(t["hdr_len"], 28)
        self.assertEqual(t["flags"], 0x5a)
        self.assertEqual(t["proto_id"], IPV6)
        self.assertEqual(t["client_port"], c.addr[1])
        self.assertEqual(t["provider_id"], 0)
        self.assertEqual(t["client_ipv4"], ip_to_int("127.0.3.4"))
        self.assertEqual(t["gateway_id"], ip_to_int("198.18.0.1"))
        self.assertEqual(t["token"], c.token)
        self.assertEqual(t["payload"], payload)
        self.assertEqual(len(datagram), 28 + len(payload))
        # Exactly the spec's layout, independent of parse_tunnel.
        want = struct.pack("!BBBBHHIIIQ", 1, 2, 28, 0x5a, IPV6, c.addr[1], 0,
                           ip_to_int("127.0.3.4"), ip_to_int("198.18.0.1"), c.token) + payload
        self.assertEqual(datagram, want)

    def test_both_listen_endpoints_forward(self):
        c = self.client()
        for ep in self.listen:
            c.send(ep, b"\x60hello", provider=9)
        self.assertEqual(len(self.collect()[2]), 2)

    def test_provider_specific_requests_only_reach_that_provider(self):
        for i in range(40):
            self.client(f"127.0.5.{i + 1}").send(self.listen[0], b"\x60x", provider=9)
        got = self.collect()
        self.assertEqual(len(got[2]), 40)
        self.assertEqual(len(got[0]) + len(got[1]), 0)

    def test_clients_stick_to_a_router_and_spread_over_routers(self):
        clients = [self.client(f"127.0.6.{i + 1}") for i in range(60)]
        for rnd in range(3):
            for c in clients:
                c.send(self.listen[rnd % 2], b"\x60" + bytes([rnd]), provider=7)
        got = self.collect()
        self.assertEqual(len(got[2]), 0)
        owner = {}
        for idx in (0, 1):
            for datagram, _ in got[idx]:
                t = parse_tunnel(datagram)
                key = (t["client_ipv4"], t["client_port"])
                self.assertEqual(owner.setdefault(key, idx), idx, "a client switched routers")
        self.assertEqual(len(owner), 60)
        per_router = [sum(1 for v in owner.values() if v == i) for i in (0, 1)]
        self.assertTrue(all(n >= 10 for n in per_router), per_router)

    def test_reload_moves_only_the_removed_routers_clients(self):
        clients = [self.client(f"127.0.7.{i + 1}") for i in range(60)]
        for c in clients:
            c.send(self.listen[0], b"\x60a", provider=0)
        before = {}
        for idx, per in self.collect().items():
            for d, _ in per:
                before[parse_tunnel(d)["client_ipv4"]] = idx
        # Remove router 1 while the data plane keeps running.
        self.d.reload(self.config([("ipv6", 7, self.routers[0]), ("ipv6", 9, self.routers[2])]))
        for c in clients:
            c.send(self.listen[0], b"\x60b", provider=0)
        after = {}
        for idx, per in self.collect().items():
            for d, _ in per:
                after[parse_tunnel(d)["client_ipv4"]] = idx
        self.assertEqual(len(after), 60)
        for client, idx in before.items():
            if idx != 1:
                self.assertEqual(after[client], idx, "a client of a remaining router moved")
            else:
                self.assertNotEqual(after[client], 1)
        self.assertEqual(len(self.d.ctl("routers")["routers"]), 2)

    def test_burst_is_forwarded_without_loss(self):
        c = self.client()
        n = 2000
        for i in range(n):
            c.send(self.listen[0], struct.pack("!I", i) + b"\x00" * 60, provider=9)
            if i % 100 == 0:
                time.sleep(0.001)
        seqs = {struct.unpack("!I", parse_tunnel(d)["payload"][:4])[0]
                for d, _ in self.routers[2].recv_all(0.5)}
        self.assertEqual(len(seqs), n)
        st = self.d.ctl("status")
        self.assertEqual(st["protocols"]["ipv6"]["forwarded_packets"], n)


if __name__ == "__main__":
    main()

"""docs/protocol.md's test vectors, read out of the document and rebuilt by tests/pylib (an
implementation of the spec independent of the C++ one, whose unit tests check the same bytes)."""
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ipdmux import crypto, packets, wire  # noqa: E402

DOC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "protocol.md")


def vectors():
    """{'Vector 2': bytes, 'R3': bytes, ...}: each bold label followed by a fenced hex block."""
    text = open(DOC, encoding="utf-8").read()
    out = {}
    for m in re.finditer(r"\*\*((?:Vector \d+|[A-Z]\d+))\b[^\n]*\n(?:(?!```|\*\*)[^\n]*\n)*?```\n(.*?)```",
                         text, re.S):
        block = m.group(2)
        block = re.sub(r"\((\d+) more 00\)", lambda g: "00 " * int(g.group(1)), block)
        block = re.sub(r"\((\d+) bytes 00\)", lambda g: "00 " * int(g.group(1)), block)
        out[m.group(1)] = bytes.fromhex(re.sub(r"[^0-9a-fA-F]", "", block))
    return out


def mix64(x):
    m = (1 << 64) - 1
    x = (x + 0x9E3779B97F4A7C15) & m
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & m
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & m
    return x ^ (x >> 31)


class ProtocolVectors(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.v = vectors()
        cls.text = open(DOC, encoding="utf-8").read()

    def test_data_path(self):
        P = bytes.fromhex("60000000")
        self.assertEqual(self.v["Vector 1"], wire.data(1, 0, 0x0102030405060708, P))
        key = bytes(range(32))
        v2 = wire.tunnel(1, 0, wire.ip("198.18.1.2"), 40000, wire.ip("198.18.0.1"),
                         0x0102030405060708, 42, 1, P, key=key)
        self.assertEqual(self.v["Vector 2"], v2)
        self.assertTrue(wire.tunnel_tag_ok(v2, key))
        self.assertFalse(wire.tunnel_tag_ok(v2[:-1] + b"\x61", key))
        self.assertEqual(self.v["Vector 3"], wire.return_msg(1, 7, 0x0102030405060708, P))
        self.assertEqual(self.v["Vector 4"],
                         wire.data(2, 42, 0xFFEEDDCCBBAA9988, bytes.fromhex("4600001c"), flags=0x80,
                                   hdr_len=24, options=bytes.fromhex("aabbccdd")))
        self.assertEqual(self.v["Vector 5"],
                         wire.data(1, 0, 0x1122334455667788, wire.token_request(),
                                   flags=wire.FLAG_CONTROL))
        self.assertEqual(len(self.v["Vector 5"]), 84)

    def test_return_tokens(self):
        k_r = crypto.return_key(bytes.fromhex("00112233445566778899aabbccddeeff"))
        self.assertIn("K_r = " + " ".join(f"{b:02x}" for b in k_r), self.text)
        rt = crypto.return_token(k_r, 1, 7, wire.ip("198.18.1.2"), 40000)
        self.assertIn(f"rt = 0x{rt:016x}", self.text)
        self.assertEqual(crypto.siphash24(bytes(range(16)), bytes(range(15))), 0xA129CA6149BE45E5)
        offer = wire.return_msg(1, 7, 0x1122334455667788,
                                wire.token_offer(rt, wire.ip("198.18.1.2"), 40000, 25),
                                flags=wire.FLAG_CONTROL)
        self.assertEqual(self.v["Vector 7"], offer)
        self.assertLess(len(offer), len(self.v["Vector 5"]))
        parsed = wire.parse_token_offer(wire.parse_shim(offer, wire.RETURN)["payload"])
        self.assertEqual(parsed["return_token"], rt)

    def test_negative_vectors_refused(self):
        good = self.v["Vector 1"]
        cases = {
            "unsupported_version": b"\x01" + good[1:],
            "truncated": good[:19],
            "malformed": good[:2] + b"\x10" + good[3:],
        }
        for reason, b in cases.items():
            with self.assertRaises(ValueError) as e:
                wire.parse_shim(b, wire.DATA)
            self.assertEqual(str(e.exception), reason)
        with self.assertRaises(ValueError):
            wire.parse_shim(self.v["Vector 2"], wire.DATA)

    def test_selection_hash(self):
        self.assertIn(f"mix64(0) = 0x{mix64(0):016x}", self.text)
        self.assertIn(f"mix64(7) = 0x{mix64(7):016x}", self.text)
        m = (1 << 64) - 1
        seed = mix64(((wire.ip("198.18.2.2") << 32) ^ (5000 << 16) ^ mix64(7)) & m)
        self.assertIn(f"`0x{seed:016x}`", self.text)
        score = mix64(seed ^ mix64(wire.ip("198.18.1.2")))
        self.assertIn(f"`0x{score:016x}`", self.text)

    def test_registration(self):
        self.assertEqual(self.v["R1"], wire.cookie_request(0x0102030405060708))
        c = wire.parse_cookie(self.v["R2"])
        self.assertEqual(c["gateway_id"], wire.ip("198.18.0.1"))
        self.assertEqual(c["cookie"], bytes(range(0xA0, 0xB0)))
        sk = crypto.ed25519_from_seed(bytes.fromhex(
            "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"))
        r3 = wire.register(sk, 1, 5000, 7, wire.ip("198.18.2.2"), wire.ip("198.18.0.1"),
                           1700000000000000, bytes(range(0xA0, 0xB0)), b"\x55" * 32, 850,
                           bytes.fromhex("3003020107"))
        self.assertEqual(self.v["R3"], r3)
        pub = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
        self.assertTrue(crypto.ed25519_verify(pub, r3[-64:], r3[:-66]))
        S, sid, ts = b"\x11" * 32, 0x0A0B0C0D0E0F1011, 1700000000000000
        K = crypto.session_key(S, sid, ts)
        self.assertIn("K = " + K.hex(), self.text)
        self.assertIn("K_t = " + crypto.tunnel_key(S, sid, ts).hex(), self.text)
        self.assertEqual(self.v["R5"], wire.keepalive(K, sid, 1, rtt_us=850))
        moved = wire.register_with(r3, router_port=5001, router_ipv4=wire.ip("198.18.2.3"),
                                   gateway_id=wire.ip("198.18.0.2"), cookie=bytes(16))
        self.assertEqual(moved, r3[:6] + bytes.fromhex("1389") + r3[8:12] +
                         bytes([198, 18, 2, 3, 198, 18, 0, 2]) + r3[20:28] + bytes(16) + r3[44:])
        self.assertEqual(len(self.v["R5"]), 44)

    def test_address_offer(self):
        self.assertEqual(self.v["C1"], wire.router_solicitation())
        self.assertTrue(wire.is_router_solicitation(self.v["C1"]))
        p = bytes.fromhex("20010db80007")
        self.assertEqual(self.v["C2"], wire.router_advert(p, wire.ip("198.18.1.2"), 40000, 1400))
        a = wire.client_address(p, wire.ip("198.18.1.2"), 40000, 0xDEADBEEF)
        self.assertEqual(packets.inet6_str(a), "2001:db8:7:c612:102:9c40:dead:beef")
        self.assertEqual(wire.parse_client_address(a), {
            "prefix": p, "client_ipv4": wire.ip("198.18.1.2"), "client_port": 40000,
            "tag": 0xDEADBEEF})

    def test_multicast_summary(self):
        g = [wire.ip("239.1.1.1"), wire.ip("239.2.2.2")]
        m1 = wire.mcast_summary(wire.ip("198.18.2.2"), 5000, 7, 1700000000000000,
                                1700000000000123, 1000,
                                [(wire.ip("198.18.11.2"), 40000, 0xAAAA, 1500, g)])
        self.assertEqual(self.v["M1"], m1)
        key = wire.mcast_peer_key(b"0123456789abcdef")
        sealed = wire.mcast_summary(wire.ip("198.18.2.2"), 5000, 7, 1700000000000000,
                                    1700000000000123, 1000,
                                    [(wire.ip("198.18.11.2"), 40000, 0xAAAA, 1500, g)], key=key)
        self.assertEqual(sealed[:-16], m1)
        self.assertEqual(sealed[-16:], crypto.hmac_sha256(key, m1)[:16])
        gd = wire.mcast_group_data(1, 2, 7, 3, 4, 5, 6, 8, b"\x45" + bytes(27))
        self.assertEqual(gd[:4], bytes.fromhex("02210400"))
        self.assertEqual(len(gd), wire.MCAST_PEER_HDR + 16 + 28)

    def test_version_1_and_forgeries(self):
        v1 = wire.tunnel_v1(wire.IPV6, 7, wire.ip("198.18.1.2"), 40000, wire.ip("198.18.0.1"), 9,
                            b"\x60")
        self.assertEqual(v1[:4], bytes.fromhex("01021c00"))
        self.assertEqual(len(v1), 29)
        with self.assertRaises(ValueError) as e:
            wire.parse_tunnel(v1)
        self.assertEqual(str(e.exception), "unsupported_version")
        ack = wire.keepalive_ack(1, wire.ip("198.18.0.1"), 0x0A0B0C0D0E0F1011, 5)
        self.assertEqual(wire.parse_keepalive_ack(ack), {
            "result": 1, "gateway_id": wire.ip("198.18.0.1"), "session_id": 0x0A0B0C0D0E0F1011,
            "counter": 5, "mac": bytes(16)})
        self.assertEqual(wire.mesh_frame(30, b""), bytes.fromhex("021e080000000000"))

    def test_mesh_router_record(self):
        r = wire.mesh_router(1, 5000, 7, wire.ip("198.18.2.2"), 600, 42, bytes(range(32)),
                             wire.ip("198.18.0.1"), 1700000000000000, bytes(16), b"\x55" * 32, 850,
                             b"\x77" * 32, b"\x88" * 64)
        self.assertEqual(len(r), wire.MESH_ROUTER_LEN)
        self.assertEqual(r[8:12], bytes([198, 18, 2, 2]))
        self.assertEqual(r[20:24], bytes([wire.SUITE_AES256_GMAC, 0, 0, 0]))
        self.assertEqual(r[56:60], bytes([198, 18, 0, 1]))
        moved = wire.mesh_router_with(r, router_ipv4=wire.ip("10.0.0.1"), key_id=5,
                                      router_rtt_us=601)
        self.assertEqual(moved, r[:8] + bytes([10, 0, 0, 1]) + (601).to_bytes(4, "big") +
                         (5).to_bytes(4, "big") + r[20:])


if __name__ == "__main__":
    unittest.main(verbosity=2)

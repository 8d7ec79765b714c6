"""Every IPdmux wire format of docs/protocol.md (version 2), written from the spec alone.

Packers return bytes; parsers return dicts and raise ValueError on anything the spec refuses.
Names follow the spec's field names."""
import socket
import struct

from . import crypto, packets
from .packets import inet_checksum, ipv6_l4_checksum  # noqa: F401  (re-exported)

VERSION = 2
DATA, TUNNEL, RETURN = 1, 2, 3
REGISTER, REGISTER_ACK, KEEPALIVE, KEEPALIVE_ACK, DEREGISTER = 4, 5, 6, 7, 8
COOKIE_REQUEST, COOKIE = 9, 10
SUMMARY, GROUP_DATA = 32, 33
IPV6, IPV4_MCAST = 1, 2
FLAG_CONTROL = 0x01
TOKEN_REQUEST, TOKEN_OFFER = 1, 2

DATA_HDR = 20
TUNNEL_HDR = 56
TUNNEL_TAG_OFFSET = 40
TOKEN_REQUEST_LEN = 64
TOKEN_OFFER_LEN = 32
SUITE_AES256_GMAC = 1


def ip(a):
    """Dotted quad -> int."""
    return struct.unpack("!I", socket.inet_aton(a))[0]


def ip_str(n):
    return socket.inet_ntoa(struct.pack("!I", n))


# --- data path (4-7) ---------------------------------------------------------------------------

def data(proto, provider, token, payload, flags=0, version=VERSION, hdr_len=DATA_HDR,
         msg_type=DATA, options=b""):
    return struct.pack("!BBBBHHIQ", version, msg_type, hdr_len, flags, proto, 0, provider,
                       token) + options + payload


def return_msg(proto, provider, token, payload, flags=0):
    return data(proto, provider, token, payload, flags, msg_type=RETURN)


def parse_shim(b, want_type):
    if len(b) < 4:
        raise ValueError("truncated")
    version, msg_type, hdr_len, flags = struct.unpack("!BBBB", b[:4])
    if version != VERSION:
        raise ValueError("unsupported_version")
    if msg_type != want_type:
        raise ValueError("unexpected_type")
    if len(b) < DATA_HDR:
        raise ValueError("truncated")
    if hdr_len < DATA_HDR or hdr_len % 4:
        raise ValueError("malformed")
    if hdr_len >= len(b):
        raise ValueError("truncated" if hdr_len > len(b) else "malformed")
    proto, _, provider, token = struct.unpack("!HHIQ", b[4:20])
    if proto in (0, 0xFFFF):
        raise ValueError("malformed")
    return {"flags": flags, "proto_id": proto, "provider_id": provider, "token": token,
            "payload": b[hdr_len:]}


def tunnel(proto, provider, client_ipv4, client_port, gateway_id, token, key_id, counter, payload,
           key=None, flags=0):
    """A TUNNEL; sealed with `key` (32 bytes) if given, else with a zero tag."""
    hdr = struct.pack("!BBBBHHIIIQIQ", VERSION, TUNNEL, TUNNEL_HDR, flags, proto, client_port,
                      provider, client_ipv4, gateway_id, token, key_id, counter) + bytes(16)
    msg = hdr + payload
    if key is None:
        return msg
    tag = crypto.tunnel_tag(key, gateway_id, counter, msg)
    return msg[:TUNNEL_TAG_OFFSET] + tag + msg[TUNNEL_HDR:]


def parse_tunnel(b):
    if len(b) < 4:
        raise ValueError("truncated")
    version, msg_type, hdr_len, flags = struct.unpack("!BBBB", b[:4])
    if version != VERSION:
        raise ValueError("unsupported_version")
    if msg_type != TUNNEL:
        raise ValueError("unexpected_type")
    if len(b) < TUNNEL_HDR:
        raise ValueError("truncated")
    if hdr_len < TUNNEL_HDR or hdr_len % 4:
        raise ValueError("malformed")
    if hdr_len >= len(b):
        raise ValueError("truncated" if hdr_len > len(b) else "malformed")
    f = struct.unpack("!HHIIIQIQ", b[4:40])
    keys = ("proto_id", "client_port", "provider_id", "client_ipv4", "gateway_id", "token",
            "key_id", "counter")
    t = dict(zip(keys, f))
    t.update(version=version, type=msg_type, hdr_len=hdr_len, flags=flags, tag=b[40:56],
             payload=b[hdr_len:])
    return t


def tunnel_tag_ok(b, key):
    t = parse_tunnel(b)
    zeroed = b[:TUNNEL_TAG_OFFSET] + bytes(16) + b[TUNNEL_HDR:]
    return crypto.tunnel_tag(key, t["gateway_id"], t["counter"], zeroed) == t["tag"]


def tunnel_v1(proto, provider, client_ipv4, client_port, gateway_id, token, payload):
    """A version-1 TUNNEL (section 17: 28-byte header, no key, no tag), which every version-2
    router must drop as unsupported_version."""
    return struct.pack("!BBBBHHIIIQ", 1, TUNNEL, 28, 0, proto, client_port, provider, client_ipv4,
                       gateway_id, token) + payload


# --- client <-> router control (7) -------------------------------------------------------------

def token_request():
    return bytes([TOKEN_REQUEST]) + bytes(TOKEN_REQUEST_LEN - 1)


def token_offer(return_token, client_ipv4, client_port, refresh_s):
    return struct.pack("!B3xQIHHI8x", TOKEN_OFFER, return_token, client_ipv4, client_port, 0,
                       refresh_s)


def parse_token_offer(payload):
    if len(payload) < 1 or payload[0] != TOKEN_OFFER:
        raise ValueError("malformed")
    if len(payload) != TOKEN_OFFER_LEN:
        raise ValueError("truncated" if len(payload) < TOKEN_OFFER_LEN else "malformed")
    _, rt, addr, port, _, refresh = struct.unpack("!B3xQIHHI8x", payload)
    return {"return_token": rt, "client_ipv4": addr, "client_port": port, "refresh_s": refresh}


# --- registration (9) --------------------------------------------------------------------------

def control_header(msg_type, version=VERSION):
    return struct.pack("!BBBB", version, msg_type, 4, 0)


def cookie_request(nonce):
    return control_header(COOKIE_REQUEST) + struct.pack("!Q", nonce) + bytes(28)


def parse_cookie(b):
    if len(b) != 40 or b[:4] != control_header(COOKIE):
        raise ValueError("not a COOKIE")
    gw, _, nonce, cookie, valid_ms = struct.unpack("!IIQ16sI", b[4:])
    return {"gateway_id": gw, "nonce": nonce, "cookie": cookie, "valid_ms": valid_ms}


def register_unsigned(proto, router_port, provider, router_ipv4, gateway_id, timestamp_us, cookie,
                      session_public, rtt_us, cert_der):
    return (control_header(REGISTER) +
            struct.pack("!HHIIIQ", proto, router_port, provider, router_ipv4, gateway_id,
                        timestamp_us) + cookie + session_public +
            struct.pack("!IH", rtt_us, len(cert_der)) + cert_der)


REGISTER_FIELDS = {"proto_id": (4, "!H"), "router_port": (6, "!H"), "provider_id": (8, "!I"),
                   "router_ipv4": (12, "!I"), "gateway_id": (16, "!I"), "timestamp_us": (20, "!Q"),
                   "cookie": (28, "16s")}


def with_fields(table, msg, **fields):
    """`msg` with the named fields of `table` ({name: (offset, struct format)}) replaced; nothing
    re-signed or re-MACed (what a forger who rewrites captured bytes sends)."""
    out = bytearray(msg)
    for name, value in fields.items():
        offset, fmt = table[name]
        struct.pack_into(fmt, out, offset, value)
    return bytes(out)


def register_with(msg, **fields):
    """A REGISTER (9.2) with fields rewritten: register_with(r, router_port=..., cookie=...)."""
    return with_fields(REGISTER_FIELDS, msg, **fields)


def register(signing_key, *args, **kwargs):
    unsigned = register_unsigned(*args, **kwargs)
    return unsigned + struct.pack("!H", 64) + crypto.ed25519_sign(signing_key, unsigned)


def parse_register_ack(b):
    if len(b) != 92 or b[:4] != control_header(REGISTER_ACK):
        raise ValueError("not a REGISTER_ACK")
    result, gw, sid, ts, ka, hold, gw_pub, key_id, suite, mac = struct.unpack(
        "!B3xIQQII32sIB3x16s", b[4:])
    return {"result": result, "gateway_id": gw, "session_id": sid, "timestamp_us": ts,
            "keepalive_interval_ms": ka, "hold_time_ms": hold, "session_key": gw_pub,
            "key_id": key_id, "suite": suite, "mac": mac}


def keepalive(key, session_id, counter, msg_type=KEEPALIVE, rtt_us=0):
    body = control_header(msg_type) + struct.pack("!QQII", session_id, counter, rtt_us, 0)
    return body + crypto.session_mac(key, body)


def keepalive_ack(result, gateway_id, session_id, counter, mac=bytes(16)):
    """9.5; the MAC as given (zero by default: what an off-path forger can write)."""
    return control_header(KEEPALIVE_ACK) + struct.pack("!B3xIQQ", result, gateway_id, session_id,
                                                       counter) + mac


def parse_keepalive_ack(b):
    if len(b) != 44 or b[:4] != control_header(KEEPALIVE_ACK):
        raise ValueError("not a KEEPALIVE_ACK")
    result, gw, sid, counter, mac = struct.unpack("!B3xIQQ16s", b[4:])
    return {"result": result, "gateway_id": gw, "session_id": sid, "counter": counter, "mac": mac}


# --- mesh (12) ---------------------------------------------------------------------------------

MESH_HELLO, MESH_FULL_STATE, MESH_UPDATE, MESH_PROBE, MESH_PROBE_REPLY, MESH_PEERS = range(16, 22)
MESH_CERTIFICATE, MESH_CRL = 22, 23


def mesh_frame(frame_type, body, version=VERSION):
    return struct.pack("!BBBBI", version, frame_type, 8, 0, len(body)) + body


def mesh_hello(gateway_id, listen_ip, listen_port, incarnation, seq):
    return mesh_frame(MESH_HELLO, struct.pack("!IIHHQQ", gateway_id, listen_ip, listen_port, 0,
                                              incarnation, seq))


def mesh_router(proto, port, provider, addr, router_rtt_us, key_id, tunnel_key, gateway_id,
                timestamp_us, cookie, session_public, signed_rtt_us, cert_hash, signature,
                suite=SUITE_AES256_GMAC):
    return (struct.pack("!HHIIIIB3x", proto, port, provider, addr, router_rtt_us, key_id, suite) +
            tunnel_key + struct.pack("!IQ", gateway_id, timestamp_us) + cookie + session_public +
            struct.pack("!I", signed_rtt_us) + cert_hash + signature)


MESH_ROUTER_LEN = 216
MESH_ROUTER_FIELDS = {"proto_id": (0, "!H"), "router_port": (2, "!H"), "provider_id": (4, "!I"),
                      "router_ipv4": (8, "!I"), "router_rtt_us": (12, "!I"), "key_id": (16, "!I")}


def mesh_router_with(record, **fields):
    """`record` (a 216-byte router record, 12.2) with the named leading fields replaced, e.g.
    mesh_router_with(r, router_ipv4=..., key_id=...); nothing re-signed."""
    return with_fields(MESH_ROUTER_FIELDS, record, **fields)


def mesh_full_state(origin, incarnation, seq, routers, part=0, parts=1):
    return mesh_frame(MESH_FULL_STATE, struct.pack("!IQQHHI", origin, incarnation, seq, part, parts,
                                                   len(routers)) + b"".join(routers))


def mesh_update_add(origin, incarnation, seq, router):
    return mesh_frame(MESH_UPDATE, struct.pack("!IQQB3x", origin, incarnation, seq, 1) + router)


def mesh_update_remove(origin, incarnation, seq, proto, port, provider, addr):
    return mesh_frame(MESH_UPDATE, struct.pack("!IQQB3xHHII", origin, incarnation, seq, 2, proto,
                                               port, provider, addr))


def mesh_peers(peers):
    """`peers`: (gateway_id, ip int, port)."""
    return mesh_frame(MESH_PEERS, struct.pack("!I", len(peers)) + b"".join(
        struct.pack("!IIHH", g, a, p, 0) for g, a, p in peers))


def mesh_probe(seq, sent_us, reply=False):
    return mesh_frame(MESH_PROBE_REPLY if reply else MESH_PROBE, struct.pack("!QQ", seq, sent_us))


# --- the address offer (11, 13) ----------------------------------------------------------------

ICMPV6 = 58
ALL_ROUTERS = bytes.fromhex("ff020000000000000000000000000002")
ALL_NODES = bytes.fromhex("ff020000000000000000000000000001")
ROUTER_LINK_LOCAL = bytes.fromhex("fe800000000000000000000000000001")


def _icmpv6_packet(src, dst, icmp):
    return packets.icmpv6_packet(src, dst, icmp, hop_limit=255)


def client_address(prefix48, client_ipv4, client_port, tag):
    """Section 11: P (6 bytes) || client_ipv4 || client_port || tag, 16 bytes."""
    return prefix48[:6] + struct.pack("!IHI", client_ipv4, client_port, tag)


def parse_client_address(a):
    """The fields of a 16-byte client address (section 11)."""
    ipv4, port, tag = struct.unpack("!IHI", a[6:16])
    return {"prefix": a[:6], "client_ipv4": ipv4, "client_port": port, "tag": tag}


def router_solicitation():
    """Section 13.1: the 48-byte RS payload of a client's DATA (vector C1)."""
    return _icmpv6_packet(bytes(16), ALL_ROUTERS, struct.pack("!BBHI", 133, 0, 0, 0))


def is_router_solicitation(p):
    return (len(p) >= 48 and p[0] >> 4 == 6 and p[6] == ICMPV6 and p[7] == 255 and
            p[8:24] == bytes(16) and p[24:40] == ALL_ROUTERS and p[40] == 133 and p[41] == 0 and
            struct.unpack("!H", p[4:6])[0] == len(p) - 40 and
            ipv6_l4_checksum(p[8:24], p[24:40], ICMPV6, p[40:]) == 0)


def router_advert(prefix48, client_ipv4, client_port, mtu, lifetime_s=600):
    """Section 13.2: the 96-byte RA payload of the RETURN answering an RS (vector C2)."""
    offer = prefix48[:6] + struct.pack("!IH", client_ipv4, client_port) + bytes(4)
    icmp = (struct.pack("!BBHBBHII", 134, 0, 0, 64, 0, 1800, 0, 0) +
            struct.pack("!BBBBIII", 3, 4, 96, 0, lifetime_s, lifetime_s, 0) + offer +
            struct.pack("!BBHI", 5, 1, 0, mtu))
    return _icmpv6_packet(ROUTER_LINK_LOCAL, ALL_NODES, icmp)


# --- multicast overlay, router <-> router (14.2) ------------------------------------------------

MCAST_PEER_HDR = 32


def mcast_peer_key(secret):
    """P = HMAC-SHA256(secret, "ipdmux-v2-mcast-peer")."""
    return crypto.hmac_sha256(secret, b"ipdmux-v2-mcast-peer")


def mcast_peer(msg_type, router_ipv4, router_port, provider, seq, sent_us, body, key=None,
               part=0, parts=0):
    """A SUMMARY or GROUP_DATA; with the MAC under `key` (the derived P) if given, else without."""
    msg = (control_header(msg_type) + struct.pack("!IHBBIQQ", router_ipv4, router_port, part, parts,
                                                  provider, seq, sent_us) + body)
    return msg + crypto.session_mac(key, msg) if key is not None else msg


def mcast_summary(router_ipv4, router_port, provider, seq, sent_us, interval_ms, members,
                  key=None, part=0, parts=1):
    """`members`: (client_ipv4, client_port, token, age_ms, [group ints])."""
    body = struct.pack("!IHH", interval_ms, len(members), 0) + b"".join(
        struct.pack("!IHHQI", a, p, len(g), t, age) + struct.pack(f"!{len(g)}I", *g)
        for a, p, t, age, g in members)
    return mcast_peer(SUMMARY, router_ipv4, router_port, provider, seq, sent_us, body, key,
                      part, parts)


def mcast_group_data(router_ipv4, router_port, provider, seq, sent_us, origin_ipv4, origin_port,
                     origin_token, packet, key=None):
    body = struct.pack("!IHHQ", origin_ipv4, origin_port, 0, origin_token) + packet
    return mcast_peer(GROUP_DATA, router_ipv4, router_port, provider, seq, sent_us, body, key)

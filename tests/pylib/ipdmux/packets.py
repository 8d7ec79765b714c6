"""Generic IPv4/IPv6/UDP/ICMP/IGMP packets for tests and benchmarks: not IPdmux's formats (those
are in wire.py), only what goes inside them or around them. The one copy (issue 14)."""
import socket
import struct

ICMP, IGMP, UDP, ICMPV6 = 1, 2, 17, 58
UDP_SEGMENT = 103  # linux/udp.h: the segment size of a UDP GSO send


def inet6(text):
    return socket.inet_pton(socket.AF_INET6, text)


def inet6_str(b):
    return socket.inet_ntop(socket.AF_INET6, b)


def inet_checksum(data):
    """RFC 1071 one's-complement sum, complemented."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def with_checksum(b, offset):
    """`b` with the 16-bit field at `offset` set to the checksum of `b` (that field zero)."""
    return b[:offset] + struct.pack("!H", inet_checksum(b)) + b[offset + 2:]


def ipv6_l4_checksum(src, dst, next_header, l4):
    return inet_checksum(src + dst + struct.pack("!I3xB", len(l4), next_header) + l4)


def ipv4_packet(src, dst, proto, body, ttl=64, frag=0x4000, checksum=True):
    """An IPv4 packet (`src`, `dst` dotted quads; 20-byte header, DF set unless `frag` says
    otherwise); the header checksum left 0 with checksum=False (a raw socket's kernel fills it)."""
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(body), 0, frag, ttl, proto, 0,
                      socket.inet_aton(src), socket.inet_aton(dst))
    return (with_checksum(hdr, 10) if checksum else hdr) + body


def ipv6_packet(src, dst, next_header, body, hop_limit=64):
    """An IPv6 packet (`src`, `dst` 16 bytes each), no extension headers."""
    return struct.pack("!IHBB", 6 << 28, len(body), next_header, hop_limit) + src + dst + body


def parse_ipv6(p):
    vtf, plen, nh, _ = struct.unpack("!IHBB", p[:8])
    return dict(version=vtf >> 28, payload_len=plen, next_header=nh, src=p[8:24], dst=p[24:40],
                payload=p[40:])


def udp_header(sport, dport, payload):
    """A UDP header and payload with checksum 0 (to be filled in)."""
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


def udp6_packet(src, dst, sport, dport, payload):
    udp = udp_header(sport, dport, payload)
    udp = udp[:6] + struct.pack("!H", ipv6_l4_checksum(src, dst, UDP, udp) or 0xFFFF) + udp[8:]
    return ipv6_packet(src, dst, UDP, udp)


def udp4_packet(src, dst, sport, dport, payload, ttl=64):
    """An IPv4 UDP packet (`src`, `dst` dotted quads), checksums filled in."""
    s, d = socket.inet_aton(src), socket.inet_aton(dst)
    udp = udp_header(sport, dport, payload)
    pseudo = s + d + struct.pack("!BBH", 0, UDP, len(udp))
    udp = udp[:6] + struct.pack("!H", inet_checksum(pseudo + udp) or 0xFFFF) + udp[8:]
    return ipv4_packet(src, dst, UDP, udp, ttl=ttl)


def icmpv6_packet(src, dst, icmp, hop_limit=64):
    """An IPv6 packet carrying the ICMPv6 message `icmp` (its checksum field filled in)."""
    icmp = icmp[:2] + struct.pack("!H", ipv6_l4_checksum(src, dst, ICMPV6, icmp)) + icmp[4:]
    return ipv6_packet(src, dst, ICMPV6, icmp, hop_limit)


def echo_request(src, dst, ident, seq, data):
    """An ICMPv6 echo request (`src`, `dst` 16 bytes each), checksum filled in."""
    return icmpv6_packet(src, dst, struct.pack("!BBHHH", 128, 0, 0, ident, seq) + data)


def igmpv2_report(src, group):
    """An IPv4 packet from `src` carrying an IGMPv2 membership report for `group`."""
    igmp = with_checksum(struct.pack("!BBH4s", 0x16, 0, 0, socket.inet_aton(group)), 2)
    return ipv4_packet(src, group, IGMP, igmp, ttl=1, frag=0)


def icmp4_port_unreachable(quoted):
    """An ICMP type 3 code 3 message quoting `quoted` (the start of an IPv4 packet)."""
    return with_checksum(struct.pack("!BBHI", 3, 3, 0, 0) + quoted, 2)


def ip_mreq(group, iface_addr="0.0.0.0"):
    """The IP_ADD_MEMBERSHIP argument (struct ip_mreq) for IPv4 group `group`."""
    return struct.pack("4s4s", socket.inet_aton(group), socket.inet_aton(iface_addr))


def ip_mreqn(group, ifindex=0):
    """The IP_ADD_MEMBERSHIP argument (struct ip_mreqn): group, any address, interface index."""
    return socket.inet_aton(group) + socket.inet_aton("0.0.0.0") + struct.pack("@i", ifindex)


def udp_segment_cmsg(segment_size):
    """Ancillary data for a UDP GSO sendmsg: cut the buffer into `segment_size`-byte datagrams."""
    return (socket.SOL_UDP, UDP_SEGMENT, struct.pack("=H", segment_size))

#include "common/net/l4_packet.h"

#include "common/wire/byte_reader.h"

namespace dmux::net {
namespace {

L4Status parse_ipv4(wire::ByteReader& r, std::size_t size, bool lengths_from_ip,
                    L4Packet& out) noexcept {
  std::uint8_t vihl = 0, tos = 0, ttl = 0, proto = 0;
  std::uint16_t total = 0, id = 0, frag = 0;
  if (!r.read_u8(vihl) || !r.read_u8(tos) || !r.read_u16(total) || !r.read_u16(id) ||
      !r.read_u16(frag) || !r.read_u8(ttl) || !r.read_u8(proto)) {
    return L4Status::kTruncated;
  }
  const std::size_t ihl = std::size_t{vihl & 0x0fu} * 4;
  if (ihl < 20) return L4Status::kMalformed;
  if (ihl > size) return L4Status::kTruncated;
  if (lengths_from_ip) {
    if (total < ihl) return L4Status::kMalformed;
    if (total != size) return total > size ? L4Status::kTruncated : L4Status::kMalformed;
  }
  if ((frag & 0x3fffu) != 0) return L4Status::kUnsupported;  // MF or an offset: a fragment
  out.protocol = proto;
  out.l4_offset = ihl;
  return L4Status::kOk;
}

L4Status parse_ipv6(wire::ByteReader& r, std::size_t size, bool lengths_from_ip,
                    L4Packet& out) noexcept {
  std::uint32_t vtcfl = 0;
  std::uint16_t payload = 0;
  std::uint8_t next = 0;
  if (!r.read_u32(vtcfl) || !r.read_u16(payload) || !r.read_u8(next)) return L4Status::kTruncated;
  if (size < 40) return L4Status::kTruncated;
  if (lengths_from_ip && std::size_t{payload} + 40 != size) {
    return std::size_t{payload} + 40 > size ? L4Status::kTruncated : L4Status::kMalformed;
  }
  out.protocol = next;
  out.l4_offset = 40;
  return L4Status::kOk;
}

}  // namespace

L4Status parse_l4_packet(std::span<const std::byte> packet, bool lengths_from_ip,
                         L4Packet& out) noexcept {
  wire::ByteReader r(packet);
  std::uint8_t first = 0;
  if (!r.read_u8(first)) return L4Status::kTruncated;
  wire::ByteReader ip(packet);
  L4Packet p;
  p.ip_version = static_cast<std::uint8_t>(first >> 4);
  L4Status s = L4Status::kMalformed;
  if (p.ip_version == 4) s = parse_ipv4(ip, packet.size(), lengths_from_ip, p);
  if (p.ip_version == 6) s = parse_ipv6(ip, packet.size(), lengths_from_ip, p);
  if (s != L4Status::kOk) return s;
  if (p.protocol != kIpProtoTcp && p.protocol != kIpProtoUdp) return L4Status::kUnsupported;
  wire::ByteReader l4(packet.subspan(p.l4_offset));
  if (p.protocol == kIpProtoUdp) {
    if (!l4.skip(8)) return L4Status::kTruncated;
    p.l4_header_len = 8;
  } else {
    std::uint8_t offset = 0;
    if (!l4.skip(12) || !l4.read_u8(offset)) return L4Status::kTruncated;
    p.l4_header_len = static_cast<std::size_t>(offset >> 4) * 4;
    if (p.l4_header_len < 20) return L4Status::kMalformed;
    if (p.l4_header_len > l4.remaining() + 13) return L4Status::kTruncated;
  }
  p.ip_len = packet.size();
  out = p;
  return L4Status::kOk;
}

}  // namespace dmux::net

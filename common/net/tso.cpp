#include "common/net/tso.h"

#include <algorithm>
#include <cstring>

#include "common/net/checksum.h"
#include "common/net/l4_packet.h"
#include "common/wire/byte_reader.h"

namespace dmux::net {
namespace {

constexpr std::uint8_t kTcpFin = 0x01;
constexpr std::uint8_t kTcpPsh = 0x08;
constexpr std::uint8_t kTcpCwr = 0x80;

void put16(std::span<std::byte> p, std::size_t at, std::uint16_t v) noexcept {
  p[at] = static_cast<std::byte>(v >> 8);
  p[at + 1] = static_cast<std::byte>(v & 0xff);
}

void put32(std::span<std::byte> p, std::size_t at, std::uint32_t v) noexcept {
  put16(p, at, static_cast<std::uint16_t>(v >> 16));
  put16(p, at + 2, static_cast<std::uint16_t>(v & 0xffff));
}

// A packet that is not GSO: copied, its checksum finished where the kernel left it partial.
TsoStatus copy_one(const VirtioNetHdr& vh, std::span<const std::byte> packet, std::size_t headroom,
                   std::span<std::byte> out, SegmentLayout& layout) noexcept {
  if (headroom + packet.size() > out.size()) return TsoStatus::kNoRoom;
  const std::size_t start = vh.csum_start;
  if (vh.needs_csum() &&
      (start > packet.size() || vh.csum_offset + std::size_t{2} > packet.size() - start)) {
    return TsoStatus::kMalformed;
  }
  const std::span<std::byte> dst = out.subspan(headroom, packet.size());
  if (!packet.empty()) std::memcpy(dst.data(), packet.data(), packet.size());
  if (vh.needs_csum()) {
    // The field holds the pseudo-header sum; summing from csum_start over it finishes the job.
    std::uint16_t sum = checksum_sum(dst.subspan(start));
    if (sum == 0xffff) sum = 0;  // a complement of 0 is sent as 0xffff (matters for UDP)
    store_checksum(dst.subspan(start + vh.csum_offset, 2), sum);
  }
  layout = SegmentLayout{
      .count = 1, .datagram_len = headroom + packet.size(), .last_len = headroom + packet.size()};
  return TsoStatus::kOk;
}

struct Original {
  std::uint16_t ipv4_id = 0;
  std::uint32_t tcp_seq = 0;
};

bool read_original(std::span<const std::byte> packet, const L4Packet& p, Original& o) noexcept {
  wire::ByteReader ip(packet);
  if (p.ip_version == 4 && (!ip.skip(4) || !ip.read_u16(o.ipv4_id))) return false;
  if (p.protocol != kIpProtoTcp) return true;
  wire::ByteReader tcp(packet.subspan(p.l4_offset));
  return tcp.skip(4) && tcp.read_u32(o.tcp_seq);
}

// Lengths, ids, sequence number, flags and checksums of segment `i` (its headers and payload are
// in `seg` already).
void finish_segment(std::span<std::byte> seg, const L4Packet& p, const Original& o, std::size_t i,
                    bool last, std::size_t mss) noexcept {
  const std::size_t l4_len = seg.size() - p.l4_offset;
  if (p.ip_version == 4) {
    put16(seg, 2, static_cast<std::uint16_t>(seg.size()));
    put16(seg, 4, static_cast<std::uint16_t>(o.ipv4_id + i));
    put16(seg, 10, 0);
    store_checksum(seg.subspan(10, 2), checksum_sum(seg.first(p.l4_offset)));
  } else {
    put16(seg, 4, static_cast<std::uint16_t>(seg.size() - 40));
  }
  const std::span<std::byte> l4 = seg.subspan(p.l4_offset);
  std::size_t csum_at = 6;
  if (p.protocol == kIpProtoTcp) {
    put32(l4, 4, static_cast<std::uint32_t>(o.tcp_seq + i * mss));
    auto flags = std::to_integer<std::uint8_t>(l4[13]);
    if (!last) flags = static_cast<std::uint8_t>(flags & ~(kTcpFin | kTcpPsh));
    if (i != 0) flags = static_cast<std::uint8_t>(flags & ~kTcpCwr);
    l4[13] = static_cast<std::byte>(flags);
    csum_at = 16;
  } else {
    put16(l4, 4, static_cast<std::uint16_t>(l4_len));
  }
  put16(l4, csum_at, 0);
  const std::size_t addr_len = p.ip_version == 4 ? 4 : 16;
  const std::size_t addr_at = p.ip_version == 4 ? 12 : 8;
  const std::uint16_t pseudo =
      pseudo_header_sum(seg.subspan(addr_at, addr_len), seg.subspan(addr_at + addr_len, addr_len),
                        p.protocol, l4_len);
  std::uint16_t sum = checksum_sum(l4, pseudo);
  if (sum == 0xffff && p.protocol == kIpProtoUdp) sum = 0;  // UDP sends 0 as 0xffff
  store_checksum(l4.subspan(csum_at, 2), sum);
}

bool gso_matches(GsoType type, const L4Packet& p) noexcept {
  switch (type) {
    case GsoType::kTcpV4:
      return p.ip_version == 4 && p.protocol == kIpProtoTcp;
    case GsoType::kTcpV6:
      return p.ip_version == 6 && p.protocol == kIpProtoTcp;
    case GsoType::kUdpL4:
      return p.protocol == kIpProtoUdp;
    default:
      return false;
  }
}

}  // namespace

TsoStatus segment_packet(const VirtioNetHdr& vh, std::span<const std::byte> packet,
                         std::size_t max_ip_len, std::size_t headroom, std::span<std::byte> out,
                         SegmentLayout& layout) noexcept {
  if (!vh.is_gso()) return copy_one(vh, packet, headroom, out, layout);
  L4Packet p;
  switch (parse_l4_packet(packet, false, p)) {
    case L4Status::kOk:
      break;
    case L4Status::kTruncated:
      return TsoStatus::kTruncated;
    case L4Status::kMalformed:
      return TsoStatus::kMalformed;
    case L4Status::kUnsupported:
      return TsoStatus::kUnsupported;
  }
  if (!gso_matches(vh.gso_type, p)) return TsoStatus::kUnsupported;
  Original o;
  if (!read_original(packet, p, o)) return TsoStatus::kTruncated;
  const std::size_t h = p.headers_len();
  std::size_t mss = vh.gso_size;
  if (max_ip_len != 0) {
    if (max_ip_len <= h) return TsoStatus::kMalformed;
    mss = std::min(mss, max_ip_len - h);
  }
  const std::size_t payload = packet.size() - h;
  const std::size_t count = payload == 0 ? 1 : (payload + mss - 1) / mss;
  if (segment_room(packet.size(), h, count, headroom) > out.size()) return TsoStatus::kNoRoom;
  const std::size_t stride = headroom + h + mss;
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t len = std::min(mss, payload - i * mss);
    const std::span<std::byte> seg = out.subspan(i * stride + headroom, h + len);
    std::memcpy(seg.data(), packet.data(), h);
    if (len != 0) std::memcpy(seg.data() + h, packet.data() + h + i * mss, len);
    finish_segment(seg, p, o, i, i + 1 == count, mss);
  }
  layout = SegmentLayout{.count = count,
                         .datagram_len = stride,
                         .last_len = headroom + h + (payload - (count - 1) * mss)};
  if (count == 1) layout.datagram_len = layout.last_len;
  return TsoStatus::kOk;
}

}  // namespace dmux::net

#include "common/net/gro.h"

#include <cstring>
#include <stdexcept>

#include "common/net/checksum.h"
#include "common/net/l4_packet.h"
#include "common/wire/byte_reader.h"

namespace dmux::net {
namespace {

constexpr std::uint32_t kNone = 0xffffffffu;
// A write's header block: the virtio_net_hdr and at most 60 bytes of IPv4 (or 40 of IPv6) and 60
// of TCP headers.
constexpr std::size_t kHeaderBlock = kVirtioNetHdrLen + 120;
constexpr std::uint8_t kTcpFin = 0x01, kTcpSyn = 0x02, kTcpRst = 0x04, kTcpPsh = 0x08,
                       kTcpAck = 0x10, kTcpUrg = 0x20, kTcpCwr = 0x80;

// What add() learns of a packet; everything else is compared byte for byte with the item's head.
struct Seen {
  L4Packet p;
  std::uint32_t seq = 0;
  std::uint8_t tcp_flags = 0;
  std::size_t payload = 0;
};

bool inspect(std::span<const std::byte> packet, bool udp, Seen& s) noexcept {
  if (parse_l4_packet(packet, true, s.p) != L4Status::kOk) return false;
  s.payload = packet.size() - s.p.headers_len();
  if (s.payload == 0) return false;
  if (s.p.protocol == kIpProtoUdp) return udp;
  wire::ByteReader tcp(packet.subspan(s.p.l4_offset));
  if (!tcp.skip(4) || !tcp.read_u32(s.seq) || !tcp.skip(5) || !tcp.read_u8(s.tcp_flags))
    return false;
  constexpr std::uint8_t kEnds = kTcpFin | kTcpSyn | kTcpRst | kTcpUrg | kTcpCwr;
  return (s.tcp_flags & kEnds) == 0 && (s.tcp_flags & kTcpAck) != 0;
}

// FNV-1a over the addresses and ports: a cheap filter before the byte comparison.
std::uint32_t flow_hash(std::span<const std::byte> packet, const L4Packet& p) noexcept {
  const std::size_t at = p.ip_version == 4 ? 12 : 8;
  const std::size_t len = p.ip_version == 4 ? 8 : 32;
  std::uint32_t h = 2166136261u ^ p.protocol;
  for (std::byte b : packet.subspan(at, len))
    h = (h ^ std::to_integer<std::uint32_t>(b)) * 16777619u;
  for (std::byte b : packet.subspan(p.l4_offset, 4))
    h = (h ^ std::to_integer<std::uint32_t>(b)) * 16777619u;
  return h;
}

bool same_bytes(std::span<const std::byte> a, std::span<const std::byte> b, std::size_t at,
                std::size_t len) noexcept {
  return std::memcmp(a.data() + at, b.data() + at, len) == 0;
}

// Everything of the headers that must be equal for two packets to be one flow's segments: IP
// fields but lengths, ids and checksums; transport ports, and for TCP ack, data offset, flags but
// PSH, window, urgent pointer and options.
bool same_flow(std::span<const std::byte> head, std::span<const std::byte> pkt, const L4Packet& hp,
               const L4Packet& pp) noexcept {
  if (hp.ip_version != pp.ip_version || hp.protocol != pp.protocol ||
      hp.l4_offset != pp.l4_offset || hp.l4_header_len != pp.l4_header_len) {
    return false;
  }
  if (hp.ip_version == 4) {
    if (!same_bytes(head, pkt, 0, 2) || !same_bytes(head, pkt, 8, 2) ||
        !same_bytes(head, pkt, 12, hp.l4_offset - 12)) {
      return false;
    }
    if (((std::to_integer<unsigned>(head[6]) ^ std::to_integer<unsigned>(pkt[6])) & 0x40u) != 0)
      return false;  // DF differs
  } else if (!same_bytes(head, pkt, 0, 4) || !same_bytes(head, pkt, 6, 34)) {
    return false;
  }
  const std::size_t l4 = hp.l4_offset;
  if (!same_bytes(head, pkt, l4, 4)) return false;
  if (hp.protocol == kIpProtoUdp) return true;
  if (!same_bytes(head, pkt, l4 + 8, 5) || !same_bytes(head, pkt, l4 + 14, 2) ||
      !same_bytes(head, pkt, l4 + 18, hp.l4_header_len - 18)) {
    return false;
  }
  const auto flags_a = std::to_integer<unsigned>(head[l4 + 13]) & ~unsigned{kTcpPsh};
  const auto flags_b = std::to_integer<unsigned>(pkt[l4 + 13]) & ~unsigned{kTcpPsh};
  return flags_a == flags_b;
}

void put16(std::span<std::byte> p, std::size_t at, std::uint16_t v) noexcept {
  p[at] = static_cast<std::byte>(v >> 8);
  p[at + 1] = static_cast<std::byte>(v & 0xff);
}

// The head's headers (copied), made the super-packet's: IP length (and IPv4 header checksum),
// UDP length or the last segment's TCP flags (its PSH), and the partial transport checksum: the
// folded pseudo-header sum, not complemented (the kernel finishes it).
void finish_headers(std::span<std::byte> hdrs, std::uint8_t ip_version, std::uint8_t protocol,
                    std::size_t l4_offset, std::size_t total_len,
                    std::uint8_t last_flags) noexcept {
  const std::size_t l4_len = total_len - l4_offset;
  if (ip_version == 4) {
    put16(hdrs, 2, static_cast<std::uint16_t>(total_len));
    put16(hdrs, 10, 0);
    store_checksum(hdrs.subspan(10, 2), checksum_sum(hdrs.first(l4_offset)));
  } else {
    put16(hdrs, 4, static_cast<std::uint16_t>(total_len - 40));
  }
  const std::span<std::byte> l4 = hdrs.subspan(l4_offset);
  const bool tcp = protocol == kIpProtoTcp;
  if (tcp) {
    l4[13] = static_cast<std::byte>(last_flags);
  } else {
    put16(l4, 4, static_cast<std::uint16_t>(l4_len));
  }
  const std::size_t addr_len = ip_version == 4 ? 4 : 16;
  const std::size_t addr_at = ip_version == 4 ? 12 : 8;
  put16(l4, tcp ? 16 : 6,
        pseudo_header_sum(hdrs.subspan(addr_at, addr_len),
                          hdrs.subspan(addr_at + addr_len, addr_len), protocol, l4_len));
}

}  // namespace

GroBatch::GroBatch(const GroConfig& config)
    : config_(config),
      packets_(config.max_packets),
      next_(config.max_packets, kNone),
      items_(config.max_packets),
      arena_(config.max_packets * kHeaderBlock),
      pieces_(2 * config.max_packets),
      writes_(config.max_packets) {
  if (config.max_packets == 0 || config.max_packets >= kNone ||
      config.max_super_len > kMaxIpPacket || config.max_segments < 1) {
    throw std::invalid_argument("unusable GRO configuration");
  }
}

bool GroBatch::add(std::span<const std::byte> packet) noexcept {
  if (packet.empty() || packet.size() > kMaxIpPacket || count_ == config_.max_packets) return false;
  const auto index = static_cast<std::uint32_t>(count_);
  packets_[count_++] = packet;
  next_[index] = kNone;
  ++counters_.packets;
  Seen s;
  const bool coalescable = inspect(packet, config_.coalesce_udp, s);
  const std::uint32_t hash = coalescable ? flow_hash(packet, s.p) : 0;
  if (coalescable) {
    for (std::size_t k = item_count_; k-- > 0;) {
      Item& it = items_[k];
      if (it.protocol == 0 || it.flow_hash != hash) continue;
      const L4Packet head{.ip_version = it.ip_version,
                          .protocol = it.protocol,
                          .l4_offset = it.l4_offset,
                          .l4_header_len = std::size_t{it.headers_len} - it.l4_offset};
      if (!same_flow(packets_[it.first], packet, head, s.p)) continue;
      if (try_join(it, index, s.payload, s.seq, s.tcp_flags)) return true;
      break;  // the flow's newest item cannot take it: it starts a new one
    }
  }
  Item& it = items_[item_count_++];
  it = Item{.first = index, .last = index, .segments = 1};
  if (coalescable) {
    it.flow_hash = hash;
    it.ip_version = s.p.ip_version;
    it.protocol = s.p.protocol;
    it.headers_len = static_cast<std::uint16_t>(s.p.headers_len());
    it.l4_offset = static_cast<std::uint16_t>(s.p.l4_offset);
    it.gso_size = static_cast<std::uint16_t>(s.payload);
    it.next_seq = s.seq + static_cast<std::uint32_t>(s.payload);
    it.total_len = static_cast<std::uint32_t>(packet.size());
    it.closed = (s.tcp_flags & kTcpPsh) != 0;
  }
  return true;
}

bool GroBatch::try_join(Item& it, std::uint32_t index, std::size_t payload, std::uint32_t seq,
                        std::uint8_t tcp_flags) noexcept {
  if (it.closed || payload > it.gso_size || it.segments >= config_.max_segments ||
      it.total_len + payload > config_.max_super_len) {
    return false;
  }
  if (it.protocol == kIpProtoTcp && seq != it.next_seq) return false;
  next_[it.last] = index;
  it.last = index;
  ++it.segments;
  it.total_len += static_cast<std::uint32_t>(payload);
  it.next_seq += static_cast<std::uint32_t>(payload);
  it.closed = payload < it.gso_size || (tcp_flags & kTcpPsh) != 0;
  ++counters_.coalesced;
  return true;
}

std::span<const GroWrite> GroBatch::flush() noexcept {
  std::size_t at = 0, piece = 0;
  for (std::size_t k = 0; k < item_count_; ++k) {
    GroWrite& w = writes_[k];
    at += emit(items_[k], at, piece, w);
    piece += w.pieces.size();
  }
  const std::size_t n = item_count_;
  counters_.writes += n;
  count_ = 0;
  item_count_ = 0;
  return std::span<const GroWrite>(writes_.data(), n);
}

std::size_t GroBatch::emit(const Item& it, std::size_t at, std::size_t piece,
                           GroWrite& out) noexcept {
  const std::span<std::byte> block(arena_.data() + at, kHeaderBlock);
  const std::span<const std::byte> head = packets_[it.first];
  iovec* const pieces = pieces_.data() + piece;
  const auto put = [&](std::size_t i, const std::byte* p, std::size_t len) {
    pieces[i] = iovec{const_cast<std::byte*>(p), len};  // writev only reads through it
  };
  VirtioNetHdr vh;
  if (it.segments == 1) {
    write_virtio_hdr(block, vh);
    put(0, block.data(), kVirtioNetHdrLen);
    put(1, head.data(), head.size());
    out = GroWrite{.pieces = std::span<const iovec>(pieces, 2),
                   .size = kVirtioNetHdrLen + head.size(),
                   .packets = 1,
                   .bytes = static_cast<std::uint32_t>(head.size())};
    return kVirtioNetHdrLen;
  }
  const bool tcp = it.protocol == kIpProtoTcp;
  vh.flags = kVirtioFlagNeedsCsum;
  vh.gso_type = tcp ? (it.ip_version == 4 ? GsoType::kTcpV4 : GsoType::kTcpV6) : GsoType::kUdpL4;
  vh.hdr_len = it.headers_len;
  vh.gso_size = it.gso_size;
  vh.csum_start = it.l4_offset;
  vh.csum_offset = tcp ? 16 : 6;
  write_virtio_hdr(block, vh);
  const std::span<std::byte> hdrs = block.subspan(kVirtioNetHdrLen, it.headers_len);
  std::memcpy(hdrs.data(), head.data(), it.headers_len);
  put(0, block.data(), kVirtioNetHdrLen + it.headers_len);
  std::size_t n = 1;
  std::uint8_t last_flags = 0;
  for (std::uint32_t i = it.first; i != kNone; i = next_[i]) {
    const std::span<const std::byte> seg = packets_[i];
    put(n++, seg.data() + it.headers_len, seg.size() - it.headers_len);
    if (tcp) last_flags = std::to_integer<std::uint8_t>(seg[it.l4_offset + 13]);
  }
  finish_headers(hdrs, it.ip_version, it.protocol, it.l4_offset, it.total_len, last_flags);
  out = GroWrite{
      .pieces = std::span<const iovec>(pieces, n),
      .size = kVirtioNetHdrLen + it.total_len,
      .packets = it.segments,
      .bytes = static_cast<std::uint32_t>(it.total_len + (it.segments - 1) * it.headers_len)};
  return kVirtioNetHdrLen + it.headers_len;
}

}  // namespace dmux::net

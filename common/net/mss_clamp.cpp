#include "common/net/mss_clamp.h"

#include "common/net/l4_packet.h"
#include "common/wire/byte_reader.h"

namespace dmux::net {
namespace {

constexpr std::uint8_t kTcpSyn = 0x02;
constexpr std::uint8_t kOptionEnd = 0, kOptionNop = 1, kOptionMss = 2;

// The offset (within the TCP header) of the MSS option's value, or 0 if there is none.
std::size_t find_mss(std::span<const std::byte> tcp_header) noexcept {
  wire::ByteReader r(tcp_header.subspan(20));
  while (r.remaining() > 0) {
    std::uint8_t kind = 0, len = 0;
    if (!r.read_u8(kind) || kind == kOptionEnd) return 0;
    if (kind == kOptionNop) continue;
    if (!r.read_u8(len) || len < 2) return 0;
    if (kind == kOptionMss && len == 4) return r.remaining() >= 2 ? 20 + r.position() : 0;
    if (!r.skip(len - 2u)) return 0;
  }
  return 0;
}

void put16(std::span<std::byte> p, std::size_t at, std::uint16_t v) noexcept {
  p[at] = static_cast<std::byte>(v >> 8);
  p[at + 1] = static_cast<std::byte>(v & 0xff);
}

}  // namespace

bool clamp_tcp_mss(std::span<std::byte> packet, std::size_t mtu) noexcept {
  L4Packet p;
  if (parse_l4_packet(packet, true, p) != L4Status::kOk || p.protocol != kIpProtoTcp) return false;
  const std::span<std::byte> tcp = packet.subspan(p.l4_offset, p.l4_header_len);
  wire::ByteReader r(tcp);
  std::uint8_t flags = 0;
  std::uint16_t checksum = 0;
  if (!r.skip(13) || !r.read_u8(flags) || !r.skip(2) || !r.read_u16(checksum)) return false;
  if ((flags & kTcpSyn) == 0) return false;
  const std::size_t at = find_mss(tcp);
  if (at == 0) return false;
  wire::ByteReader value(tcp.subspan(at));
  std::uint16_t mss = 0;
  if (!value.read_u16(mss)) return false;
  const std::uint16_t limit = mss_for_mtu(mtu, p.ip_version);
  if (mss <= limit) return false;
  // RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m')
  std::uint32_t sum = static_cast<std::uint16_t>(~checksum);
  sum += static_cast<std::uint16_t>(~mss);
  sum += limit;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  put16(tcp, at, limit);
  put16(tcp, 16, static_cast<std::uint16_t>(~sum));
  return true;
}

}  // namespace dmux::net

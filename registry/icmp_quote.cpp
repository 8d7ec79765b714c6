#include "registry/icmp_quote.h"

#include <algorithm>

#include "common/wire/byte_reader.h"

namespace dmux::registry {
namespace {
constexpr std::uint8_t kProtoIcmp = 1;
constexpr std::uint8_t kProtoUdp = 17;
constexpr std::uint8_t kIcmpDestUnreachable = 3;
constexpr std::uint8_t kCodePortUnreachable = 3;

struct Ipv4 {
  std::uint8_t protocol = 0;
  std::uint16_t total_len = 0;
  bool fragment = false;  // not the first fragment, or more follow
  std::uint32_t src = 0, dst = 0;
};

// Reads an IPv4 header with its options; the reader ends up after it.
QuoteStatus read_ipv4(wire::ByteReader& r, Ipv4& out) noexcept {
  std::uint8_t vihl = 0, tos = 0, ttl = 0;
  std::uint16_t id = 0, frag = 0, csum = 0;
  if (!r.read_u8(vihl)) return QuoteStatus::kTruncated;
  if ((vihl >> 4) != 4 || (vihl & 0x0f) < 5) return QuoteStatus::kMalformed;
  if (!r.read_u8(tos) || !r.read_u16(out.total_len) || !r.read_u16(id) || !r.read_u16(frag) ||
      !r.read_u8(ttl) || !r.read_u8(out.protocol) || !r.read_u16(csum) || !r.read_u32(out.src) ||
      !r.read_u32(out.dst) || !r.skip(4U * (vihl & 0x0fU) - 20U)) {
    return QuoteStatus::kTruncated;
  }
  out.fragment = (frag & 0x3fff) != 0;  // MF set or a non-zero offset
  return QuoteStatus::kOk;
}
}  // namespace

std::string_view to_string(QuoteStatus s) noexcept {
  switch (s) {
    case QuoteStatus::kOk:
      return "ok";
    case QuoteStatus::kTruncated:
      return "truncated";
    case QuoteStatus::kMalformed:
      return "malformed";
    case QuoteStatus::kNotApplicable:
      return "not_applicable";
  }
  return "unknown";
}

QuoteStatus parse_port_unreachable(std::span<const std::byte> packet,
                                   PortUnreachable& out) noexcept {
  wire::ByteReader r(packet);
  Ipv4 outer;
  if (const auto s = read_ipv4(r, outer); s != QuoteStatus::kOk) return s;
  if (outer.protocol != kProtoIcmp || outer.fragment) return QuoteStatus::kNotApplicable;
  std::uint8_t type = 0, code = 0;
  std::uint16_t csum = 0;
  if (!r.read_u8(type) || !r.read_u8(code) || !r.read_u16(csum) || !r.skip(4)) {
    return QuoteStatus::kTruncated;
  }
  if (type != kIcmpDestUnreachable || code != kCodePortUnreachable) {
    return QuoteStatus::kNotApplicable;
  }
  Ipv4 inner;
  if (const auto s = read_ipv4(r, inner); s != QuoteStatus::kOk) return s;
  if (inner.protocol != kProtoUdp || inner.fragment) return QuoteStatus::kNotApplicable;
  PortUnreachable pu;
  std::uint16_t udp_csum = 0;
  if (!r.read_u16(pu.quoted_sport) || !r.read_u16(pu.quoted_dport) ||
      !r.read_u16(pu.quoted_udp_len) || !r.read_u16(udp_csum)) {
    return QuoteStatus::kTruncated;
  }
  if (pu.quoted_udp_len < 8) return QuoteStatus::kMalformed;
  // Bytes beyond the declared UDP length are padding, not payload.
  const std::size_t n = std::min<std::size_t>(r.remaining(), pu.quoted_udp_len - 8U);
  if (!r.read_bytes(n, pu.payload)) return QuoteStatus::kTruncated;
  pu.reporter = outer.src;
  pu.quoted_src = inner.src;
  pu.quoted_dst = inner.dst;
  out = pu;
  return QuoteStatus::kOk;
}

}  // namespace dmux::registry

#include "client/router_discovery.h"

#include <algorithm>

#include "common/wire/address_offer.h"
#include "common/wire/byte_reader.h"
#include "common/wire/byte_writer.h"
#include "common/wire/inet_checksum.h"

namespace dmux::client {
namespace {

using namespace wire::offer;

constexpr std::size_t kIpv6HeaderLen = 40;

constexpr std::array<std::byte, 16> kUnspecified{};

struct Icmpv6View {
  std::span<const std::byte> src, dst, icmp;
};

// A whole IPv6 packet carrying ICMPv6 directly (no extension headers) with hop limit 255.
bool view_icmpv6(std::span<const std::byte> packet, Icmpv6View& v) noexcept {
  wire::ByteReader r(packet);
  std::uint32_t vtf = 0;
  std::uint16_t payload_len = 0;
  std::uint8_t next_header = 0, hop_limit = 0;
  if (!r.read_u32(vtf) || !r.read_u16(payload_len) || !r.read_u8(next_header) ||
      !r.read_u8(hop_limit) || !r.read_bytes(16, v.src) || !r.read_bytes(16, v.dst)) {
    return false;
  }
  if ((vtf >> 28) != 6 || payload_len != r.remaining() || next_header != kIcmpv6 ||
      hop_limit != 255) {
    return false;
  }
  v.icmp = r.rest();
  return true;
}

}  // namespace

std::size_t write_solicitation(std::span<std::byte> out) noexcept {
  if (out.size() < kSolicitationLen) return 0;
  wire::ByteWriter w(out.first(kSolicitationLen));
  w.u32(6u << 28);
  w.u16(8);
  w.u8(kIcmpv6);
  w.u8(255);
  w.bytes(kUnspecified);
  w.bytes(kAllRouters);
  w.u8(kRouterSolicitation);
  w.u8(0);
  w.u16(0);  // checksum, below
  w.u32(0);  // reserved
  if (!w.ok()) return 0;
  const std::uint16_t sum = wire::ipv6_l4_checksum(kUnspecified, kAllRouters, kIcmpv6,
                                                   std::span<const std::byte>(out).subspan(40, 8));
  out[42] = static_cast<std::byte>(sum >> 8);
  out[43] = static_cast<std::byte>(sum & 0xff);
  return kSolicitationLen;
}

bool is_router_advert(std::span<const std::byte> packet) noexcept {
  return packet.size() > kIpv6HeaderLen && packet[6] == std::byte{kIcmpv6} &&
         packet[kIpv6HeaderLen] == std::byte{kRouterAdvertisement};
}

bool parse_router_advert(std::span<const std::byte> packet, Offer& out) noexcept {
  Icmpv6View v;
  if (!view_icmpv6(packet, v)) return false;
  if (wire::ipv6_l4_checksum(v.src.first<16>(), v.dst.first<16>(), kIcmpv6, v.icmp) != 0)
    return false;
  wire::ByteReader r(v.icmp);
  std::uint8_t type = 0, code = 0;
  if (!r.read_u8(type) || !r.read_u8(code) || type != kRouterAdvertisement || code != 0 ||
      !r.skip(14)) {
    return false;
  }
  Offer offer;
  bool have_prefix = false;
  while (r.remaining() > 0) {
    std::uint8_t opt = 0, len8 = 0;
    std::span<const std::byte> body;
    if (!r.read_u8(opt) || !r.read_u8(len8) || len8 == 0 || !r.read_bytes(len8 * 8u - 2, body))
      return false;  // truncated, or a zero-length option (RFC 4861 says discard)
    wire::ByteReader o(body);
    if (opt == kOptPrefixInfo && len8 == 4) {
      std::uint8_t bits = 0;
      std::uint32_t valid_s = 0;
      std::span<const std::byte> prefix;
      if (!o.read_u8(bits) || !o.skip(1) || !o.read_u32(valid_s) || !o.skip(8) ||
          !o.read_bytes(16, prefix)) {
        return false;
      }
      if (bits != kOfferPrefixBits) continue;
      std::copy(prefix.begin(), prefix.begin() + 12, offer.prefix.begin());
      wire::ByteReader embedded(prefix);
      if (!embedded.skip(6) || !embedded.read_u32(offer.client_ipv4) ||
          !embedded.read_u16(offer.client_port)) {
        return false;  // unreachable: the prefix has 16 bytes
      }
      offer.valid_lifetime_s = valid_s;
      have_prefix = true;
    } else if (opt == kOptMtu && len8 == 1) {
      if (!o.skip(2) || !o.read_u32(offer.mtu)) return false;
    }
  }
  if (!have_prefix) return false;
  out = offer;
  return true;
}

}  // namespace dmux::client

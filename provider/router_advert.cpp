#include "provider/router_advert.h"

#include <algorithm>

#include "common/wire/address_offer.h"
#include "common/wire/byte_reader.h"
#include "common/wire/byte_writer.h"
#include "common/wire/inet_checksum.h"

namespace dmux::provider {
namespace {

using namespace wire::offer;

constexpr std::uint16_t kRouterLifetimeSeconds = 1800;

constexpr Ipv6Address kAllNodes{
    std::byte{0xff}, std::byte{0x02}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {},
    std::byte{1}};
// The RA's source: a fixed link-local address of the (virtual) link between agent and client.
constexpr Ipv6Address kRouterLinkLocal{
    std::byte{0xfe}, std::byte{0x80}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {},
    std::byte{1}};

}  // namespace

bool is_router_solicitation(std::span<const std::byte> packet) noexcept {
  wire::ByteReader r(packet);
  std::uint32_t vtf = 0;
  std::uint16_t payload_len = 0;
  std::uint8_t next_header = 0, hop_limit = 0, type = 0, code = 0;
  std::span<const std::byte> src, dst;
  if (!r.read_u32(vtf) || !r.read_u16(payload_len) || !r.read_u8(next_header) ||
      !r.read_u8(hop_limit) || !r.read_bytes(16, src) || !r.read_bytes(16, dst)) {
    return false;
  }
  if ((vtf >> 28) != 6 || payload_len != r.remaining() || payload_len < 8) return false;
  if (next_header != kIcmpv6 || hop_limit != 255) return false;
  if (!std::all_of(src.begin(), src.end(), [](std::byte b) { return b == std::byte{0}; }))
    return false;
  if (!std::equal(dst.begin(), dst.end(), kAllRouters.begin())) return false;
  const std::span<const std::byte> icmp = r.rest();
  if (!r.read_u8(type) || !r.read_u8(code) || type != kRouterSolicitation || code != 0)
    return false;
  return wire::ipv6_l4_checksum(src.first<16>(), dst.first<16>(), kIcmpv6, icmp) == 0;
}

std::size_t write_router_advert(std::span<std::byte> out, const ClientPrefix& prefix,
                                std::uint32_t ipv4, std::uint16_t port,
                                std::uint32_t mtu) noexcept {
  if (out.size() < kRouterAdvertLen) return 0;
  wire::ByteWriter w(out.first(kRouterAdvertLen));
  w.u32(6u << 28);
  w.u16(kRouterAdvertLen - 40);
  w.u8(kIcmpv6);
  w.u8(255);
  w.bytes(kRouterLinkLocal);
  w.bytes(kAllNodes);
  // Router Advertisement (RFC 4861 4.2).
  w.u8(kRouterAdvertisement);
  w.u8(0);
  w.u16(0);  // checksum, filled below
  w.u8(64);  // cur hop limit
  w.u8(0);   // M=0, O=0
  w.u16(kRouterLifetimeSeconds);
  w.u32(0);  // reachable time
  w.u32(0);  // retrans timer
  // Prefix Information (RFC 4861 4.6.2): the /96 the client completes with its tag.
  w.u8(kOptPrefixInfo);
  w.u8(4);
  w.u8(kOfferPrefixBits);
  w.u8(0);  // L=0 (not on-link), A=0 (not for SLAAC: the client appends its tag)
  w.u32(kOfferLifetimeSeconds);
  w.u32(kOfferLifetimeSeconds);
  w.u32(0);
  w.bytes(prefix.bytes);
  w.u32(ipv4);
  w.u16(port);
  w.u32(0);
  // MTU (RFC 4861 4.6.4).
  w.u8(kOptMtu);
  w.u8(1);
  w.u16(0);
  w.u32(mtu);
  if (!w.ok() || w.size() != kRouterAdvertLen) return 0;
  const std::span<const std::byte> icmp =
      std::span<const std::byte>(out).subspan(40, kRouterAdvertLen - 40);
  const std::uint16_t sum =
      wire::ipv6_l4_checksum(std::span<const std::byte, 16>(kRouterLinkLocal),
                             std::span<const std::byte, 16>(kAllNodes), kIcmpv6, icmp);
  out[42] = static_cast<std::byte>(sum >> 8);
  out[43] = static_cast<std::byte>(sum & 0xff);
  return kRouterAdvertLen;
}

}  // namespace dmux::provider

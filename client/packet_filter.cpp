#include "client/packet_filter.h"

#include <algorithm>

#include "common/wire/byte_reader.h"

namespace dmux::client {
namespace {

constexpr std::size_t kIpv6HeaderLen = 40;

struct Ipv4Facts {
  std::uint8_t protocol = 0;
  std::uint32_t dst = 0;
};

// A whole IPv4 packet: its protocol and destination.
bool read_ipv4(std::span<const std::byte> packet, Ipv4Facts& out) noexcept {
  wire::ByteReader r(packet);
  std::uint8_t vihl = 0, tos = 0, ttl = 0;
  std::uint16_t total = 0;
  if (!r.read_u8(vihl) || !r.read_u8(tos) || !r.read_u16(total) || !r.skip(4) || !r.read_u8(ttl) ||
      !r.read_u8(out.protocol) || !r.skip(6) || !r.read_u32(out.dst)) {
    return false;
  }
  const unsigned ihl = vihl & 0x0fu;
  return (vihl >> 4) == 4 && ihl >= 5 && total == packet.size() && total >= ihl * 4u;
}

bool is_multicast(std::uint32_t ipv4) noexcept { return (ipv4 >> 28) == 0xe; }  // 224.0.0.0/4

}  // namespace

bool whole_ipv4_packet(std::span<const std::byte> packet) noexcept {
  Ipv4Facts f;
  return read_ipv4(packet, f);
}

bool whole_ipv6_packet(std::span<const std::byte> packet) noexcept {
  wire::ByteReader r(packet);
  std::uint32_t vtf = 0;
  std::uint16_t payload_len = 0;
  if (!r.read_u32(vtf) || !r.read_u16(payload_len)) return false;
  return (vtf >> 28) == 6 && packet.size() >= kIpv6HeaderLen &&
         packet.size() == kIpv6HeaderLen + payload_len;
}

void HostAddresses::replace(std::vector<std::uint32_t> addresses) {
  std::sort(addresses.begin(), addresses.end());
  addresses.erase(std::unique(addresses.begin(), addresses.end()), addresses.end());
  addresses_ = std::move(addresses);
}

bool HostAddresses::contains(std::uint32_t ipv4) const noexcept {
  return std::binary_search(addresses_.begin(), addresses_.end(), ipv4);
}

InjectCheck check_ipv6_return(std::span<const std::byte> packet,
                              const std::optional<Ipv6Address>& ours) noexcept {
  if (!whole_ipv6_packet(packet)) return InjectCheck::kBadPacket;
  wire::ByteReader r(packet);
  std::span<const std::byte> dst;
  if (!r.skip(24) || !r.read_bytes(16, dst)) return InjectCheck::kBadPacket;
  if (!ours || !std::equal(ours->begin(), ours->end(), dst.begin())) return InjectCheck::kNotForUs;
  return InjectCheck::kOk;
}

InjectCheck check_ipv4_return(const Selector& s, std::span<const std::byte> packet,
                              const HostAddresses& host) noexcept {
  Ipv4Facts f;
  if (!read_ipv4(packet, f)) return InjectCheck::kBadPacket;
  switch (s.kind) {
    case Selector::Kind::kIpv4Multicast:
      return is_multicast(f.dst) ? InjectCheck::kOk : InjectCheck::kNotForUs;
    case Selector::Kind::kGeneric: {
      if (s.ip_protocol && ((f.protocol == *s.ip_protocol) == s.ip_protocol_negated))
        return InjectCheck::kNotForUs;
      return host.contains(f.dst) ? InjectCheck::kOk : InjectCheck::kNotForUs;
    }
    case Selector::Kind::kIpv6:
      break;
  }
  return InjectCheck::kNotForUs;
}

}  // namespace dmux::client

// The IPv4 packets the multicast overlay carries (docs/protocol.md section 3, proto_id 2): the
// checks a router applies to an untrusted payload before looking at it, read only through
// common/wire/byte_reader.h. Pure functions; never allocate, never throw.
#pragma once

#include <cstdint>
#include <span>

namespace dmux::multicast {

inline constexpr std::uint8_t kIpProtoIgmp = 2;

// What the router needs from an IPv4 header.
struct Ipv4View {
  std::uint32_t src = 0;  // host order
  std::uint32_t dst = 0;  // host order
  std::uint8_t protocol = 0;
  bool fragment = false;               // MF set or a non-zero fragment offset
  std::span<const std::byte> payload;  // after the header (options skipped)
};

// True if `packet` is one whole IPv4 packet: version 4, header length 20-60 and within the packet,
// total length equal to the bytes present, header checksum correct. Fills `out` on success.
[[nodiscard]] bool parse_ipv4(std::span<const std::byte> packet, Ipv4View& out) noexcept;

constexpr bool is_multicast(std::uint32_t addr) noexcept { return (addr >> 28) == 0xe; }
// 224.0.0.0/24: link-local control groups (IGMP, routing protocols); never forwarded.
constexpr bool is_link_local_group(std::uint32_t addr) noexcept {
  return (addr & 0xffffff00u) == 0xe0000000u;
}
// A group the overlay delivers: multicast, not link-local.
constexpr bool is_routable_group(std::uint32_t addr) noexcept {
  return is_multicast(addr) && !is_link_local_group(addr);
}

}  // namespace dmux::multicast

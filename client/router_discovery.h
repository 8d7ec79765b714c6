// The two packets of the address offer (docs/protocol.md section 13): the Router Solicitation the
// client sends in DATA, and the Router Advertisement the provider agent answers with in RETURN.
// Parsing reads untrusted bytes through wire::ByteReader; never allocates or throws.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace dmux::client {

inline constexpr std::size_t kSolicitationLen = 48;  // IPv6 header + 8-byte RS, no options

// What an advertisement offers: the first 96 bits of our address (P | ipv4 | port), the binding
// they embed (how gateways see us, host order), how long the offer is valid, and an MTU (0 if
// the RA carried none).
struct Offer {
  std::array<std::byte, 12> prefix{};
  std::uint32_t client_ipv4 = 0;
  std::uint16_t client_port = 0;
  std::uint32_t valid_lifetime_s = 0;
  std::uint32_t mtu = 0;
  bool operator==(const Offer&) const = default;
};

// Writes the RS (from ::, to ff02::2, hop limit 255) into `out`; returns kSolicitationLen or 0.
std::size_t write_solicitation(std::span<std::byte> out) noexcept;

// True if `packet` is an ICMPv6 Router Advertisement (it may still be unusable).
[[nodiscard]] bool is_router_advert(std::span<const std::byte> packet) noexcept;

// Parses a whole RA: version 6, payload length exact, ICMPv6 type 134 code 0, hop limit 255,
// checksum correct, options well formed, one Prefix Information option of length 96. False if not.
[[nodiscard]] bool parse_router_advert(std::span<const std::byte> packet, Offer& out) noexcept;

}  // namespace dmux::client

// The few fields of an IPv6 fixed header (RFC 8200) the agent needs, read from untrusted bytes
// through wire::ByteReader. No allocation, no exceptions.
#pragma once

#include <cstddef>
#include <span>

#include "provider/client_address.h"

namespace dmux::provider {

inline constexpr std::size_t kIpv6HeaderLen = 40;

struct Ipv6Header {
  Ipv6Address source{};
  Ipv6Address destination{};
};

// True if `packet` is one whole IPv6 packet: version 6, at least the fixed header, and a payload
// length that matches the bytes present exactly (no jumbograms, no trailing bytes).
[[nodiscard]] bool parse_ipv6_header(std::span<const std::byte> packet, Ipv6Header& out) noexcept;

}  // namespace dmux::provider

// The address offer (docs/protocol.md section 13): a client that cannot know its own NAT binding
// sends a Router Solicitation in DATA; the agent answers statelessly with a Router Advertisement in
// RETURN whose Prefix Information option is the /96 P | client_ipv4 | client_port, taken from the
// TUNNEL header. The client appends its tag. Pure functions over untrusted bytes; no allocation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "provider/client_address.h"

namespace dmux::provider {

// IPv6 header 40 + RA 16 + Prefix Information 32 + MTU option 8.
inline constexpr std::size_t kRouterAdvertLen = 96;
inline constexpr std::uint32_t kOfferLifetimeSeconds = 600;  // valid and preferred lifetime

// True if `packet` is one whole IPv6 packet that is a Router Solicitation as the client daemon
// sends it: from ::, to ff02::2, hop limit 255, ICMPv6 type 133 code 0, checksum correct.
[[nodiscard]] bool is_router_solicitation(std::span<const std::byte> packet) noexcept;

// Writes the RA offering `prefix | ipv4 | port` /96 and `mtu` into `out`; returns
// kRouterAdvertLen, or 0 if `out` is too small.
std::size_t write_router_advert(std::span<std::byte> out, const ClientPrefix& prefix,
                                std::uint32_t ipv4, std::uint16_t port, std::uint32_t mtu) noexcept;

}  // namespace dmux::provider

// Constants of the address offer (docs/protocol.md section 13): the ICMPv6 Router Solicitation a
// client sends in DATA and the Router Advertisement a provider answers with in RETURN. Shared by
// dmux-client (client/router_discovery.*) and dmux-provider (provider/router_advert.*).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace dmux::wire::offer {

inline constexpr std::uint8_t kIcmpv6 = 58;               // IPv6 next header
inline constexpr std::uint8_t kRouterSolicitation = 133;  // ICMPv6 type
inline constexpr std::uint8_t kRouterAdvertisement = 134;
inline constexpr std::uint8_t kOptPrefixInfo = 3;  // RA option types
inline constexpr std::uint8_t kOptMtu = 5;
inline constexpr std::uint8_t kOfferPrefixBits = 96;  // P/48 | client_ipv4 | client_port
inline constexpr std::array<std::byte, 16> kAllRouters{
    std::byte{0xff}, std::byte{0x02}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {},
    std::byte{2}};

}  // namespace dmux::wire::offer

// The IGMPv3 general query (RFC 3376 4.1) as an IPv4 packet: what dmux-mcast sends its clients,
// and what dmux-client injects into its TUN device when the multicast return token arrives, so
// that the host reports at once the groups it joined before (docs/multicast.md). Pure; never
// allocates, never throws.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace dmux::wire {

// An IPv4 packet carrying an IGMPv3 general query (to 224.0.0.1, TTL 1, Router Alert), from
// `src` (host order; 0.0.0.0 is allowed). `max_resp_ds` (deciseconds, 1-127) and `qqi_s`
// (seconds, 1-127; larger values are sent as 127) go into the query. Returns the size written,
// or 0 if `out` is too small.
inline constexpr std::size_t kQueryPacketLen = 24 + 12;
std::size_t write_general_query(std::span<std::byte> out, std::uint32_t src,
                                std::uint8_t max_resp_ds, std::uint32_t qqi_s) noexcept;

}  // namespace dmux::wire

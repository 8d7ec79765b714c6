// Who a member is: the client as gateways see it (its IPv4 address and UDP port from the TUNNEL
// header, where RETURNs go) and the token it chose (echoed in every RETURN, protocol.md 4 and 6).
#pragma once

#include <chrono>
#include <cstdint>

#include "common/util/clock.h"

namespace dmux::multicast {

using util::MonoTime;

struct Member {
  std::uint32_t ipv4 = 0;  // host order
  std::uint16_t port = 0;  // host order
  std::uint64_t token = 0;

  friend bool operator==(const Member&, const Member&) = default;
};

// The key a client is stored under: one membership state per address and port. A report from the
// same address and port with another token is a restarted client and replaces the old state.
constexpr std::uint64_t client_key(std::uint32_t ipv4, std::uint16_t port) noexcept {
  return (std::uint64_t{ipv4} << 16) | port;
}
constexpr std::uint64_t client_key(const Member& m) noexcept { return client_key(m.ipv4, m.port); }

}  // namespace dmux::multicast

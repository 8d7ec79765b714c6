// Where a router agent may send RETURNs (docs/protocol.md 15.3 and 16, "special-purpose
// destinations"): never to port 0, and never into an RFC 6890 special-purpose IPv4 range (this
// network, private, shared, loopback, link-local, IETF protocol assignments, documentation,
// benchmarking, 6to4 relay, AS112, multicast, reserved, broadcast) unless the operator allowed a
// prefix covering the address. A TUNNEL names its client address, and a packet from the provider's
// network names the address it is for: neither may aim the agent at internal networks or metadata
// services. allows() is on the data path: noexcept, no allocation.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/net/endpoint.h"

namespace dmux::agent {

class DestinationFilter {
 public:
  // `allowed`: special-purpose prefixes the operator opens (the lab and tests: 198.18.0.0/15).
  explicit DestinationFilter(std::vector<net::Ipv4Prefix> allowed = {});

  [[nodiscard]] bool allows(std::uint32_t ipv4, std::uint16_t port) const noexcept;

  // The special-purpose ranges refused by default.
  [[nodiscard]] static std::span<const net::Ipv4Prefix> special_purpose() noexcept;
  [[nodiscard]] static bool contains(const net::Ipv4Prefix& prefix, std::uint32_t ipv4) noexcept;

 private:
  std::vector<net::Ipv4Prefix> allowed_;
};

}  // namespace dmux::agent

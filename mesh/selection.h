// Which routers a gateway forwards a (proto_id, provider_id) to, given where they are.
//
// Each candidate router was registered at some gateway (its origin: this one, or a peer in the
// mesh). Its estimated cost from here is the RTT to its origin gateway (0 for our own) plus, when
// known and enabled, the RTT between the router and its origin (measured from its keepalives).
// The paper's rule is the first term alone: use routers registered at the nearest gateway. The
// tier kept is every candidate within a tolerance of the cheapest, and the data plane spreads
// clients over the tier with rendezvous hashing. Runs on the control thread when the table is
// rebuilt, never per packet. Unknown distances sort last but keep a router usable.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "common/net/endpoint.h"
#include "common/wire/ids.h"

namespace dmux::mesh {

struct Candidate {
  wire::RouterId id;
  wire::GatewayId origin_gateway;                        // 0 = registered here
  std::optional<std::chrono::microseconds> gateway_rtt;  // here -> origin; unused for local
  std::optional<std::chrono::microseconds> router_rtt;   // origin <-> router
};

struct SelectionConfig {
  bool use_router_distance = true;            // false = the paper's rule
  std::chrono::microseconds tolerance{1000};  // absolute slack of the tier
  double tolerance_ratio = 0.10;              // relative slack of the tier
};

// Estimated cost of reaching a candidate from this gateway; nullopt if unknown.
std::optional<std::chrono::microseconds> estimated_cost(const Candidate& c,
                                                        const SelectionConfig& config) noexcept;

// The indices (into `candidates`) of the nearest tier among those matching `proto_id` and
// `provider_id` (0 = any provider). Empty if none match.
std::vector<std::size_t> nearest_tier(std::span<const Candidate> candidates, wire::ProtoId proto_id,
                                      wire::ProviderId provider_id, const SelectionConfig& config);

}  // namespace dmux::mesh

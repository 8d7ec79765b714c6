#include "mesh/selection.h"

#include <algorithm>

namespace dmux::mesh {

std::optional<std::chrono::microseconds> estimated_cost(const Candidate& c,
                                                        const SelectionConfig& config) noexcept {
  std::chrono::microseconds cost{0};
  if (c.origin_gateway != wire::GatewayId{}) {
    if (!c.gateway_rtt) return std::nullopt;
    cost += *c.gateway_rtt;
  }
  if (config.use_router_distance && c.router_rtt) cost += *c.router_rtt;
  return cost;
}

std::vector<std::size_t> nearest_tier(std::span<const Candidate> candidates, wire::ProtoId proto_id,
                                      wire::ProviderId provider_id, const SelectionConfig& config) {
  std::vector<std::size_t> matching;
  std::optional<std::chrono::microseconds> best;
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    const Candidate& c = candidates[i];
    if (c.id.proto != proto_id ||
        (provider_id != wire::ProviderId{0} && c.id.provider != provider_id)) {
      continue;
    }
    matching.push_back(i);
    const auto cost = estimated_cost(c, config);
    if (cost && (!best || *cost < *best)) best = cost;
  }
  if (!best) return matching;  // nothing measured yet: every match is equally good
  const auto slack =
      std::max(config.tolerance, std::chrono::microseconds(static_cast<std::int64_t>(
                                     static_cast<double>(best->count()) * config.tolerance_ratio)));
  std::vector<std::size_t> tier;
  for (std::size_t i : matching) {
    const auto cost = estimated_cost(candidates[i], config);
    if (cost && *cost <= *best + slack) tier.push_back(i);
  }
  return tier;
}

}  // namespace dmux::mesh

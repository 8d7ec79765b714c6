// The part of a router agent's status document that Ingress owns (fields in docs/provider.md and
// docs/multicast.md, "Status"). Control plane: allocates.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <span>
#include <string>

#include "agent/ingress.h"
#include "common/metrics/counter_json.h"

namespace dmux::agent {

// Adds counts[i] to `drops` under the name to_string(Reason(i)) (found by argument-dependent
// lookup in Reason's namespace), and to `dropped`.
template <typename Reason>
void add_drops(nlohmann::json& drops, std::uint64_t& dropped,
               std::span<const std::uint64_t> counts) {
  metrics::add_by_name<Reason>(drops, dropped, counts);
}

// Adds to `doc` the tunnel keys held, the replay windows and Ingress's counters, and to `drops`
// every drop reason of the receiver and of Ingress (adding them to `dropped`).
void add_ingress_status(nlohmann::json& doc, nlohmann::json& drops, std::uint64_t& dropped,
                        const Ingress& ingress, MonoTime now);

}  // namespace dmux::agent

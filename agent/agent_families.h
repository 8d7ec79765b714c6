// The metric families every router agent exports alike (registration state and counters, TUNNEL
// checks), named "<prefix>_...": dmux_provider_... and dmux_mcast_.... Only the two agents'
// metrics exporters include this (it brings prometheus-cpp).
#pragma once

#include <prometheus/metric_family.h>

#include <string>
#include <vector>

#include "agent/registration_status.h"

namespace dmux::agent {

void add_agent_families(const AgentSample& s, const std::string& prefix,
                        std::vector<prometheus::MetricFamily>& out);

}  // namespace dmux::agent

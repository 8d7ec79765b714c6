// What every router agent (dmux-provider, dmux-mcast, the SDK) reports the same way about its
// registrations: the "registrations" entries of the status document (fields in docs/provider.md)
// and the sample its metrics exporter turns into the shared families (agent_families.h).
// Control plane: allocates.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

#include "agent/counters.h"
#include "agent/registration_client.h"
#include "common/metrics/daemon_info.h"

namespace dmux::agent {

// One registration's state and counters, as in the status document's "registrations" list.
nlohmann::json registration_json(const RegistrationClient& r);

struct RegistrationSample {
  wire::ProtoId proto_id;
  bool registered = false;  // state registered (keepalives answered)
  RegistrationCounters counters;
};

// What every router agent (dmux-provider, dmux-mcast) exports the same way.
struct AgentSample {
  metrics::DaemonInfo daemon;
  ReceiverCounters receiver;
  IngressCounters ingress;
  std::vector<RegistrationSample> registrations;
};

RegistrationSample registration_sample(const RegistrationClient& r);

}  // namespace dmux::agent

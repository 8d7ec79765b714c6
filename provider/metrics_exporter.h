// Prometheus adapter of dmux-provider: the only provider file that includes prometheus-cpp (with
// agent_families.cpp, which dmux-mcast's exporter shares). The event-loop thread hands it a copy of
// the counters (update(), once a second); the metrics endpoint's own thread serves the latest.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "agent/counters.h"
#include "common/metrics/daemon_info.h"
#include "common/net/endpoint.h"
#include "provider/counters.h"
#include "provider/registration_client.h"

namespace dmux::metrics {
class FamilyServer;
}

namespace dmux::provider {

struct RegistrationSample {
  std::uint16_t proto_id = 0;
  bool registered = false;  // state registered (keepalives answered)
  RegistrationCounters counters;
};

// What every router agent (dmux-provider, dmux-mcast) exports the same way.
struct AgentSample {
  metrics::DaemonInfo daemon;
  agent::ReceiverCounters receiver;
  agent::IngressCounters ingress;
  std::vector<RegistrationSample> registrations;
};

RegistrationSample registration_sample(const RegistrationClient& r);

struct ProviderSample {
  AgentSample agent;
  DataPathCounters counters;
  ControlReplyCounters control_replies;
};

class MetricsExporter {
 public:
  // Serves /metrics on `listen`; throws std::runtime_error naming the address if it cannot bind.
  explicit MetricsExporter(const net::Endpoint& listen);
  ~MetricsExporter();

  void update(const ProviderSample& sample);  // the event-loop thread

 private:
  std::unique_ptr<metrics::FamilyServer> server_;
};

}  // namespace dmux::provider

// Prometheus adapter of dmux-provider: the only provider file that includes prometheus-cpp (the
// families every agent shares are agent/agent_families.cpp's). The event-loop thread hands it a
// copy of the counters (update(), once a second); the metrics endpoint's own thread serves the
// latest.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "agent/control_reply.h"
#include "agent/counters.h"
#include "agent/registration_status.h"
#include "common/metrics/daemon_info.h"
#include "common/net/endpoint.h"
#include "provider/counters.h"

namespace dmux::metrics {
class FamilyServer;
}

namespace dmux::provider {

struct ProviderSample {
  agent::AgentSample agent;
  DataPathCounters counters;
  agent::ControlReplyCounters control_replies;
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

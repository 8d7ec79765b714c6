// Prometheus adapter of dmux-mcast: the only multicast file that includes prometheus-cpp (with
// agent/agent_families.cpp, the families every agent shares). The event-loop thread hands it a
// copy of the counters (update(), once a second); the metrics endpoint's thread serves the latest.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "agent/registration_status.h"
#include "common/net/endpoint.h"
#include "multicast/counters.h"

namespace dmux::metrics {
class FamilyServer;
}

namespace dmux::multicast {

struct PeerSample {
  net::Endpoint peer;  // its --listen endpoint
  bool alive = false;
};

struct McastSample {
  agent::AgentSample agent;
  RouterCounters counters;
  std::size_t groups = 0;       // groups with local members
  std::size_t memberships = 0;  // (client, group) pairs held here
  std::vector<PeerSample> peers;
};

class MetricsExporter {
 public:
  // Serves /metrics on `listen`; throws std::runtime_error naming the address if it cannot bind.
  explicit MetricsExporter(const net::Endpoint& listen);
  ~MetricsExporter();

  void update(const McastSample& sample);  // the event-loop thread

 private:
  std::unique_ptr<metrics::FamilyServer> server_;
};

}  // namespace dmux::multicast

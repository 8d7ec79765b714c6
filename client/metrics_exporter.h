// Prometheus adapter of dmux-client: the only file of the client that includes prometheus-cpp.
// The event-loop thread hands it a copy of the counters (update(), once a second), which it turns
// into metric families for the metrics endpoint (common/metrics/family_server.h) to serve.
#pragma once

#include <cstdint>
#include <memory>

#include "client/counters.h"
#include "common/metrics/daemon_info.h"
#include "common/net/endpoint.h"

namespace dmux::metrics {
class FamilyServer;
}

namespace dmux::client {

struct MetricsSnapshot {
  DataPathCounters counters;
  std::uint64_t solicitations = 0;    // address refreshes (and NAT keepalives) sent
  std::uint64_t address_changes = 0;  // times the offered address changed
  std::uint64_t token_requests = 0;   // TOKEN_REQUESTs sent
  std::uint64_t token_offers = 0;     // TOKEN_OFFERs accepted
  std::uint64_t binding_changes = 0;  // offers that named another NAT binding
  metrics::DaemonInfo daemon;         // build and start time (dmux_build_info ...)
};

class MetricsExporter {
 public:
  // Serves /metrics on `listen`; throws if it cannot bind.
  explicit MetricsExporter(const net::Endpoint& listen);
  ~MetricsExporter();

  void update(const MetricsSnapshot& snapshot);  // the event-loop thread

 private:
  std::unique_ptr<metrics::FamilyServer> server_;
};

}  // namespace dmux::client

// Prometheus adapter of dmux-client: the only file of the client that includes prometheus-cpp.
// The event-loop thread hands it a copy of the counters (update(), once a second); the metrics
// endpoint's own thread (common/metrics/http_server.h) turns the latest copy into metric families
// at scrape time.
#pragma once

#include <cstdint>
#include <memory>

#include "client/counters.h"
#include "common/metrics/daemon_info.h"
#include "common/net/endpoint.h"

namespace dmux::metrics {
class HttpServer;
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

  void update(const MetricsSnapshot& snapshot);  // any thread

 private:
  class Collectable;
  std::shared_ptr<Collectable> collectable_;
  std::unique_ptr<metrics::HttpServer> server_;
};

}  // namespace dmux::client

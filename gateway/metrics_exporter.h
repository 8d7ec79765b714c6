// Prometheus adapter: the only file of the gateway that includes prometheus-cpp. Reads a
// GatewayStats at scrape time (on the metrics endpoint's own thread,
// common/metrics/family_server.h) and turns it into metric families.
#pragma once

#include <memory>
#include <vector>

#include "common/net/endpoint.h"
#include "gateway/stats.h"

namespace dmux::metrics {
class FamilyServer;
}

namespace dmux::gateway {

class MetricsExporter {
 public:
  // Starts an HTTP server on `listen` serving /metrics; throws if it cannot bind.
  MetricsExporter(const net::Endpoint& listen, StatsSource source);
  ~MetricsExporter();

  [[nodiscard]] std::vector<int> listening_ports() const;

 private:
  std::unique_ptr<metrics::FamilyServer> server_;
};

}  // namespace dmux::gateway

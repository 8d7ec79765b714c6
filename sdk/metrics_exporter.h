// Prometheus adapter of the SDK: the only file of sdk/ that includes prometheus-cpp. The Router's
// loop thread hands it a copy of its counters (update(), once a second); the metrics endpoint's
// own thread (common/metrics/http_server.h) turns the latest copy into text at scrape time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/net/endpoint.h"

namespace dmux::metrics {
class HttpServer;
}

namespace dmux::sdk {

// One counter value; samples with the same name form one family, told apart by `reason`.
struct MetricSample {
  std::string name;  // full metric name, e.g. "rendezvous_router_packets_total"
  std::string help;
  std::string reason;  // label value of "reason"; empty = no label
  std::uint64_t value = 0;
};

class MetricsExporter {
 public:
  // Serves /metrics on `listen`; throws std::runtime_error if it cannot bind.
  explicit MetricsExporter(const net::Endpoint& listen);
  ~MetricsExporter();
  MetricsExporter(const MetricsExporter&) = delete;
  MetricsExporter& operator=(const MetricsExporter&) = delete;

  void update(std::vector<MetricSample> samples);  // any thread
  [[nodiscard]] net::Endpoint endpoint() const noexcept;

 private:
  class Collectable;
  std::shared_ptr<Collectable> collectable_;
  std::unique_ptr<metrics::HttpServer> server_;
};

}  // namespace dmux::sdk

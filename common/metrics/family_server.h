// Serves the metric families a daemon's event-loop thread last published: the exporter of a
// single-threaded daemon (dmux-provider, dmux-mcast) builds its families from plain counters on
// its own thread, about once a second, and hands them over here; scrapes (on the HTTP server's
// thread, common/metrics/http_server.h) serialise the latest copy. Only exporters include this.
#pragma once

#include <prometheus/metric_family.h>

#include <memory>
#include <mutex>
#include <vector>

#include "common/net/endpoint.h"

namespace dmux::metrics {

class HttpServer;

class FamilyServer {
 public:
  // Serves /metrics on `listen`; throws std::runtime_error naming the address if it cannot bind.
  explicit FamilyServer(const net::Endpoint& listen);
  ~FamilyServer();
  FamilyServer(const FamilyServer&) = delete;
  FamilyServer& operator=(const FamilyServer&) = delete;

  void publish(std::vector<prometheus::MetricFamily> families);  // any thread
  [[nodiscard]] net::Endpoint endpoint() const noexcept;

 private:
  struct Latest {
    std::mutex mutex;
    std::vector<prometheus::MetricFamily> families;
  };
  std::shared_ptr<Latest> latest_;
  std::unique_ptr<HttpServer> server_;
};

}  // namespace dmux::metrics

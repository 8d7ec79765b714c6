// The one metrics endpoint of every daemon. Either it serves the metric families a daemon's
// event-loop thread last published (dmux-provider, dmux-mcast, dmux-client build theirs from plain
// counters on their own thread, about once a second, and hand them over here), or it asks a
// collect function at every scrape (dmuxd, whose statistics are safe to read from any thread).
// Scrapes run on the HTTP server's thread (common/metrics/http_server.h). Only exporters include
// this.
#pragma once

#include <prometheus/metric_family.h>

#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "common/net/endpoint.h"

namespace dmux::metrics {

class HttpServer;

class FamilyServer {
 public:
  using Collect = std::function<std::vector<prometheus::MetricFamily>()>;

  // Serves /metrics on `listen`, from what publish() last handed over or, with `collect`, from
  // what it returns at each scrape; throws std::runtime_error naming the address if it cannot
  // bind.
  explicit FamilyServer(const net::Endpoint& listen, Collect collect = {});
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

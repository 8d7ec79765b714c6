// The HTTP endpoint every daemon's Prometheus metrics are scraped from (GET /metrics).
//
// Its own thread and event loop, so a scrape never runs on a daemon's control thread, and a
// scraper is untrusted in how it behaves: at most `max_connections` at once (the oldest is closed
// to make room), a request must arrive whole within `request_timeout` and be at most 8 KiB, the
// answer is written without blocking and dropped if not read within the timeout. So slow or idle
// clients (slow loris) cannot stall a scrape or the daemon. `render` is called on the server's
// thread for each GET /metrics and must be thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "common/net/endpoint.h"

namespace dmux::metrics {

struct HttpLimits {
  std::chrono::milliseconds request_timeout{2000};
  std::size_t max_connections = 64;
};

class HttpServer {
 public:
  using Render = std::function<std::string()>;  // the exposition text

  // Binds `listen` (port 0: any) and starts serving; throws std::runtime_error naming the address
  // if it cannot bind.
  HttpServer(const net::Endpoint& listen, Render render, HttpLimits limits = {});
  ~HttpServer();  // stops the thread
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  [[nodiscard]] net::Endpoint endpoint() const noexcept { return bound_; }

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
  net::Endpoint bound_;
  std::thread thread_;
};

// The answer to one request (pure; for tests and the server): 200 with the metrics for GET
// /metrics (or /), 404 for another path, 405 for another method, 400 if it is not HTTP.
std::string http_response(std::string_view request_head, const HttpServer::Render& render);

}  // namespace dmux::metrics

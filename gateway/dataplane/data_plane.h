// The set of data-plane workers. Owns them and the gateway's TUNNEL counter they share; sums their
// counters for status and metrics.
#pragma once

#include <memory>
#include <vector>

#include "gateway/dataplane/counters.h"
#include "gateway/dataplane/table_publisher.h"
#include "gateway/dataplane/tunnel_counter.h"
#include "gateway/dataplane/worker.h"

namespace dmux::gateway {

class DataPlane {
 public:
  // Opens every socket now (throws std::system_error naming the endpoint); threads start in
  // start(). The TUNNEL counter starts at `unix_time_us` * 4096 (docs/protocol.md 5.2).
  DataPlane(const WorkerConfig& config, unsigned workers, const TablePublisher& tables,
            std::uint64_t unix_time_us);
  ~DataPlane();

  void start();
  void stop();

  [[nodiscard]] CounterTotals totals() const noexcept;
  // Each worker's heartbeat (see Worker::heartbeat), in worker order.
  [[nodiscard]] std::vector<std::uint64_t> heartbeats() const;
  [[nodiscard]] std::size_t worker_count() const noexcept { return workers_.size(); }
  // Datagrams each worker has received, in worker order (how SO_REUSEPORT spread the load).
  [[nodiscard]] std::vector<std::uint64_t> received_per_worker() const;
  // The next TUNNEL counter value not yet reserved by any worker.
  [[nodiscard]] std::uint64_t next_counter() const noexcept { return counter_.peek(); }

 private:
  TunnelCounter counter_;  // declared first: workers hold a reference to it
  std::vector<std::unique_ptr<Worker>> workers_;
};

}  // namespace dmux::gateway

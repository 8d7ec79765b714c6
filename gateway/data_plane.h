// The set of data-plane workers. Owns them; sums their counters for status and metrics.
#pragma once

#include <memory>
#include <vector>

#include "gateway/counters.h"
#include "gateway/table_publisher.h"
#include "gateway/worker.h"

namespace dmux::gateway {

class DataPlane {
 public:
  // Opens every socket now (throws std::system_error naming the endpoint); threads start in
  // start().
  DataPlane(const WorkerConfig& config, unsigned workers, const TablePublisher& tables);
  ~DataPlane();

  void start();
  void stop();

  [[nodiscard]] CounterTotals totals() const noexcept;
  // Each worker's heartbeat (see Worker::heartbeat), in worker order.
  [[nodiscard]] std::vector<std::uint64_t> heartbeats() const;
  [[nodiscard]] std::size_t worker_count() const noexcept { return workers_.size(); }

 private:
  std::vector<std::unique_ptr<Worker>> workers_;
};

}  // namespace dmux::gateway

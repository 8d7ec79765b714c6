// Hands forwarding-table snapshots from the control thread to the workers without stopping them.
//
// publish() (control thread) swaps the current snapshot under a mutex and bumps a generation.
// Workers poll generation() once per receive batch (one relaxed atomic load) and call snapshot()
// only when it changed, so the mutex is taken once per update per worker, never per packet. An old
// snapshot is freed when the last worker holding it moves on. Publishing a table that lists
// routers without a tunnel key (never forwarded to) logs a warning.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

#include "common/util/log.h"
#include "gateway/dataplane/forwarding_table.h"

namespace dmux::gateway {

class TablePublisher {
 public:
  TablePublisher() : current_(std::make_shared<const ForwardingTable>()) {}

  void publish(std::shared_ptr<const ForwardingTable> table) {
    if (table->unkeyed() > 0) {
      LOG_WARN("forwarding table: %zu of %zu routers have no tunnel key and get no traffic",
               table->unkeyed(), table->size());
    }
    {
      std::lock_guard lock(mu_);
      current_ = std::move(table);
    }
    generation_.fetch_add(1, std::memory_order_release);
  }

  [[nodiscard]] std::uint64_t generation() const noexcept {
    return generation_.load(std::memory_order_acquire);
  }

  [[nodiscard]] std::shared_ptr<const ForwardingTable> snapshot() const {
    std::lock_guard lock(mu_);
    return current_;
  }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const ForwardingTable> current_;
  std::atomic<std::uint64_t> generation_{1};
};

}  // namespace dmux::gateway

// The gateway's TUNNEL counter (docs/protocol.md 5.2): the second half of every tag's nonce, which
// must never repeat for this gateway_id, across threads and restarts.
//
// One per gateway, owned by the DataPlane and shared by its workers. It starts at
// unix_time_us * 4096, so a restarted gateway starts above every value it used before as long as
// it sent fewer than 4096 TUNNELs per microsecond on average. A worker reserves a block of values
// with one atomic add per receive batch (never one per packet) and uses them in order.
#pragma once

#include <atomic>
#include <cstdint>

namespace dmux::gateway {

class TunnelCounter {
 public:
  static constexpr std::uint64_t kPerMicrosecond = 4096;

  explicit TunnelCounter(std::uint64_t unix_time_us) noexcept
      : next_(unix_time_us * kPerMicrosecond) {}
  TunnelCounter(const TunnelCounter&) = delete;
  TunnelCounter& operator=(const TunnelCounter&) = delete;

  // Reserves `n` consecutive values for the caller alone; returns the first. Any thread.
  [[nodiscard]] std::uint64_t reserve(std::uint64_t n) noexcept {
    return next_.fetch_add(n, std::memory_order_relaxed);
  }

  // The first value not yet reserved (status and tests).
  [[nodiscard]] std::uint64_t peek() const noexcept {
    return next_.load(std::memory_order_relaxed);
  }

 private:
  alignas(64) std::atomic<std::uint64_t> next_;  // its own cache line: workers add to it
};

}  // namespace dmux::gateway

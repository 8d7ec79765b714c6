// Per-source token buckets for REGISTER (docs/protocol.md 9.6 step 4). The handler asks only for
// sources that have just shown a valid cookie (they receive at that address), so spoofed
// datagrams never create an entry. Memory is bounded: when the table is full, sources whose bucket
// has refilled are forgotten (at most once per refill period, so a full table costs no scan per
// datagram); if none are, new sources are refused until some are.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <unordered_map>

#include "registry/clock.h"
#include "registry/token_bucket.h"

namespace dmux::registry {

struct RateLimiterConfig {
  double per_second = 5.0;  // sustained REGISTERs per second per source address
  double burst = 10.0;      // bucket size
  std::size_t max_sources = 16384;
};

class RateLimiter {
 public:
  explicit RateLimiter(const RateLimiterConfig& config) : config_(config) {}

  // Takes a token for `source` if one is available.
  bool allow(std::uint32_t source, TimePoint now);

  [[nodiscard]] std::size_t tracked_sources() const noexcept { return buckets_.size(); }

 private:
  void forget_idle(TimePoint now);

  RateLimiterConfig config_;
  std::unordered_map<std::uint32_t, TokenBucket> buckets_;
  std::optional<TimePoint> last_sweep_;
};

}  // namespace dmux::registry

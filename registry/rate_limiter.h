// Per-source token buckets for REGISTER, checked before any certificate or signature work.
// Bounded memory: when the table is full, idle sources are forgotten; if none are, new sources are
// refused until some are.
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>

#include "registry/clock.h"

namespace dmux::registry {

struct RateLimiterConfig {
  double per_second = 5.0;  // sustained REGISTERs per second per source address
  double burst = 10.0;      // bucket size
  std::size_t max_sources = 65536;
};

class RateLimiter {
 public:
  explicit RateLimiter(const RateLimiterConfig& config) : config_(config) {}

  // Takes a token for `source` if one is available.
  bool allow(std::uint32_t source, TimePoint now);

  [[nodiscard]] std::size_t tracked_sources() const noexcept { return buckets_.size(); }

 private:
  struct Bucket {
    double tokens;
    TimePoint last;
  };
  void forget_idle(TimePoint now);

  RateLimiterConfig config_;
  std::unordered_map<std::uint32_t, Bucket> buckets_;
};

}  // namespace dmux::registry

// A token bucket: `rate` tokens a second, at most `burst` saved up. The global limits of the
// registration endpoint (COOKIE answers, "unknown session" hints, the signature budget) are one
// each, and the per-source limiter keeps one per source. The caller passes the time.
#pragma once

#include <algorithm>
#include <chrono>

#include "registry/clock.h"

namespace dmux::registry {

struct TokenBucketConfig {
  double per_second = 1.0;  // sustained rate
  double burst = 1.0;       // bucket size (at least 1 to ever allow anything)
};

class TokenBucket {
 public:
  explicit TokenBucket(const TokenBucketConfig& config, TimePoint now = {}) noexcept
      : config_(config), tokens_(config.burst), last_(now) {}

  // Takes a token if one is available at `now`. Time going backwards adds nothing.
  bool take(TimePoint now) noexcept {
    refill(now);
    if (tokens_ < 1.0) return false;
    tokens_ -= 1.0;
    return true;
  }
  // True if the bucket would be full at `now` (it then carries no information).
  [[nodiscard]] bool full_at(TimePoint now) const noexcept {
    return tokens_ + elapsed_s(now) * config_.per_second >= config_.burst;
  }

 private:
  [[nodiscard]] double elapsed_s(TimePoint now) const noexcept {
    return std::max(0.0, std::chrono::duration<double>(now - last_).count());
  }
  void refill(TimePoint now) noexcept {
    tokens_ = std::min(config_.burst, tokens_ + elapsed_s(now) * config_.per_second);
    if (now > last_) last_ = now;
  }

  TokenBucketConfig config_;
  double tokens_;
  TimePoint last_;
};

}  // namespace dmux::registry

#include "registry/rate_limiter.h"

#include <algorithm>

namespace dmux::registry {

bool RateLimiter::allow(std::uint32_t source, TimePoint now) {
  auto it = buckets_.find(source);
  if (it == buckets_.end()) {
    if (buckets_.size() >= config_.max_sources) forget_idle(now);
    if (buckets_.size() >= config_.max_sources) return false;
    it = buckets_.emplace(source, Bucket{config_.burst, now}).first;
  }
  Bucket& b = it->second;
  const double elapsed = std::chrono::duration<double>(now - b.last).count();
  b.tokens = std::min(config_.burst, b.tokens + std::max(0.0, elapsed) * config_.per_second);
  b.last = now;
  if (b.tokens < 1.0) return false;
  b.tokens -= 1.0;
  return true;
}

void RateLimiter::forget_idle(TimePoint now) {
  // A bucket that would be full again carries no information.
  const auto refill = std::chrono::duration<double>(config_.burst / config_.per_second);
  std::erase_if(buckets_, [&](const auto& kv) {
    return std::chrono::duration<double>(now - kv.second.last) >= refill;
  });
}

}  // namespace dmux::registry

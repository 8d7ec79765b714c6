#include "registry/rate_limiter.h"

namespace dmux::registry {

bool RateLimiter::allow(std::uint32_t source, TimePoint now) {
  auto it = buckets_.find(source);
  if (it == buckets_.end()) {
    if (buckets_.size() >= config_.max_sources) forget_idle(now);
    if (buckets_.size() >= config_.max_sources) return false;
    it = buckets_.emplace(source, TokenBucket({config_.per_second, config_.burst}, now)).first;
  }
  return it->second.take(now);
}

void RateLimiter::forget_idle(TimePoint now) {
  const auto refill = std::chrono::duration<double>(config_.burst / config_.per_second);
  if (last_sweep_ && std::chrono::duration<double>(now - *last_sweep_) < refill) return;
  last_sweep_ = now;
  std::erase_if(buckets_, [&](const auto& kv) { return kv.second.full_at(now); });
}

}  // namespace dmux::registry

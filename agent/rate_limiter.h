// A token bucket: at most `burst` events at once and `per_second` on average. Pure logic with a
// caller-supplied clock (tests use a fake one); noexcept, no allocation. Single-threaded.
#pragma once

#include <algorithm>
#include <chrono>

namespace dmux::agent {

class RateLimiter {
 public:
  using Time = std::chrono::steady_clock::time_point;

  RateLimiter(double per_second, double burst) noexcept
      : per_second_(per_second), burst_(burst), tokens_(burst) {}

  // True, and one event is spent, if the bucket holds one at `now`.
  bool allow(Time now) noexcept {
    if (!started_) {
      started_ = true;
      last_ = now;
    } else if (now > last_) {
      const std::chrono::duration<double> elapsed = now - last_;
      tokens_ = std::min(burst_, tokens_ + elapsed.count() * per_second_);
      last_ = now;
    }
    if (tokens_ < 1.0) return false;
    tokens_ -= 1.0;
    return true;
  }

 private:
  double per_second_;
  double burst_;
  double tokens_;
  Time last_{};
  bool started_ = false;
};

}  // namespace dmux::agent

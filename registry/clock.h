// Time as the registry sees it: a monotonic instant for soft state and a wall-clock value for
// certificate validity and REGISTER freshness. Callers pass it in, so tests use a fake clock.
#pragma once

#include <chrono>
#include <cstdint>

namespace dmux::registry {

using TimePoint = std::chrono::steady_clock::time_point;
using Duration = std::chrono::steady_clock::duration;

struct Now {
  TimePoint mono;
  std::int64_t unix_us = 0;
  [[nodiscard]] std::int64_t unix_seconds() const noexcept { return unix_us / 1'000'000; }
};

Now system_now() noexcept;

}  // namespace dmux::registry

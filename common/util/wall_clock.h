// The wall clock (CLOCK_REALTIME), for what leaves the process or is shown to people: REGISTER and
// mesh timestamps, start times and uptimes in status output. Timers use steady_clock instead.
#pragma once

#include <cstdint>
#include <ctime>

namespace dmux::util {

inline std::uint64_t unix_time_us() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000u +
         static_cast<std::uint64_t>(ts.tv_nsec) / 1000u;
}

inline double unix_time_s() noexcept { return static_cast<double>(unix_time_us()) / 1e6; }

}  // namespace dmux::util

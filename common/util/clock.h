// Time as every component takes it: one Now read once per event, with a monotonic instant for
// timers and soft state and the wall clock (CLOCK_REALTIME, in microseconds) for what leaves the
// process (REGISTER and peer timestamps, freshness checks). Components never read a clock; they are
// handed a Now, or a Clock where they must read one themselves, so tests drive time with a
// ManualClock instead of sleeping.
#pragma once

#include <chrono>
#include <cstdint>

#include "common/util/wall_clock.h"

namespace dmux::util {

using MonoTime = std::chrono::steady_clock::time_point;
using MonoDuration = std::chrono::steady_clock::duration;

struct Now {
  MonoTime mono{};
  std::uint64_t unix_us = 0;  // microseconds since the Unix epoch
  [[nodiscard]] std::int64_t unix_seconds() const noexcept {
    return static_cast<std::int64_t>(unix_us / 1'000'000u);
  }
};

class Clock {
 public:
  virtual ~Clock() = default;
  [[nodiscard]] virtual Now now() const noexcept = 0;
};

// steady_clock and CLOCK_REALTIME.
class SystemClock final : public Clock {
 public:
  [[nodiscard]] Now now() const noexcept override { return read(); }
  [[nodiscard]] static Now read() noexcept {
    return Now{std::chrono::steady_clock::now(), unix_time_us()};
  }
};

// The process's real clock, for the wiring that hands time to components.
inline const Clock& system_clock() noexcept {
  static const SystemClock clock;
  return clock;
}

// A clock that moves only when told: both readings advance together.
class ManualClock final : public Clock {
 public:
  // 100 h of uptime on 2023-11-14: far from zero, so "long ago" is representable.
  static constexpr Now kStart{MonoTime(std::chrono::hours(100)), 1'700'000'000'000'000};
  explicit ManualClock(Now start = kStart) noexcept : now_(start) {}
  [[nodiscard]] Now now() const noexcept override { return now_; }
  Now advance(MonoDuration d) noexcept {
    now_.mono += d;
    now_.unix_us += static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(d).count());
    return now_;
  }
  void set(Now n) noexcept { now_ = n; }  // e.g. the wall clock stepping back

 private:
  Now now_;
};

}  // namespace dmux::util

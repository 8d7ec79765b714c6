// Rate pacing for the sender: when each datagram is due at a target rate, on the steady clock.
//
// Pure schedule arithmetic (testable without sleeping) plus a wait helper. The schedule is
// absolute (origin + n / rate), so neither rounding nor late wake-ups accumulate: a sender woken
// late sends at once and catches up. Only if it falls more than kMaxLag behind (descheduled for
// a long time) does the schedule restart, so a stall never turns into an unbounded burst.
#pragma once

#include <chrono>
#include <cstdint>

namespace dmux::loadgen {

using Clock = std::chrono::steady_clock;

class Pacer {
 public:
  // rate_pps 0 means unpaced: every datagram is due at once.
  Pacer(std::uint64_t rate_pps, Clock::time_point start) noexcept;

  // When datagram number `sent` (0-based, counted from the start) is due.
  [[nodiscard]] Clock::time_point due(std::uint64_t sent) const noexcept;

  // Called when datagram `sent` is due but the sender is only ready at `now`. If that lag exceeds
  // max_lag, the schedule restarts at `now`, so the sender never bursts more than max_lag's worth.
  void on_ready(std::uint64_t sent, Clock::time_point now) noexcept;

  [[nodiscard]] bool paced() const noexcept { return rate_pps_ != 0; }

  static constexpr Clock::duration kMaxLag = std::chrono::milliseconds(20);

 private:
  std::uint64_t rate_pps_;
  Clock::time_point origin_;
  std::uint64_t origin_sent_ = 0;  // datagrams already sent when origin_ was set
};

// Sleeps until `t` on CLOCK_MONOTONIC (the steady clock's source) with an absolute deadline.
void sleep_until(Clock::time_point t) noexcept;

// Waits until `t` for the paced sender: sleeps until kSpinBefore ahead of `t` and spins on the
// clock for the rest, because waking an idle VM CPU from a timer takes tens of microseconds.
// Spends at most kSpinBefore of CPU per wait, on the sender's own CPU.
void wait_until(Clock::time_point t) noexcept;
inline constexpr Clock::duration kSpinBefore = std::chrono::microseconds(60);

// Lowers this thread's timer slack to 1 ns so short paced sleeps end on time.
void tighten_timer_slack() noexcept;

}  // namespace dmux::loadgen

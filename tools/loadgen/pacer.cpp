#include "tools/loadgen/pacer.h"

#include <sys/prctl.h>
#include <time.h>

#include <cerrno>

namespace dmux::loadgen {

Pacer::Pacer(std::uint64_t rate_pps, Clock::time_point start) noexcept
    : rate_pps_(rate_pps), origin_(start) {}

Clock::time_point Pacer::due(std::uint64_t sent) const noexcept {
  if (rate_pps_ == 0) return origin_;
  // Seconds as a double: exact to well below a nanosecond for any realistic run length.
  const double seconds = static_cast<double>(sent - origin_sent_) / static_cast<double>(rate_pps_);
  return origin_ +
         std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

void Pacer::on_ready(std::uint64_t sent, Clock::time_point now) noexcept {
  if (rate_pps_ == 0 || now - due(sent) <= kMaxLag) return;
  origin_ = now;
  origin_sent_ = sent;
}

void sleep_until(Clock::time_point t) noexcept {
  const auto ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  timespec ts{};
  ts.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
  ts.tv_nsec = static_cast<long>(ns % 1'000'000'000);
  while (::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
  }
}

void wait_until(Clock::time_point t) noexcept {
  if (t - Clock::now() > kSpinBefore) sleep_until(t - kSpinBefore);
  while (Clock::now() < t) {
  }
}

void tighten_timer_slack() noexcept { ::prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL); }

}  // namespace dmux::loadgen

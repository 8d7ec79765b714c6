#include "registry/dampening.h"

#include <algorithm>
#include <cmath>

namespace dmux::registry {
namespace {

double decayed(double penalty, TimePoint from, TimePoint to, const DampeningConfig& c) noexcept {
  if (penalty <= 0.0 || to <= from) return penalty;
  const double t = std::chrono::duration<double>(to - from).count();
  const double h = std::chrono::duration<double>(c.half_life).count();
  return penalty * std::exp2(-t / h);
}

// The highest penalty that still decays below reuse within max_suppress (RFC 2439 section 4.3).
double ceiling(const DampeningConfig& c) noexcept {
  const double ratio = std::chrono::duration<double>(c.max_suppress).count() /
                       std::chrono::duration<double>(c.half_life).count();
  return c.reuse_threshold * std::exp2(ratio);
}

}  // namespace

void Dampening::on_withdrawal(TimePoint now, const DampeningConfig& c) noexcept {
  penalty_ = std::min(ceiling(c), decayed(penalty_, updated_, now, c) + c.penalty_per_flap);
  updated_ = now;
  if (penalty_ > c.suppress_threshold) suppressed_ = true;
}

double Dampening::penalty(TimePoint now, const DampeningConfig& c) const noexcept {
  return decayed(penalty_, updated_, now, c);
}

bool Dampening::suppressed(TimePoint now, const DampeningConfig& c) noexcept {
  if (suppressed_ && penalty(now, c) < c.reuse_threshold) suppressed_ = false;
  return suppressed_;
}

bool Dampening::forgettable(TimePoint now, const DampeningConfig& c) const noexcept {
  return !suppressed_ && penalty(now, c) < c.penalty_per_flap / 100.0;
}

}  // namespace dmux::registry

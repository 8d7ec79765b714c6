// Route-flap dampening for registered routers (after RFC 2439): each withdrawal adds a penalty
// that decays exponentially; above the suppress threshold the router is refused until the penalty
// decays below the reuse threshold.
#pragma once

#include <chrono>

#include "registry/clock.h"

namespace dmux::registry {

struct DampeningConfig {
  double penalty_per_flap = 1000.0;
  std::chrono::seconds half_life{60};
  double suppress_threshold = 3000.0;      // suppressed once the penalty exceeds this
  double reuse_threshold = 750.0;          // usable again once it decays below this
  std::chrono::seconds max_suppress{900};  // caps the penalty so suppression ends by then
};

class Dampening {
 public:
  // A withdrawal (expiry or deregistration) happened at `now`.
  void on_withdrawal(TimePoint now, const DampeningConfig& c) noexcept;
  [[nodiscard]] double penalty(TimePoint now, const DampeningConfig& c) const noexcept;
  // Updates and returns whether the router is suppressed at `now`.
  bool suppressed(TimePoint now, const DampeningConfig& c) noexcept;
  // True when the state has decayed to nothing worth remembering.
  [[nodiscard]] bool forgettable(TimePoint now, const DampeningConfig& c) const noexcept;

 private:
  double penalty_ = 0.0;
  TimePoint updated_{};
  bool suppressed_ = false;
};

}  // namespace dmux::registry

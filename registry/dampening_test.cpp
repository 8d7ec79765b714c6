#include "registry/dampening.h"

#include <doctest/doctest.h>

using namespace dmux::registry;
using namespace std::chrono_literals;

TEST_CASE("penalty halves every half-life") {
  DampeningConfig c;
  c.half_life = 10s;
  Dampening d;
  const TimePoint t0{};
  d.on_withdrawal(t0, c);
  CHECK(d.penalty(t0, c) == doctest::Approx(1000));
  CHECK(d.penalty(t0 + 10s, c) == doctest::Approx(500));
  CHECK(d.penalty(t0 + 20s, c) == doctest::Approx(250));
}

TEST_CASE("flapping suppresses; decay below reuse releases") {
  DampeningConfig c;  // 1000 per flap, suppress > 3000, reuse < 750, half-life 60 s
  Dampening d;
  TimePoint t{};
  for (int i = 0; i < 3; ++i) {
    d.on_withdrawal(t, c);
    t += 1s;
  }
  CHECK_FALSE(d.suppressed(t, c));  // just under 3000 after a little decay
  d.on_withdrawal(t, c);
  CHECK(d.suppressed(t, c));
  // ~3900 decays below 750 after log2(3900/750) ~ 2.4 half-lives = ~143 s.
  CHECK(d.suppressed(t + 120s, c));
  CHECK_FALSE(d.suppressed(t + 150s, c));
}

TEST_CASE("the penalty is capped so suppression never outlasts max_suppress") {
  DampeningConfig c;
  c.max_suppress = 300s;
  Dampening d;
  const TimePoint t0{};
  for (int i = 0; i < 1000; ++i) d.on_withdrawal(t0, c);
  CHECK(d.suppressed(t0, c));
  CHECK(d.suppressed(t0 + 299s, c));
  CHECK_FALSE(d.suppressed(t0 + 301s, c));
}

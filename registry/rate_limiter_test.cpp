#include "registry/rate_limiter.h"

#include <doctest/doctest.h>

using namespace dmux::registry;
using namespace std::chrono_literals;

TEST_CASE("a source gets its burst, then its rate; sources are independent") {
  RateLimiter rl({.per_second = 2.0, .burst = 3.0, .max_sources = 10});
  const TimePoint t0{};
  CHECK(rl.allow(1, t0));
  CHECK(rl.allow(1, t0));
  CHECK(rl.allow(1, t0));
  CHECK_FALSE(rl.allow(1, t0));
  CHECK(rl.allow(2, t0));
  CHECK_FALSE(rl.allow(1, t0 + 400ms));
  CHECK(rl.allow(1, t0 + 500ms));
  CHECK_FALSE(rl.allow(1, t0 + 500ms));
  CHECK(rl.allow(1, t0 + 100s));  // refills, capped at the burst
  CHECK(rl.allow(1, t0 + 100s));
  CHECK(rl.allow(1, t0 + 100s));
  CHECK_FALSE(rl.allow(1, t0 + 100s));
}

TEST_CASE("memory is bounded: idle sources are forgotten, busy ones keep new ones out") {
  RateLimiter rl({.per_second = 1.0, .burst = 2.0, .max_sources = 3});
  const TimePoint t0{};
  for (std::uint32_t s = 1; s <= 3; ++s) CHECK(rl.allow(s, t0));
  CHECK_FALSE(rl.allow(4, t0));  // full of recently active sources
  CHECK(rl.allow(4, t0 + 10s));  // the others went idle and were forgotten
  CHECK(rl.tracked_sources() <= 3);
}

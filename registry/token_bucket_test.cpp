#include "registry/token_bucket.h"

#include <doctest/doctest.h>

using namespace dmux::registry;
using namespace std::chrono_literals;

TEST_CASE("a token bucket allows its burst, then its rate, and never saves more than the burst") {
  const TimePoint t0{};
  TokenBucket b({.per_second = 10, .burst = 3}, t0);
  CHECK(b.take(t0));
  CHECK(b.take(t0));
  CHECK(b.take(t0));
  CHECK_FALSE(b.take(t0));
  CHECK_FALSE(b.take(t0 + 50ms));
  CHECK(b.take(t0 + 100ms));
  CHECK_FALSE(b.full_at(t0 + 100ms));
  CHECK(b.full_at(t0 + 400ms));
  for (int i = 0; i < 3; ++i) CHECK(b.take(t0 + 100s));
  CHECK_FALSE(b.take(t0 + 100s));
  CHECK_FALSE(b.take(t0 + 50s));  // time going backwards adds nothing
}

#include "common/util/log.h"

#include <doctest/doctest.h>

using dmux::log::SiteLimiter;

TEST_CASE("a log site writes a burst, then 5 lines a second, and says what it suppressed") {
  SiteLimiter site;
  const std::int64_t t0 = 1'000'000'000'000;
  std::uint64_t suppressed = 0;
  int allowed = 0;
  for (int i = 0; i < 1000; ++i) allowed += site.allow(t0, suppressed) ? 1 : 0;
  CHECK(allowed == SiteLimiter::kBurst);
  // One interval later exactly one more line, which reports the 980 suppressed ones.
  CHECK(site.allow(t0 + SiteLimiter::kIntervalNs, suppressed));
  CHECK(suppressed == 1000 - SiteLimiter::kBurst);
  CHECK_FALSE(site.allow(t0 + SiteLimiter::kIntervalNs, suppressed));
  // After a quiet minute the whole burst is available again.
  int later = 0;
  for (int i = 0; i < 100; ++i) later += site.allow(t0 + 60'000'000'000, suppressed) ? 1 : 0;
  CHECK(later == SiteLimiter::kBurst);
}

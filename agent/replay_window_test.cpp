#include "agent/replay_window.h"

#include <doctest/doctest.h>

#include <random>
#include <set>

namespace dmux::agent {
namespace {

constexpr std::uint64_t kW = ReplayWindow::kWindow;

TEST_CASE("each counter is accepted once, in any order within the window") {
  ReplayWindow w;
  CHECK(w.empty());
  CHECK(w.accept(5));
  CHECK_FALSE(w.may_accept(5));
  CHECK_FALSE(w.accept(5));
  CHECK(w.accept(3));  // reordered, still inside
  CHECK(w.accept(4));
  CHECK(w.accept(0));
  CHECK_FALSE(w.accept(4));
  CHECK(w.accept(6));
  CHECK(w.highest() == 6);
}

TEST_CASE("the window holds at least the spec's 2048 counters, exactly kWindow") {
  static_assert(ReplayWindow::kWindow >= 2048);
  ReplayWindow w;
  const std::uint64_t top = 1'700'000'000'000'000ULL * 4096;  // a real gateway's counter
  REQUIRE(w.accept(top));
  CHECK(w.may_accept(top - (kW - 1)));
  CHECK_FALSE(w.may_accept(top - kW));  // below the window
  CHECK(w.accept(top - (kW - 1)));
  CHECK_FALSE(w.accept(top - (kW - 1)));
  CHECK_FALSE(w.accept(0));
}

TEST_CASE("sliding forward forgets what fell out and keeps what stayed") {
  ReplayWindow w;
  for (std::uint64_t c = 100; c < 200; ++c) REQUIRE(w.accept(c));
  REQUIRE(w.accept(100 + kW));  // 100 falls out; 101..199 stay seen
  CHECK_FALSE(w.may_accept(100));
  for (std::uint64_t c = 101; c < 200; ++c) CHECK_FALSE(w.may_accept(c));
  CHECK(w.may_accept(200));
  CHECK(w.may_accept(99 + kW));
  // A jump of many windows clears everything.
  REQUIRE(w.accept(100 * kW));
  for (std::uint64_t c = 100 * kW - kW + 1; c < 100 * kW; c += 97) CHECK(w.may_accept(c));
}

TEST_CASE("random counters agree with a model: accepted once, never below the window") {
  std::mt19937_64 rng(42);
  ReplayWindow w;
  std::set<std::uint64_t> seen;
  std::uint64_t highest = 0;
  bool any = false;
  std::uint64_t base = 1'000'000;
  for (int i = 0; i < 200000; ++i) {
    if (rng() % 1000 == 0) base += rng() % (3 * kW);  // occasional jumps
    const std::uint64_t c = base + rng() % (kW + kW / 2) - kW / 4;
    const bool want = !any || c > highest || (highest - c < kW && !seen.contains(c));
    REQUIRE(w.may_accept(c) == want);
    REQUIRE(w.accept(c) == want);
    if (want) {
      seen.insert(c);
      if (!any || c > highest) highest = c;
      any = true;
    }
    base += rng() % 3;
  }
}

}  // namespace
}  // namespace dmux::agent

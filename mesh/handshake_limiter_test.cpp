#include "mesh/handshake_limiter.h"

#include <doctest/doctest.h>

using namespace dmux::mesh;
using namespace std::chrono_literals;
using V = HandshakeLimiter::Verdict;

TEST_CASE("pending handshakes are capped in total and per source") {
  HandshakeLimiter l(HandshakeLimits{.max_pending = 3, .max_per_source = 2});
  const auto t = std::chrono::steady_clock::time_point{};
  CHECK(l.on_accept(1, t) == V::kAccept);
  CHECK(l.on_accept(1, t) == V::kAccept);
  CHECK(l.on_accept(1, t) == V::kTooManyFromSource);
  CHECK(l.on_accept(2, t) == V::kAccept);
  CHECK(l.on_accept(3, t) == V::kTooMany);
  l.on_authenticated(2);
  CHECK(l.on_accept(3, t) == V::kAccept);
  CHECK(l.pending() == 3);
}

TEST_CASE("a source whose handshakes fail waits, longer each time, and is forgiven on success") {
  HandshakeLimiter l(HandshakeLimits{.penalty_min = 10s, .penalty_max = 40s});
  const auto t0 = std::chrono::steady_clock::time_point{};
  REQUIRE(l.on_accept(9, t0) == V::kAccept);
  l.on_failed(9, t0);  // one failure is forgiven (a peer that died mid-handshake)
  REQUIRE(l.on_accept(9, t0) == V::kAccept);
  l.on_failed(9, t0);
  CHECK(l.on_accept(9, t0 + 9s) == V::kPenalised);
  REQUIRE(l.on_accept(9, t0 + 10s) == V::kAccept);
  l.on_failed(9, t0 + 10s);
  CHECK(l.on_accept(9, t0 + 29s) == V::kPenalised);  // 20 s now
  REQUIRE(l.on_accept(9, t0 + 30s) == V::kAccept);
  l.on_authenticated(9);
  CHECK(l.on_accept(9, t0 + 30s) == V::kAccept);
  CHECK(l.pending() == 1);
}

TEST_CASE("the table of penalised sources is bounded") {
  HandshakeLimiter l(HandshakeLimits{.max_pending = 1000, .max_tracked_sources = 8});
  const auto t = std::chrono::steady_clock::time_point{};
  for (std::uint32_t s = 0; s < 100; ++s) {
    for (int i = 0; i < 2; ++i) {
      REQUIRE(l.on_accept(s, t) == V::kAccept);
      l.on_failed(s, t);
    }
  }
  CHECK(l.pending() == 0);
  CHECK(l.on_accept(0, t) == V::kAccept);  // long forgotten
}

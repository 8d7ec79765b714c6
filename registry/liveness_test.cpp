// Liveness rules of the registry (docs/protocol.md 9.7, 9.9) with a fake clock: BFD-like
// suspicion after missed keepalives, recovery, dampening of suspicion flaps, confirmed death, and
// no expiry for the gateway's own stall.
#include <doctest/doctest.h>

#include "registry/router_registry.h"

using namespace dmux;
using namespace dmux::registry;
using namespace std::chrono_literals;

namespace {
const RouterId kRouter{wire::ProtoId{1}, ProviderId{7}, net::Endpoint{0xC6120D02, 5000}};

RegistryConfig fast() {
  RegistryConfig c;
  c.keepalive_interval = 100ms;
  c.hold_time = 5000ms;
  c.suspect_after = 3;
  c.stall_gap = 500ms;
  return c;
}

Session session(std::uint64_t id, std::uint32_t key_id = 0) {
  Session s;
  s.id = id;
  s.key_id = key_id;
  return s;
}

// Calls expire() every 100 ms (the gateway's tick) from t for `d`, with no keepalives.
void tick_for(RouterRegistry& r, TimePoint& t, Duration d) {
  const TimePoint end = t + d;
  while (t < end) {
    t += 100ms;
    r.expire(t);
  }
}
}  // namespace

TEST_CASE("a router that misses 3 keepalives leaves forwarding but keeps its session") {
  RouterRegistry r(fast());
  TimePoint t{};
  REQUIRE(r.on_register(kRouter, 1, session(5), t) == AdmitResult::kAccepted);
  (void)r.take_changes();
  tick_for(r, t, 200ms);
  CHECK(r.up_routers().size() == 1);
  tick_for(r, t, 100ms);  // 300 ms of silence
  CHECK(r.up_routers().empty());
  CHECK(r.liveness().suspected == 1);
  CHECK(r.session(5) != nullptr);
  auto changes = r.take_changes();
  REQUIRE(changes.size() == 1);
  CHECK_FALSE(changes[0].router.has_value());  // gone from the table and the mesh

  // Its next keepalive brings it back without a new registration.
  CHECK(r.on_keepalive(5, 1, 0, t));
  CHECK(r.up_routers().size() == 1);
  CHECK(r.liveness().recovered == 1);
  changes = r.take_changes();
  REQUIRE(changes.size() == 1);
  CHECK(changes[0].router.has_value());
}

TEST_CASE("keepalives every interval keep a router up; silence for hold_time withdraws it") {
  RouterRegistry r(fast());
  TimePoint t{};
  REQUIRE(r.on_register(kRouter, 1, session(5), t) == AdmitResult::kAccepted);
  for (std::uint64_t i = 1; i <= 50; ++i) {
    t += 100ms;
    CHECK(r.on_keepalive(5, i, 0, t));
    CHECK(r.expire(t) == 0);
  }
  CHECK(r.liveness().suspected == 0);
  tick_for(r, t, 4900ms);
  CHECK(r.session(5) != nullptr);  // suspect, not gone
  tick_for(r, t, 100ms);
  CHECK(r.session(5) == nullptr);
  const auto st = r.status(t);
  REQUIRE(st.size() == 1);
  CHECK(st[0].state == RouterState::kWithdrawn);
  CHECK(st[0].flaps == 1);  // suspicion and withdrawal are one departure
}

TEST_CASE("suspicion flaps are dampened: a flapping router stays out until it decays") {
  RouterRegistry r(fast());
  TimePoint t{};
  REQUIRE(r.on_register(kRouter, 1, session(5), t) == AdmitResult::kAccepted);
  std::uint64_t counter = 0;
  int mesh_changes = 0;
  for (int flap = 0; flap < 10; ++flap) {
    tick_for(r, t, 300ms);  // suspect
    CHECK(r.on_keepalive(5, ++counter, 0, t));
    mesh_changes += static_cast<int>(r.take_changes().size());
  }
  // Penalty 1000 a flap, suppressed above 3000: the fourth suspicion keeps it out; every later
  // keepalive changes nothing, so the mesh saw a bounded number of changes.
  CHECK(r.up_routers().empty());
  CHECK(mesh_changes <= 8);
  // Heard all along while the penalty decays (half-life 60 s, reuse below 750): back eventually.
  for (int i = 0; i < 3000 && r.up_routers().empty(); ++i) {
    t += 100ms;
    CHECK(r.on_keepalive(5, ++counter, 0, t));
    r.expire(t);
  }
  CHECK(r.up_routers().size() == 1);
}

TEST_CASE("confirmed death withdraws at once and frees the key id") {
  RouterRegistry r(fast());
  TimePoint t{};
  REQUIRE(r.on_register(kRouter, 1, session(5, 77), t) == AdmitResult::kAccepted);
  const Session* s = r.session_by_key_id(77);
  REQUIRE(s != nullptr);
  CHECK(s->id == 5);
  CHECK(s->router == kRouter);
  CHECK(r.evidence(kRouter) != nullptr);
  CHECK(r.on_confirmed_dead(5, t));
  CHECK(r.up_routers().empty());
  CHECK(r.session_by_key_id(77) == nullptr);
  CHECK(r.evidence(kRouter) == nullptr);
  CHECK_FALSE(r.on_confirmed_dead(5, t));
  CHECK(r.liveness().confirmed_dead == 1);
}

TEST_CASE("after a stall of the gateway itself nobody is suspected or expired for it") {
  RouterRegistry r(fast());
  TimePoint t{};
  REQUIRE(r.on_register(kRouter, 1, session(5), t) == AdmitResult::kAccepted);
  t += 100ms;
  REQUIRE(r.on_keepalive(5, 1, 0, t));
  t += 100ms;
  r.expire(t);  // 100 ms silent before the stall
  // The loop stops for 10 s (SIGSTOP): longer than hold_time. The agent gave up on us and its
  // queued input is a COOKIE_REQUEST, not a keepalive, so nothing refreshes the router.
  t += 10s;
  CHECK(r.expire(t) == 0);
  CHECK(r.up_routers().size() == 1);
  CHECK(r.liveness().own_stalls == 1);
  CHECK(r.liveness().stalled_ms == 10000);
  // Silence after the stall counts again: suspect 300 ms after the last keepalive (100 ms of it
  // before the stall, 200 ms after).
  tick_for(r, t, 100ms);
  CHECK(r.up_routers().size() == 1);
  tick_for(r, t, 100ms);
  CHECK(r.up_routers().empty());
}

TEST_CASE("a slow tick below stall_gap is not a stall: silence counts in full") {
  RouterRegistry r(fast());
  TimePoint t{};
  REQUIRE(r.on_register(kRouter, 1, session(5), t) == AdmitResult::kAccepted);
  r.expire(t);
  t += 400ms;
  r.expire(t);
  CHECK(r.liveness().own_stalls == 0);
  CHECK(r.up_routers().empty());  // 400 ms silent: suspect
}

TEST_CASE("suspicion off: only hold_time counts") {
  RegistryConfig c = fast();
  c.suspect_after = 0;
  RouterRegistry r(c);
  TimePoint t{};
  REQUIRE(r.on_register(kRouter, 1, session(5), t) == AdmitResult::kAccepted);
  tick_for(r, t, 4900ms);
  CHECK(r.up_routers().size() == 1);
  tick_for(r, t, 100ms);
  CHECK(r.up_routers().empty());
}

TEST_CASE("a router silent for 3 intervals is offered for a probe once per silence") {
  RouterRegistry r(fast());
  TimePoint t{};
  REQUIRE(r.on_register(kRouter, 1, session(5), t) == AdmitResult::kAccepted);
  tick_for(r, t, 200ms);
  CHECK(r.take_silent().empty());
  tick_for(r, t, 100ms);
  CHECK(r.take_silent() == std::vector<std::uint64_t>{5});
  CHECK(r.on_keepalive(5, 1, 0, t));
  tick_for(r, t, 100ms);
  CHECK(r.take_silent().empty());
  tick_for(r, t, 200ms);  // a new silence of 300 ms: offered again
  CHECK(r.take_silent() == std::vector<std::uint64_t>{5});
  tick_for(r, t, 100ms);
  CHECK(r.take_silent().empty());  // the same silence: not again
}

TEST_CASE("late keepalives stretch the detect time, up to suspect_max, and it shrinks back") {
  RouterRegistry r(fast());  // base 300 ms, suspect_max 0: 400 ms
  TimePoint t{};
  REQUIRE(r.on_register(kRouter, 1, session(5), t) == AdmitResult::kAccepted);
  std::uint64_t counter = 0;
  for (int i = 0; i < 5; ++i) {  // on time: the detect time stays at 3 intervals
    t += 100ms;
    r.expire(t);
    CHECK(r.on_keepalive(5, ++counter, 0, t));
  }
  CHECK(r.detect_time(kRouter) == Duration(300ms));
  // A keepalive 190 ms late (gap 290 ms) stretches it by 4 x 190 / 4, capped at 400 ms.
  tick_for(r, t, 200ms);
  t += 90ms;
  CHECK(r.on_keepalive(5, ++counter, 0, t));
  CHECK(r.detect_time(kRouter) == Duration(400ms));
  // Now a silence of 350 ms passes (the keepalive after it is counted as late, tolerated)...
  tick_for(r, t, 300ms);
  t += 50ms;
  r.expire(t);
  CHECK(r.up_routers().size() == 1);
  CHECK(r.on_keepalive(5, ++counter, 0, t));
  CHECK(r.liveness().late_keepalives == 1);
  CHECK(r.liveness().suspected == 0);
  // ... and one of 400 ms does not.
  tick_for(r, t, 400ms);
  CHECK(r.up_routers().empty());
  CHECK(r.liveness().suspected == 1);
  // Back, and on time for a while: the detect time shrinks towards 300 ms.
  CHECK(r.on_keepalive(5, ++counter, 0, t));
  for (int i = 0; i < 20; ++i) {
    t += 100ms;
    r.expire(t);
    CHECK(r.on_keepalive(5, ++counter, 0, t));
  }
  CHECK(r.detect_time(kRouter) < Duration(305ms));
}

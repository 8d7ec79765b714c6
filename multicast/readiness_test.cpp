// The multicast readiness rule (docs/protocol.md 9.9): register once every peer is heard, or
// after the wait when some stay silent; never twice.
#include "multicast/readiness.h"

#include <doctest/doctest.h>

using namespace dmux::multicast;
using namespace std::chrono_literals;
using V = Readiness::Verdict;

TEST_CASE("readiness: waits for the peers, registers as soon as all are heard") {
  Readiness r;
  const MonoTime t{};
  r.start(t, 3000ms);
  CHECK(r.deadline() == t + 3000ms);
  CHECK(r.check(0, 1, t) == V::kWait);
  CHECK(r.check(0, 1, t + 2999ms) == V::kWait);
  CHECK(r.check(1, 1, t + 120ms) == V::kAllHeard);
  CHECK(r.check(1, 1, t + 130ms) == V::kDone);  // once
  CHECK(r.deadline() == MonoTime::max());
}

TEST_CASE("readiness: some peers heard is not enough; alone, it registers after the wait") {
  for (const std::size_t heard : {std::size_t{0}, std::size_t{1}}) {
    Readiness r;
    const MonoTime t{};
    r.start(t, 3000ms);
    CHECK(r.check(heard, 2, t + 1000ms) == V::kWait);
    CHECK(r.check(heard, 2, t + 2999ms) == V::kWait);
    CHECK(r.check(heard, 2, t + 3000ms) == V::kAlone);
    CHECK(r.check(2, 2, t + 3100ms) == V::kDone);  // a peer heard later changes nothing
  }
  Readiness r;
  r.start(MonoTime{}, 3000ms);
  CHECK(r.check(1, 2, MonoTime{} + 1000ms) == V::kWait);
  CHECK(r.check(2, 2, MonoTime{} + 1500ms) == V::kAllHeard);
}

TEST_CASE("readiness: without peers it registers at once; before start() it never waits") {
  Readiness r;
  const MonoTime t{};
  CHECK(r.check(0, 1, t) == V::kDone);  // not started: nothing to wait for
  r.start(t, 3000ms);
  CHECK(r.check(0, 0, t) == V::kAllHeard);
}

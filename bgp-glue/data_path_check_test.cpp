#include "bgp-glue/data_path_check.h"

#include <doctest/doctest.h>

using namespace dmux::bgp_glue;
using namespace std::chrono_literals;
using Change = DataPathCheck::Change;
using Verdict = DataPathCheck::Verdict;

TEST_CASE("answered probes make alive; fall misses in a row make dead; rise answers undo it") {
  DataPathCheck c({.interval = 100ms, .timeout = 100ms, .fall = 3, .rise = 2});
  DataPathCheck::TimePoint t{};
  CHECK(c.verdict() == Verdict::kUnknown);
  CHECK(c.on_reply(c.on_send(t), t + 1ms) == Change::kNone);
  t += 100ms;
  CHECK(c.on_timer(t) == Change::kNone);
  CHECK(c.on_reply(c.on_send(t), t + 1ms) == Change::kBecameAlive);
  // dmuxd stops: probes go unanswered.
  for (int i = 0; i < 2; ++i) {
    t += 100ms;
    CHECK(c.on_timer(t) == Change::kNone);
    (void)c.on_send(t);
  }
  t += 100ms;
  CHECK(c.on_timer(t) == Change::kNone);  // exactly at the timeout: not yet missed
  t += 1ms;
  CHECK(c.on_timer(t) == Change::kNone);  // second miss
  (void)c.on_send(t);
  t += 101ms;
  CHECK(c.on_timer(t) == Change::kBecameDead);  // third miss: ~300 ms after the freeze
  CHECK(c.verdict() == Verdict::kDead);
  // It resumes.
  CHECK(c.on_reply(c.on_send(t), t + 2ms) == Change::kNone);
  t += 100ms;
  CHECK(c.on_timer(t) == Change::kNone);
  CHECK(c.on_reply(c.on_send(t), t + 2ms) == Change::kBecameAlive);
  CHECK(c.missed() == 3);
}

TEST_CASE("late, repeated and unknown replies count for nothing") {
  DataPathCheck c({.interval = 100ms, .timeout = 50ms, .fall = 1, .rise = 1});
  DataPathCheck::TimePoint t{};
  const auto seq = c.on_send(t);
  CHECK(c.on_reply(seq + 1, t + 1ms) == Change::kNone);
  CHECK(c.on_reply(seq, t + 51ms) == Change::kNone);  // late
  CHECK(c.on_timer(t + 51ms) == Change::kNone);       // never seen alive: not declared dead
  CHECK(c.verdict() == Verdict::kDead);
  const auto next = c.on_send(t + 100ms);
  CHECK(c.on_reply(seq, t + 101ms) == Change::kNone);  // the old one, late
  CHECK(c.on_reply(next, t + 101ms) == Change::kBecameAlive);
  CHECK(c.on_reply(next, t + 102ms) == Change::kNone);  // twice
  CHECK(c.answered() == 1);
}

TEST_CASE("a probe never judged by on_timer is missed when the next one is sent") {
  DataPathCheck c({.interval = 100ms, .timeout = 100ms, .fall = 2, .rise = 1});
  DataPathCheck::TimePoint t{};
  (void)c.on_send(t);
  (void)c.on_send(t + 100ms);
  CHECK(c.missed() == 1);
}

TEST_CASE("a gateway never seen alive is not declared dead") {
  DataPathCheck c({.interval = 100ms, .timeout = 100ms, .fall = 3, .rise = 2});
  DataPathCheck::TimePoint t{};
  for (int i = 0; i < 10; ++i) {
    (void)c.on_send(t);
    t += 101ms;
    CHECK(c.on_timer(t) == Change::kNone);
  }
}

#include "common/util/rtt_estimator.h"

#include <doctest/doctest.h>

using namespace dmux::util;
using std::chrono::microseconds;

TEST_CASE("no samples, no estimate; loss counts unanswered probes") {
  RttEstimator e;
  CHECK_FALSE(e.rtt());
  CHECK(e.loss() == 0.0);
  for (int i = 0; i < 4; ++i) e.on_probe_sent();
  e.on_probe_reply(microseconds(500), 0);
  e.on_probe_reply(microseconds(500), 2);
  CHECK(e.loss() == doctest::Approx(0.5));
  CHECK(e.rtt() == microseconds(500));
}

TEST_CASE("outliers do not move the estimate; a real change does once it is the majority") {
  RttEstimator e;
  for (int i = 0; i < 15; ++i) {
    e.on_probe_sent();
    e.on_probe_reply(microseconds(1000 + i));
  }
  for (int i = 0; i < 3; ++i) {  // three hiccups of 50 ms
    e.on_probe_sent();
    e.on_probe_reply(microseconds(50'000));
  }
  CHECK(e.rtt()->count() < 1100);
  for (int i = 0; i < 8; ++i) {  // the path really got slower
    e.on_probe_sent();
    e.on_probe_reply(microseconds(20'000));
  }
  CHECK(e.rtt()->count() >= 20'000);
}

TEST_CASE("the newest probe is in flight, not lost; it is lost once the next one goes out") {
  RttEstimator e;
  for (int i = 0; i < 3; ++i) {
    e.on_probe_sent();
    e.on_probe_reply(microseconds(100));
  }
  e.on_probe_sent();  // in flight
  CHECK(e.loss() == 0.0);
  e.on_probe_sent();  // the previous one is now lost
  CHECK(e.loss() == doctest::Approx(0.25));
  e.on_probe_reply(microseconds(100), 1);  // ... unless its reply arrives late
  CHECK(e.loss() == 0.0);
}

TEST_CASE("loss is measured over the last 64 probes only") {
  RttEstimator e;
  for (int i = 0; i < 100; ++i) e.on_probe_sent();  // all lost
  CHECK(e.loss() == doctest::Approx(1.0));
  for (int i = 0; i < 64; ++i) {
    e.on_probe_sent();
    e.on_probe_reply(microseconds(100));
  }
  CHECK(e.loss() == doctest::Approx(0.0));
}

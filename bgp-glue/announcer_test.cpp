#include "bgp-glue/announcer.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <optional>
#include <vector>

using namespace dmux::bgp_glue;
using namespace std::chrono_literals;

namespace {

// The kernel's routing table as the announcer sees it: routes by metric, plus a log of calls.
struct FakeRoutes : RouteControl {
  std::vector<std::uint32_t> table;
  std::vector<std::string> log;
  bool fail_next = false;

  bool add(std::uint32_t metric) noexcept override {
    log.push_back("add " + std::to_string(metric));
    if (fail_next) {
      fail_next = false;
      return false;
    }
    std::erase(table, metric);
    table.push_back(metric);
    return true;
  }
  bool remove(std::uint32_t metric) noexcept override {
    log.push_back("del " + std::to_string(metric));
    std::erase(table, metric);
    return true;
  }
  bool present(std::uint32_t metric) noexcept override {
    return std::find(table.begin(), table.end(), metric) != table.end();
  }
};

AnnounceConfig config() {
  AnnounceConfig c;
  c.prefix = *dmux::net::parse_ipv4_prefix("198.18.0.0/24");
  c.rise = 3;
  c.fall = 2;
  c.drain_withdraw = 5s;
  return c;
}

const TimePoint t0{};

}  // namespace

TEST_CASE("nothing is announced before `rise` good samples in a row") {
  FakeRoutes k;
  Announcer a(config(), k);
  a.on_health_sample(true, t0);
  a.on_health_sample(true, t0);
  a.on_health_sample(false, t0);  // breaks the run
  a.on_health_sample(true, t0);
  a.on_health_sample(true, t0);
  CHECK(k.table.empty());
  CHECK(a.state(t0) == AnnounceState::kWithdrawn);
  a.on_health_sample(true, t0);
  CHECK(k.table == std::vector<std::uint32_t>{100});
  CHECK(a.state(t0) == AnnounceState::kAnnounced);
}

TEST_CASE("`fall` bad samples in a row withdraw; one bad sample does not") {
  FakeRoutes k;
  Announcer a(config(), k);
  for (int i = 0; i < 3; ++i) a.on_health_sample(true, t0);
  a.on_health_sample(false, t0);
  a.on_health_sample(true, t0);
  a.on_health_sample(false, t0);
  CHECK(k.table == std::vector<std::uint32_t>{100});
  a.on_health_sample(false, t0);
  CHECK(k.table.empty());
  CHECK(a.state(t0) == AnnounceState::kWithdrawn);
  CHECK_FALSE(a.snapshot(t0).healthy);
  CHECK(a.snapshot(t0).bad_samples == 3);
  // and it takes `rise` good samples to come back
  a.on_health_sample(true, t0);
  a.on_health_sample(true, t0);
  CHECK(k.table.empty());
  a.on_health_sample(true, t0);
  CHECK(k.table == std::vector<std::uint32_t>{100});
}

TEST_CASE(
    "drain: graceful-shutdown metric first (make before break), withdrawal after the period") {
  FakeRoutes k;
  Announcer a(config(), k);
  for (int i = 0; i < 3; ++i) a.on_health_sample(true, t0);
  k.log.clear();
  a.drain(t0);
  CHECK(k.log == std::vector<std::string>{"add 1000", "del 100"});
  CHECK(k.table == std::vector<std::uint32_t>{1000});
  CHECK(a.state(t0 + 1s) == AnnounceState::kDraining);
  CHECK(a.snapshot(t0 + 1s).drain_remaining_seconds == doctest::Approx(4.0));
  a.drain(t0 + 2s);  // idempotent: the period is not restarted
  a.on_health_sample(true, t0 + 4900ms);
  CHECK(k.table == std::vector<std::uint32_t>{1000});
  a.on_health_sample(true, t0 + 5s);
  CHECK(k.table.empty());
  CHECK(a.state(t0 + 5s) == AnnounceState::kDrained);
  // a drained PoP stays drained however healthy
  for (int i = 0; i < 5; ++i) a.on_health_sample(true, t0 + 6s);
  CHECK(k.table.empty());
  a.undrain(t0 + 7s);
  CHECK(k.table == std::vector<std::uint32_t>{100});
  CHECK(a.state(t0 + 7s) == AnnounceState::kAnnounced);
}

TEST_CASE("undrain during the graceful-shutdown period goes straight back, without a gap") {
  FakeRoutes k;
  Announcer a(config(), k);
  for (int i = 0; i < 3; ++i) a.on_health_sample(true, t0);
  a.drain(t0);
  k.log.clear();
  a.undrain(t0 + 1s);
  CHECK(k.log == std::vector<std::string>{"add 100", "del 1000"});
  CHECK(k.table == std::vector<std::uint32_t>{100});
}

TEST_CASE("an unhealthy gateway holds no route even while draining, and drain survives recovery") {
  FakeRoutes k;
  Announcer a(config(), k);
  for (int i = 0; i < 3; ++i) a.on_health_sample(true, t0);
  a.drain(t0);
  a.on_health_sample(false, t0 + 1s);
  a.on_health_sample(false, t0 + 1s);
  CHECK(k.table.empty());
  CHECK(a.state(t0 + 1s) == AnnounceState::kDrained);
  for (int i = 0; i < 3; ++i) a.on_health_sample(true, t0 + 2s);
  CHECK(k.table == std::vector<std::uint32_t>{1000});  // still inside the drain period
}

TEST_CASE("a failed kernel operation is retried on the next sample") {
  FakeRoutes k;
  Announcer a(config(), k);
  k.fail_next = true;
  for (int i = 0; i < 3; ++i) a.on_health_sample(true, t0);
  CHECK(k.table.empty());
  CHECK(a.snapshot(t0).route_failures == 1);
  a.on_health_sample(true, t0);
  CHECK(k.table == std::vector<std::uint32_t>{100});
}

TEST_CASE("withdraw_now drops the route whatever the state") {
  FakeRoutes k;
  Announcer a(config(), k);
  for (int i = 0; i < 3; ++i) a.on_health_sample(true, t0);
  a.withdraw_now();
  CHECK(k.table.empty());
  a.on_health_sample(true, t0);
  CHECK(k.table.empty());
  CHECK(a.snapshot(t0).transitions == 2);
}

TEST_CASE("a route removed from outside (dmux-healthcheck) is re-announced only after rise") {
  FakeRoutes k;
  Announcer a(config(), k);
  for (int i = 0; i < 3; ++i) a.on_health_sample(true, t0);
  REQUIRE(k.table == std::vector<std::uint32_t>{100});
  k.table.clear();  // the checker took the device down while this process was frozen
  a.on_health_sample(true, t0);
  CHECK(k.table.empty());
  CHECK(a.state(t0) == AnnounceState::kWithdrawn);
  CHECK(a.snapshot(t0).external_withdrawals == 1);
  a.on_health_sample(true, t0);
  a.on_health_sample(true, t0);
  CHECK(k.table.empty());
  a.on_health_sample(true, t0);  // rise = 3 good samples after the discovery
  CHECK(k.table == std::vector<std::uint32_t>{100});
  CHECK(a.state(t0) == AnnounceState::kAnnounced);
}

#include "registry/router_registry.h"

#include <doctest/doctest.h>

using namespace dmux;
using namespace dmux::registry;
using namespace std::chrono_literals;

namespace {
RouterId key(std::uint32_t provider, std::uint32_t addr) {
  return RouterId{wire::ProtoId{1}, ProviderId{provider}, net::Endpoint{addr, 5000}};
}
RegistryConfig config(std::chrono::milliseconds keepalive, std::chrono::milliseconds hold) {
  RegistryConfig c;
  c.keepalive_interval = keepalive;
  c.hold_time = hold;
  c.stall_gap = std::chrono::hours(1);  // these tests call expire() seconds apart on purpose
  return c;
}
Session session(std::uint64_t id) {
  Session s;
  s.id = id;
  return s;
}
}  // namespace

TEST_CASE("register, keep alive, expire after hold time of silence") {
  RouterRegistry r(config(1000ms, 3000ms));
  TimePoint t{};
  REQUIRE(r.on_register(key(7, 1), 100, session(11), t) == AdmitResult::kAccepted);
  CHECK(r.up_routers().size() == 1);
  const auto v = r.version();
  for (int i = 1; i <= 10; ++i) {
    t += 1000ms;
    CHECK(r.on_keepalive(11, static_cast<std::uint64_t>(i), 0, t));
    CHECK(r.expire(t) == 0);
  }
  CHECK(r.version() == v);
  CHECK_FALSE(r.on_keepalive(11, 10, 0, t));  // replayed counter
  t += 2999ms;
  CHECK(r.expire(t) == 0);
  t += 1ms;
  CHECK(r.expire(t) == 1);
  CHECK(r.up_routers().empty());
  CHECK(r.version() == v + 1);
  CHECK(r.session(11) == nullptr);
}

TEST_CASE("replayed or old REGISTERs are refused; a newer one replaces the session") {
  RouterRegistry r({});
  const TimePoint t{};
  REQUIRE(r.on_register(key(7, 1), 100, session(1), t) == AdmitResult::kAccepted);
  CHECK(r.on_register(key(7, 1), 100, session(2), t) == AdmitResult::kReplayed);
  CHECK(r.on_register(key(7, 1), 99, session(2), t) == AdmitResult::kReplayed);
  const auto v = r.version();
  CHECK(r.on_register(key(7, 1), 101, session(2), t) == AdmitResult::kAccepted);
  CHECK(r.version() == v + 1);  // same router, still up, but a new tunnel key: table changes
  CHECK(r.session(1) == nullptr);
  CHECK(r.session(2) != nullptr);
}

TEST_CASE("deregistration withdraws at once and cannot be replayed") {
  RouterRegistry r({});
  const TimePoint t{};
  REQUIRE(r.on_register(key(7, 1), 100, session(1), t) == AdmitResult::kAccepted);
  CHECK(r.on_keepalive(1, 5, 0, t));
  CHECK_FALSE(r.on_deregister(1, 5, t));
  CHECK(r.on_deregister(1, 6, t));
  CHECK(r.up_routers().empty());
  CHECK_FALSE(r.on_deregister(1, 7, t));
}

TEST_CASE("limits per provider and in total") {
  RegistryConfig c;
  c.max_routers = 3;
  c.max_routers_per_provider = 2;
  RouterRegistry r(c);
  const TimePoint t{};
  CHECK(r.on_register(key(7, 1), 1, session(1), t) == AdmitResult::kAccepted);
  CHECK(r.on_register(key(7, 2), 1, session(2), t) == AdmitResult::kAccepted);
  CHECK(r.on_register(key(7, 3), 1, session(3), t) == AdmitResult::kLimitReached);
  CHECK(r.on_register(key(7, 1), 2, session(4), t) == AdmitResult::kAccepted);  // re-register
  CHECK(r.on_register(key(8, 1), 1, session(5), t) == AdmitResult::kAccepted);
  CHECK(r.on_register(key(9, 1), 1, session(6), t) == AdmitResult::kLimitReached);
  CHECK(r.up_routers().size() == 3);
}

TEST_CASE("a flapping router is suppressed, stays out of the table, and comes back after decay") {
  RegistryConfig c = config(1000ms, 3000ms);
  c.dampening.half_life = 10s;
  RouterRegistry r(c);
  TimePoint t{};
  std::uint64_t ts = 1, sid = 1;
  int accepted = 0;
  for (int flap = 0; flap < 10; ++flap) {
    if (r.on_register(key(7, 1), ts++, session(sid), t) == AdmitResult::kAccepted) {
      ++accepted;
      CHECK(r.on_deregister(sid, 1, t));
    }
    ++sid;
    t += 1s;
  }
  CHECK(accepted == 4);  // the fourth withdrawal pushed the penalty over 3000
  const auto statuses = r.status(t);
  REQUIRE(statuses.size() == 1);
  CHECK(statuses[0].suppressed);
  CHECK(statuses[0].flaps == 4);
  CHECK(r.on_register(key(7, 1), ts++, session(sid++), t) == AdmitResult::kSuppressed);
  CHECK(r.up_routers().empty());
  t += 30s;  // ~3300 -> ~420 < 750
  CHECK(r.on_register(key(7, 1), ts++, session(sid++), t) == AdmitResult::kAccepted);
}

TEST_CASE("withdrawn state is forgotten once worthless") {
  RouterRegistry r(config(1000ms, 3000ms));
  TimePoint t{};
  REQUIRE(r.on_register(key(7, 1), 1, session(1), t) == AdmitResult::kAccepted);
  t += 3s;
  CHECK(r.expire(t) == 1);
  CHECK(r.status(t).size() == 1);
  t += std::chrono::hours(2);
  r.expire(t);
  CHECK(r.status(t).empty());
}

TEST_CASE("keepalive RTTs: status shows the latest, announcements only on a 20 % and 1 ms change") {
  RouterRegistry r(config(1000ms, 3000ms));
  TimePoint t{};
  REQUIRE(r.on_register(key(7, 1), 100, session(11), t) == AdmitResult::kAccepted);
  const auto v = r.version();
  const auto rv = r.rtt_version();
  auto announced = [&] { return r.up_routers_with_rtt().at(0).rtt_us; };
  CHECK(announced() == 0);
  std::uint64_t counter = 0;
  auto keepalive = [&](std::uint32_t rtt_us) { REQUIRE(r.on_keepalive(11, ++counter, rtt_us, t)); };
  keepalive(0);  // not measured yet
  CHECK(r.rtt_version() == rv);
  keepalive(10'000);  // first known value
  CHECK(announced() == 10'000);
  CHECK(r.rtt_version() == rv + 1);
  keepalive(11'900);  // +19 %: kept quiet
  keepalive(8'100);   // -19 %
  CHECK(announced() == 10'000);
  CHECK(r.rtt_version() == rv + 1);
  CHECK(r.status(t).at(0).rtt_us == 8'100);  // status shows what was reported
  keepalive(12'100);                         // +21 %
  CHECK(announced() == 12'100);
  CHECK(r.rtt_version() == rv + 2);
  keepalive(0);  // unknown again: the last value stays
  CHECK(r.status(t).at(0).rtt_us == 12'100);
  CHECK(r.version() == v);  // the set of routers never changed

  // Near a gateway a relative change is not enough: it must also be at least 1 ms.
  CHECK_FALSE(rtt_change_worth_announcing(2'000, 2'900));
  CHECK(rtt_change_worth_announcing(2'000, 3'000));
  CHECK_FALSE(rtt_change_worth_announcing(200, 900));
  CHECK(rtt_change_worth_announcing(0, 1));
  CHECK_FALSE(rtt_change_worth_announcing(5'000, 0));
}

TEST_CASE("an up router carries its registration's evidence; key ids are freed with sessions") {
  RouterRegistry r(config(1000ms, 3000ms));
  TimePoint t{};
  Session s = session(1);
  s.key_id = 77;
  RegistrationEvidence e;
  e.key_id = 77;
  e.proof.signed_rtt_us = 1200;
  e.proof.timestamp_us = 100;
  REQUIRE(r.on_register(key(7, 1), 100, s, t, e) == AdmitResult::kAccepted);
  CHECK(r.key_id_in_use(77));
  auto up = r.up_routers_with_rtt();
  REQUIRE(up.size() == 1);
  CHECK(up[0].evidence.key_id == 77);
  CHECK(up[0].evidence.proof.timestamp_us == 100);
  CHECK(up[0].rtt_us == 1200);  // the REGISTER's signed RTT is the first figure

  Session s2 = session(2);
  s2.key_id = 78;
  e.key_id = 78;
  REQUIRE(r.on_register(key(7, 1), 101, s2, t, e) == AdmitResult::kAccepted);
  CHECK_FALSE(r.key_id_in_use(77));
  CHECK(r.key_id_in_use(78));
  t += 3000ms;
  CHECK(r.expire(t) == 1);
  CHECK_FALSE(r.key_id_in_use(78));
  CHECK(r.up_routers_with_rtt().empty());
}

TEST_CASE("routers registered with a revoked certificate are withdrawn at once") {
  RouterRegistry r(config(1000ms, 3000ms));
  const TimePoint t{};
  RegistrationEvidence revoked_cert, other_cert;
  revoked_cert.serial = {std::byte{0x0a}, std::byte{0x0b}};
  other_cert.serial = {std::byte{0x0c}};
  REQUIRE(r.on_register(key(7, 1), 100, session(1), t, revoked_cert) == AdmitResult::kAccepted);
  REQUIRE(r.on_register(key(7, 2), 100, session(2), t, revoked_cert) == AdmitResult::kAccepted);
  REQUIRE(r.on_register(key(7, 3), 100, session(3), t, other_cert) == AdmitResult::kAccepted);
  const auto v = r.version();
  CHECK(r.withdraw_revoked({revoked_cert.serial}, t) == 2);
  CHECK(r.version() > v);
  REQUIRE(r.up_routers().size() == 1);
  CHECK(r.up_routers()[0] == key(7, 3));
  CHECK(r.session(1) == nullptr);
  CHECK(r.withdraw_revoked({revoked_cert.serial}, t) == 0);
}

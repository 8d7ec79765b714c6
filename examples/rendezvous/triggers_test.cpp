#include "triggers.h"

#include <doctest/doctest.h>

namespace rendezvous {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

Id id_of(int n) {
  Id id{};
  id[0] = static_cast<std::byte>(n);
  id[1] = static_cast<std::byte>(n >> 8);
  return id;
}

Receiver at(std::uint32_t ipv4, std::uint16_t port) {
  return Receiver{.ipv4 = ipv4, .port = port, .token = 1, .local = true};
}

TEST_CASE("triggers: insert, refresh, expire, remove") {
  TriggerTable t(TriggerLimits{});
  const MonoTime t0{};
  CHECK(t.insert(id_of(1), at(10, 1), seconds(30), t0) == InsertResult::kInserted);
  CHECK(t.insert(id_of(1), at(10, 1), seconds(30), t0 + seconds(20)) == InsertResult::kRefreshed);
  CHECK(t.lookup(id_of(1)).size() == 1);
  CHECK(t.lookup(id_of(2)).empty());
  CHECK(t.expire(t0 + seconds(49)) == 0);
  CHECK(t.expire(t0 + seconds(50)) == 1);
  CHECK(t.lookup(id_of(1)).empty());
  CHECK(t.size() == 0);
  CHECK(t.insert(id_of(1), at(10, 1), seconds(30), t0) == InsertResult::kInserted);
  CHECK_FALSE(t.remove(id_of(1), 10, 2));
  CHECK(t.remove(id_of(1), 10, 1));
  CHECK(t.ids() == 0);
}

TEST_CASE("triggers: lifetime capped, receivers per id, per address and total caps") {
  TriggerTable t(
      TriggerLimits{.max_triggers = 10, .max_per_address = 3, .max_lifetime = seconds(60)});
  const MonoTime t0{};
  CHECK(t.cap(seconds(600)) == seconds(60));
  REQUIRE(t.insert(id_of(1), at(1, 1), seconds(600), t0) == InsertResult::kInserted);
  CHECK(t.lookup(id_of(1))[0].expires == t0 + seconds(60));
  for (std::uint32_t a = 2; a <= kMaxReceivers; ++a) {
    CHECK(t.insert(id_of(1), at(a, 1), seconds(1), t0) == InsertResult::kInserted);
  }
  CHECK(t.insert(id_of(1), at(99, 1), seconds(1), t0) == InsertResult::kRefused);  // id full
  CHECK(t.insert(id_of(2), at(1, 2), seconds(1), t0) == InsertResult::kInserted);
  CHECK(t.insert(id_of(3), at(1, 3), seconds(1), t0) == InsertResult::kInserted);
  CHECK(t.insert(id_of(4), at(1, 4), seconds(1), t0) == InsertResult::kRefused);    // address full
  CHECK(t.insert(id_of(1), at(1, 1), seconds(1), t0) == InsertResult::kRefreshed);  // still may
  for (int i = 5; t.size() < 10; ++i) {
    REQUIRE(t.insert(id_of(i), at(static_cast<std::uint32_t>(100 + i), 1), seconds(1), t0) ==
            InsertResult::kInserted);
  }
  CHECK(t.insert(id_of(500), at(500, 1), seconds(1), t0) == InsertResult::kRefused);  // total
  CHECK(t.expire(t0 + seconds(1)) == 10);  // the refresh cut the 60 s one to 1 s
  CHECK(t.insert(id_of(4), at(1, 4), seconds(1), t0) == InsertResult::kInserted);
}

}  // namespace
}  // namespace rendezvous

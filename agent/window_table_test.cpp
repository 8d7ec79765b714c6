#include "agent/window_table.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <list>
#include <random>
#include <utility>

namespace dmux::agent {
namespace {

TEST_CASE("windows are found by (key_id, gateway_id) and created on use") {
  WindowTable t(4);
  CHECK(t.find(1, wire::GatewayId{2}) == nullptr);
  t.use(1, wire::GatewayId{2}).accept(10);
  REQUIRE(t.find(1, wire::GatewayId{2}) != nullptr);
  CHECK_FALSE(t.find(1, wire::GatewayId{2})->may_accept(10));
  CHECK(t.find(2, wire::GatewayId{1}) == nullptr);
  CHECK(t.find(1, wire::GatewayId{3}) == nullptr);
  CHECK(t.size() == 1);
}

TEST_CASE("when full, the least recently used window makes room; find does not refresh") {
  WindowTable t(3);
  t.use(1, wire::GatewayId{1});
  t.use(1, wire::GatewayId{2});
  t.use(1, wire::GatewayId{3});
  t.use(1, wire::GatewayId{1});  // most recent now; (1, 2) is the oldest
  (void)t.find(1, wire::GatewayId{2});
  t.use(1, wire::GatewayId{4});
  CHECK(t.find(1, wire::GatewayId{2}) == nullptr);
  CHECK(t.find(1, wire::GatewayId{1}) != nullptr);
  CHECK(t.find(1, wire::GatewayId{3}) != nullptr);
  CHECK(t.find(1, wire::GatewayId{4}) != nullptr);
  CHECK(t.size() == 3);
  CHECK(t.evictions() == 1);
}

TEST_CASE("erase_key forgets every window of a key") {
  WindowTable t(8);
  for (std::uint32_t g = 0; g < 4; ++g) {
    t.use(7, wire::GatewayId{g});
    t.use(9, wire::GatewayId{g});
  }
  t.erase_key(7);
  CHECK(t.size() == 4);
  for (std::uint32_t g = 0; g < 4; ++g) {
    CHECK(t.find(7, wire::GatewayId{g}) == nullptr);
    CHECK(t.find(9, wire::GatewayId{g}) != nullptr);
  }
  t.use(7, wire::GatewayId{0});
  CHECK(t.size() == 5);
}

TEST_CASE("random use, erase and eviction agree with an LRU model") {
  constexpr std::size_t kCap = 16;
  WindowTable t(kCap);
  std::list<std::pair<std::uint32_t, std::uint32_t>> lru;  // front: most recent
  std::mt19937 rng(7);
  for (int i = 0; i < 100000; ++i) {
    const std::uint32_t k = rng() % 4, g = rng() % 12;
    const auto it = std::find(lru.begin(), lru.end(), std::make_pair(k, g));
    if (rng() % 50 == 0) {
      t.erase_key(k);
      lru.remove_if([k](const auto& e) { return e.first == k; });
      continue;
    }
    REQUIRE((t.find(k, wire::GatewayId{g}) != nullptr) == (it != lru.end()));
    if (it != lru.end()) lru.erase(it);
    lru.emplace_front(k, g);
    if (lru.size() > kCap) lru.pop_back();
    t.use(k, wire::GatewayId{g});
    REQUIRE(t.size() == lru.size());
  }
  for (const auto& [k, g] : lru) CHECK(t.find(k, wire::GatewayId{g}) != nullptr);
}

}  // namespace
}  // namespace dmux::agent

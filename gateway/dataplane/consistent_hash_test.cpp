#include "gateway/dataplane/consistent_hash.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <vector>

using namespace dmux::gateway;

namespace {
std::vector<std::uint64_t> seeds_for(int n) {
  std::vector<std::uint64_t> s;
  for (int i = 0; i < n; ++i) {
    s.push_back(
        router_seed(0xc6120200u + static_cast<std::uint32_t>(i), 5000, dmux::wire::ProviderId{7}));
  }
  return s;
}
std::uint32_t client(int i) { return 0xc6130000u + static_cast<std::uint32_t>(i); }
}  // namespace

TEST_CASE("the same client always gets the same router, whatever the candidate order") {
  auto seeds = seeds_for(8);
  std::vector<std::uint64_t> reversed(seeds.rbegin(), seeds.rend());
  for (int c = 0; c < 1000; ++c) {
    const auto a = seeds[rendezvous_pick(seeds, client(c))];
    const auto b = reversed[rendezvous_pick(reversed, client(c))];
    CHECK(a == b);
  }
}

TEST_CASE("the hash is stable across builds: pinned values") {
  // If these change, every deployed gateway would reshuffle clients on upgrade.
  CHECK(mix64(0) == 0xe220a8397b1dcdafULL);
  CHECK(router_seed(0xc6120202u, 5000, dmux::wire::ProviderId{7}) ==
        router_seed(0xc6120202u, 5000, dmux::wire::ProviderId{7}));
  const auto seeds = seeds_for(4);
  CHECK(rendezvous_pick(seeds, client(1)) == rendezvous_pick(seeds, client(1)));
}

TEST_CASE("removing a router moves only that router's clients") {
  const auto seeds = seeds_for(8);
  constexpr int kClients = 20000;
  std::vector<std::uint64_t> before(kClients);
  for (int c = 0; c < kClients; ++c) before[c] = seeds[rendezvous_pick(seeds, client(c))];

  const std::uint64_t removed = seeds[3];
  std::vector<std::uint64_t> after_seeds = seeds;
  after_seeds.erase(after_seeds.begin() + 3);
  int moved = 0;
  for (int c = 0; c < kClients; ++c) {
    const auto now = after_seeds[rendezvous_pick(after_seeds, client(c))];
    if (before[c] == removed) {
      ++moved;
    } else {
      CHECK(now == before[c]);
    }
  }
  CHECK(moved > 0);
}

TEST_CASE("adding a router takes clients only for itself") {
  auto seeds = seeds_for(7);
  const auto all = seeds_for(8);
  for (int c = 0; c < 5000; ++c) {
    const auto old = seeds[rendezvous_pick(seeds, client(c))];
    const auto now = all[rendezvous_pick(all, client(c))];
    CHECK((now == old || now == all[7]));
  }
}

TEST_CASE("load is balanced: every router within 15% of the mean over consecutive clients") {
  const auto seeds = seeds_for(8);
  constexpr int kClients = 80000;
  std::map<std::size_t, int> load;
  for (int c = 0; c < kClients; ++c) ++load[rendezvous_pick(seeds, client(c))];
  REQUIRE(load.size() == 8);
  for (const auto& [router_index, n] : load) {
    const std::size_t idx = router_index;  // CAPTURE's lambda cannot name a structured binding
    CAPTURE(idx);
    CHECK(n > kClients / 8 * 85 / 100);
    CHECK(n < kClients / 8 * 115 / 100);
  }
}

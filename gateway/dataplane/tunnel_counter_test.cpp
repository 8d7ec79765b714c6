#include "gateway/dataplane/tunnel_counter.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <thread>
#include <vector>

using namespace dmux::gateway;

TEST_CASE("the counter starts at unix_time_us * 4096 and hands out consecutive blocks") {
  TunnelCounter c(1'700'000'000'000'000ULL);
  CHECK(c.peek() == 1'700'000'000'000'000ULL * 4096);
  const auto a = c.reserve(64);
  const auto b = c.reserve(3);
  CHECK(a == 1'700'000'000'000'000ULL * 4096);
  CHECK(b == a + 64);
  CHECK(c.peek() == b + 3);
}

TEST_CASE("a restart a microsecond later starts above everything a fast run reserved") {
  TunnelCounter before(1000);
  (void)before.reserve(4095);  // just under 4096 values per microsecond
  CHECK(TunnelCounter(1001).peek() >= before.peek());
}

TEST_CASE("blocks reserved by many threads never overlap") {
  TunnelCounter c(5);
  constexpr int kThreads = 4, kBlocks = 2000;
  std::vector<std::vector<std::uint64_t>> starts(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&c, &starts, t] {
      for (int i = 0; i < kBlocks; ++i) starts[t].push_back(c.reserve(1 + (i % 64)));
    });
  }
  for (auto& t : threads) t.join();
  std::vector<std::pair<std::uint64_t, std::uint64_t>> blocks;  // [start, end)
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kBlocks; ++i)
      blocks.emplace_back(starts[t][i], starts[t][i] + 1 + (i % 64));
  }
  std::sort(blocks.begin(), blocks.end());
  for (std::size_t i = 1; i < blocks.size(); ++i) CHECK(blocks[i - 1].second == blocks[i].first);
  CHECK(blocks.front().first == 5 * 4096);
  CHECK(blocks.back().second == c.peek());
}

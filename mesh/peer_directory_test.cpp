#include "mesh/peer_directory.h"

#include <doctest/doctest.h>

using namespace dmux;
using namespace dmux::mesh;
using namespace std::chrono_literals;
namespace mw = dmux::wire::mesh;

namespace {
const net::Endpoint kSelf{0xc6120001, 7000};
net::Endpoint ep(std::uint32_t i) { return net::Endpoint{0xc6120000 + i, 7000}; }
mw::Peer peer(std::uint32_t i) { return mw::Peer{wire::GatewayId{100 + i}, ep(i)}; }
auto nobody_linked = [](std::uint32_t) { return false; };
}  // namespace

TEST_CASE("only seeds and vouched gateways are dialled, and vouching lasts while someone vouches") {
  PeerDirectory d(DirectoryConfig{}, 1, kSelf);
  d.add_seed(ep(2));
  const auto t = std::chrono::steady_clock::time_point{};
  CHECK(d.due(t, nobody_linked) == std::vector{ep(2)});
  d.on_dial_done(ep(2), 102, t);
  const std::vector<mw::Peer> list = {peer(3), peer(4), mw::Peer{wire::GatewayId{1}, kSelf}};
  d.on_peers(102, list);
  CHECK(d.targets().size() == 3);
  auto linked = [](std::uint32_t id) { return id == 102; };
  CHECK(d.due(t, linked) == std::vector{ep(3), ep(4)});
  d.on_dial_done(ep(3), std::nullopt, t);
  d.on_dial_done(ep(4), std::nullopt, t);
  d.on_peers(102, std::vector<mw::Peer>{peer(3)});  // replaces: 4 is no longer vouched for
  CHECK(d.targets().size() == 2);
  d.on_voucher_gone(102);
  CHECK(d.targets().size() == 1);  // the seed stays
}

TEST_CASE("caps per voucher and in total; at most max_dials at once; backoff grows") {
  DirectoryConfig c;
  c.max_per_voucher = 5;
  c.max_vouched = 8;
  c.max_dials = 4;
  PeerDirectory d(c, 1, kSelf);
  std::vector<mw::Peer> lots;
  for (std::uint32_t i = 10; i < 2010; ++i) lots.push_back(peer(i));
  d.on_peers(201, lots);
  d.on_peers(202, std::vector<mw::Peer>(lots.begin() + 100, lots.end()));
  CHECK(d.targets().size() == 8);
  CHECK(d.counters().ignored > 1900);
  auto t = std::chrono::steady_clock::time_point{};
  const auto first = d.due(t, nobody_linked);
  CHECK(first.size() == 4);
  CHECK(d.due(t, nobody_linked).empty());  // all four in progress
  for (const auto& e : first) d.on_dial_done(e, std::nullopt, t);
  const auto second = d.due(t, nobody_linked);
  CHECK(second.size() == 4);  // the other four
  for (const auto& e : second) d.on_dial_done(e, std::nullopt, t);
  CHECK(d.due(t + 100ms, nobody_linked).empty());  // backing off (250 ms first)
  CHECK(d.due(t + 300ms, nobody_linked).size() == 4);
}

TEST_CASE("an endpoint vouched for as one gateway that turns out to be another is dropped") {
  PeerDirectory d(DirectoryConfig{}, 1, kSelf);
  d.on_peers(201, std::vector<mw::Peer>{peer(5)});
  const auto t = std::chrono::steady_clock::time_point{};
  REQUIRE(d.due(t, nobody_linked).size() == 1);
  d.on_dial_done(ep(5), 999, t);
  CHECK(d.counters().mismatch == 1);
  CHECK(d.targets().empty());
}

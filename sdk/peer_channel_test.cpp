#include "sdk/peer_channel.h"

#include <doctest/doctest.h>

#include <vector>

namespace dmux::sdk {
namespace {

using std::chrono::milliseconds;

constexpr std::uint64_t kT0 = 1700000000000000;
const net::Endpoint kA{0xc6120202, 5000};
const net::Endpoint kB{0xc6120302, 5000};

PeerKey key(char c) {
  const std::string secret(32, c);
  return derive_peer_key(std::as_bytes(std::span(secret.data(), secret.size())));
}

PeerChannelConfig config(const net::Endpoint& self, std::uint32_t provider = 7,
                         std::uint16_t proto = 0x8001) {
  return PeerChannelConfig{.self = self,
                           .proto_id = dmux::wire::ProtoId{proto},
                           .provider_id = dmux::wire::ProviderId{provider},
                           .peers = {kA, kB},
                           .dead_after = milliseconds(3500)};
}

struct Pair {
  PeerChannel a{config(kA), key('k'), kT0};
  PeerChannel b{config(kB), key('k'), kT0 + 5};
  MonoTime now{};
  std::vector<std::byte> buf = std::vector<std::byte>(kMaxPeerMessage);

  std::vector<std::byte> from_a(std::span<const std::byte> payload) {
    const std::size_t n = a.seal(buf, payload, kT0);
    return {buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n)};
  }
  PeerChannel::Verdict to_b(std::span<const std::byte> d, std::uint64_t unix_us = kT0) {
    net::Endpoint from;
    std::span<const std::byte> payload;
    bool up = false;
    return b.open(d, now, unix_us, from, payload, up);
  }
};

const std::vector<std::byte> kHi = {std::byte{'h'}, std::byte{'i'}};

TEST_CASE("peer channel: a message from a configured peer is accepted once") {
  Pair p;
  CHECK(p.b.peers().size() == 1);  // itself is not a peer
  const auto m = p.from_a(kHi);
  net::Endpoint from;
  std::span<const std::byte> payload;
  bool up = false;
  CHECK(p.b.open(m, p.now, kT0, from, payload, up) == PeerChannel::Verdict::kMessage);
  CHECK(up);
  CHECK(from == kA);
  CHECK(payload.size() == 2);
  CHECK(p.to_b(m) == PeerChannel::Verdict::kDropped);
  CHECK(p.b.drops()[static_cast<std::size_t>(PeerDrop::kReplayed)] == 1);
  CHECK(p.to_b(p.from_a({})) == PeerChannel::Verdict::kHeartbeat);
}

TEST_CASE("peer channel: reordering within 64 passes, older is replayed") {
  Pair p;
  std::vector<std::vector<std::byte>> ms;
  for (int i = 0; i < 70; ++i) ms.push_back(p.from_a(kHi));
  CHECK(p.to_b(ms[69]) == PeerChannel::Verdict::kMessage);
  CHECK(p.to_b(ms[10]) == PeerChannel::Verdict::kMessage);  // 59 behind
  CHECK(p.to_b(ms[10]) == PeerChannel::Verdict::kDropped);
  CHECK(p.to_b(ms[5]) == PeerChannel::Verdict::kDropped);  // 64 behind
  CHECK(p.b.drops()[static_cast<std::size_t>(PeerDrop::kReplayed)] == 2);
}

TEST_CASE("peer channel: unknown sender, other provider, bad key, stale clock") {
  Pair p;
  PeerChannel stranger(PeerChannelConfig{.self = {0xc6120402, 5000},
                                         .proto_id = dmux::wire::ProtoId{0x8001},
                                         .provider_id = dmux::wire::ProviderId{7},
                                         .peers = {kB}},
                       key('k'), kT0);
  PeerChannel other_provider(config(kA, 8), key('k'), kT0);
  PeerChannel other_proto(config(kA, 7, 0x8002), key('k'), kT0);
  PeerChannel wrong_key(config(kA), key('x'), kT0);
  auto sealed = [&](PeerChannel& c) {
    const std::size_t n = c.seal(p.buf, kHi, kT0);
    return std::vector<std::byte>(p.buf.begin(), p.buf.begin() + static_cast<std::ptrdiff_t>(n));
  };
  CHECK(p.to_b(sealed(stranger)) == PeerChannel::Verdict::kDropped);
  CHECK(p.to_b(sealed(other_provider)) == PeerChannel::Verdict::kDropped);
  CHECK(p.to_b(sealed(other_proto)) == PeerChannel::Verdict::kDropped);
  CHECK(p.to_b(sealed(wrong_key)) == PeerChannel::Verdict::kDropped);
  CHECK(p.to_b(p.from_a(kHi), kT0 + 31'000'000) == PeerChannel::Verdict::kDropped);
  const auto& d = p.b.drops();
  CHECK(d[static_cast<std::size_t>(PeerDrop::kUnknown)] == 1);
  CHECK(d[static_cast<std::size_t>(PeerDrop::kWrongProvider)] == 2);
  CHECK(d[static_cast<std::size_t>(PeerDrop::kBadMac)] == 1);
  CHECK(d[static_cast<std::size_t>(PeerDrop::kStale)] == 1);
  CHECK_FALSE(p.b.peers()[0].alive);
}

TEST_CASE("peer channel: a silent peer dies after dead_after, and comes back") {
  Pair p;
  REQUIRE(p.to_b(p.from_a({})) == PeerChannel::Verdict::kHeartbeat);
  int died = 0;
  p.b.expire(p.now + milliseconds(3499), [&](const PeerInfo&) { ++died; });
  CHECK(died == 0);
  p.b.expire(p.now + milliseconds(3500), [&](const PeerInfo&) { ++died; });
  CHECK(died == 1);
  CHECK_FALSE(p.b.peers()[0].alive);
  net::Endpoint from;
  std::span<const std::byte> payload;
  bool up = false;
  p.now += milliseconds(4000);
  const auto m = p.from_a({});
  CHECK(p.b.open(m, p.now, kT0, from, payload, up) == PeerChannel::Verdict::kHeartbeat);
  CHECK(up);
}

}  // namespace
}  // namespace dmux::sdk

#include "agent/tunnel_receiver.h"

#include <doctest/doctest.h>

#include <random>

#include "agent/test_gateway.h"
#include "common/util/log.h"
#include "common/wire/test_bytes.h"

namespace dmux::agent {
namespace {

using std::chrono::milliseconds;
using test::Bytes;
using test::TestGateway;

const bool kQuiet = (log::set_level(log::Level::kError), true);
const MonoTime kT0 = MonoTime(std::chrono::hours(1));

// docs/protocol.md 7, vector 2: key 00..1f, key_id 42, gateway 198.18.0.1, counter 1.
const Bytes kVector2 = wire::testing::hex(
    "02 02 38 00  00 01 9c 40  00 00 00 00  c6 12 01 02  c6 12 00 01  01 02 03 04 05 06 07 08"
    "00 00 00 2a  00 00 00 00 00 00 00 01"
    "16 10 68 17 8e 6b 3e de 05 fd a6 c7 87 e3 42 57"
    "60 00 00 00");

crypto::TunnelKeyBytes other_key() {
  crypto::TunnelKeyBytes k{};
  k.fill(std::byte{0x5a});
  return k;
}

struct Opened {
  bool ok = false;
  wire::TunnelHeader h;
  Bytes payload;
};

Opened open(TunnelReceiver& r, Bytes d, MonoTime now = kT0) {
  Opened o;
  std::span<const std::byte> payload;
  o.ok = r.open(d, now, o.h, payload);
  if (o.ok) o.payload.assign(payload.begin(), payload.end());
  return o;
}

Bytes packet() { return Bytes{std::byte{0x60}, {}, {}, {}}; }

wire::TunnelHeader client() {
  return wire::TunnelHeader{.proto_id = wire::ProtoId{1},
                            .client_ipv4 = 0xc6120102,
                            .client_port = 40000,
                            .gateway_id = {}};
}

TEST_CASE("vector 2 opens under its registration key; sent twice it is replayed") {
  TunnelReceiver r(TunnelReceiverConfig{});
  r.on_tunnel_key(wire::ProtoId{1}, 42, test::vector_key(), kT0);
  const Opened o = open(r, kVector2);
  REQUIRE(o.ok);
  CHECK(o.h.key_id == 42);
  CHECK(o.h.gateway_id == wire::GatewayId{0xc6120001});
  CHECK(o.h.client_port == 40000);
  CHECK(o.payload == packet());
  CHECK_FALSE(open(r, kVector2).ok);
  CHECK(r.counters().dropped(TunnelDrop::kReplayed) == 1);
  CHECK(r.counters().accepted == 1);
  CHECK(r.windows().size() == 1);
}

TEST_CASE("vector 2 with any byte changed is refused, never accepted") {
  TunnelReceiver r(TunnelReceiverConfig{});
  r.on_tunnel_key(wire::ProtoId{1}, 42, test::vector_key(), kT0);
  for (std::size_t i = 0; i < kVector2.size(); ++i) {
    for (const std::byte flip : {std::byte{0x01}, std::byte{0x80}}) {
      Bytes d = kVector2;
      d[i] ^= flip;
      CHECK_FALSE(open(r, d).ok);
    }
  }
  const auto& c = r.counters();
  CHECK(c.accepted == 0);
  CHECK(c.dropped(TunnelDrop::kBadTag) > 0);
  CHECK(r.windows().size() == 0);  // only a verified tag creates a window
  // The tag was restored after each check: the genuine datagram still opens.
  CHECK(open(r, kVector2).ok);
}

TEST_CASE("a key we do not hold, a wrong key and a forged tag are dropped by reason") {
  TunnelReceiver r(TunnelReceiverConfig{}, test::vector_key());  // static key, key_id 0
  TestGateway stranger(other_key(), 0);
  CHECK_FALSE(open(r, stranger.tunnel(client(), packet())).ok);  // key_id 0, another key
  TestGateway unknown(test::vector_key(), 77);
  CHECK_FALSE(open(r, unknown.tunnel(client(), packet())).ok);  // no key 77
  TestGateway gw(test::vector_key(), 0);
  Bytes d = gw.tunnel(client(), packet());
  d[wire::kTunnelTagOffset] ^= std::byte{1};
  CHECK_FALSE(open(r, d).ok);
  CHECK(r.counters().dropped(TunnelDrop::kBadTag) == 2);
  CHECK(r.counters().dropped(TunnelDrop::kUnknownKey) == 1);
  CHECK(open(r, gw.tunnel(client(), packet())).ok);
}

TEST_CASE("parse failures are counted as in 2.2") {
  TunnelReceiver r(TunnelReceiverConfig{}, test::vector_key());
  Bytes v1 = kVector2;
  v1[0] = std::byte{1};
  CHECK_FALSE(open(r, v1).ok);
  CHECK_FALSE(open(r, Bytes(kVector2.begin(), kVector2.begin() + 30)).ok);
  CHECK_FALSE(open(r, Bytes(kVector2.begin(), kVector2.begin() + 56)).ok);  // no payload
  Bytes data = kVector2;
  data[1] = std::byte{1};
  CHECK_FALSE(open(r, data).ok);
  CHECK_FALSE(open(r, Bytes{}).ok);
  const auto& c = r.counters();
  CHECK(c.dropped(TunnelDrop::kUnsupportedVersion) == 1);
  CHECK(c.dropped(TunnelDrop::kTruncated) == 2);
  CHECK(c.dropped(TunnelDrop::kMalformed) == 1);
  CHECK(c.dropped(TunnelDrop::kUnexpectedType) == 1);
}

TEST_CASE("replay: reordering inside the window passes, old and repeated counters do not") {
  TunnelReceiver r(TunnelReceiverConfig{}, test::vector_key());
  TestGateway gw(test::vector_key(), 0, wire::GatewayId{0xc6120001}, 1'000'000);
  std::vector<Bytes> sent;
  for (int i = 0; i < 5000; ++i) sent.push_back(gw.tunnel(client(), packet()));
  CHECK(open(r, sent[4999]).ok);
  CHECK(open(r, sent[4999 - 4095]).ok);        // inside the window
  CHECK_FALSE(open(r, sent[4999 - 4096]).ok);  // below it
  CHECK_FALSE(open(r, sent[4999 - 4095]).ok);  // again
  CHECK(r.counters().dropped(TunnelDrop::kReplayed) == 2);
  // Another gateway's counters are its own.
  TestGateway other(test::vector_key(), 0, wire::GatewayId{0xc6120002}, 1);
  CHECK(open(r, other.tunnel(client(), packet())).ok);
  CHECK(r.windows().size() == 2);
}

TEST_CASE("windows are capped (LRU) and created only after the tag") {
  TunnelReceiver r(TunnelReceiverConfig{.max_windows = 4}, test::vector_key());
  for (std::uint32_t g = 1; g <= 10; ++g) {
    TestGateway forger(other_key(), 0, wire::GatewayId{g});
    CHECK_FALSE(open(r, forger.tunnel(client(), packet())).ok);
  }
  CHECK(r.windows().size() == 0);
  for (std::uint32_t g = 1; g <= 10; ++g) {
    TestGateway gw(test::vector_key(), 0, wire::GatewayId{g});
    CHECK(open(r, gw.tunnel(client(), packet())).ok);
  }
  CHECK(r.windows().size() == 4);
  CHECK(r.windows().evictions() == 6);
}

TEST_CASE("a retired key opens TUNNELs for its hold time, then it is forgotten") {
  TunnelReceiver r(TunnelReceiverConfig{.retired_key_hold = milliseconds(5000)});
  TestGateway old_gw(other_key(), 11), new_gw(test::vector_key(), 12);
  r.on_tunnel_key(wire::ProtoId{1}, 11, other_key(), kT0);
  CHECK(open(r, old_gw.tunnel(client(), packet())).ok);
  r.on_tunnel_key(wire::ProtoId{1}, 12, test::vector_key(), kT0 + milliseconds(100));
  r.on_tunnel_key_retired(11, kT0 + milliseconds(100));  // replaced by the new registration
  CHECK(open(r, old_gw.tunnel(client(), packet()), kT0 + milliseconds(5099)).ok);
  CHECK(open(r, new_gw.tunnel(client(), packet()), kT0 + milliseconds(5099)).ok);
  CHECK_FALSE(open(r, old_gw.tunnel(client(), packet()), kT0 + milliseconds(5100)).ok);
  CHECK(r.counters().dropped(TunnelDrop::kUnknownKey) == 1);
  CHECK(r.keys().size() == 2);
  r.expire(kT0 + milliseconds(5100));
  CHECK(r.keys().size() == 1);
  CHECK(r.windows().size() == 1);  // the old key's window went with it
  CHECK(r.counters().keys_forgotten == 1);
}

TEST_CASE("key_id 0 is the static key's: a registration cannot install or retire it") {
  TunnelReceiver r(TunnelReceiverConfig{}, test::vector_key());
  r.on_tunnel_key(wire::ProtoId{1}, 0, other_key(), kT0);
  r.on_tunnel_key_retired(0, kT0);
  CHECK(r.counters().keys_refused == 1);
  TestGateway gw(test::vector_key(), 0);
  CHECK(open(r, gw.tunnel(client(), packet()), kT0 + std::chrono::hours(1)).ok);
}

TEST_CASE("the same key_id with a new key replaces the key and its windows") {
  TunnelReceiver r(TunnelReceiverConfig{});
  r.on_tunnel_key(wire::ProtoId{1}, 5, other_key(), kT0);
  TestGateway a(other_key(), 5, wire::GatewayId{1}, 100),
      b(test::vector_key(), 5, wire::GatewayId{1}, 50);
  CHECK(open(r, a.tunnel(client(), packet())).ok);
  r.on_tunnel_key(wire::ProtoId{1}, 5, test::vector_key(), kT0);
  CHECK_FALSE(open(r, a.tunnel(client(), packet())).ok);
  CHECK(open(r, b.tunnel(client(), packet())).ok);  // counter 50 < 101: a fresh window
}

TEST_CASE("at most max_keys registration keys; retired ones make room first") {
  TunnelReceiver r(TunnelReceiverConfig{.max_keys = 2, .retired_key_hold = milliseconds(1000)});
  r.on_tunnel_key(wire::ProtoId{1}, 1, other_key(), kT0);
  r.on_tunnel_key(wire::ProtoId{1}, 2, other_key(), kT0);
  r.on_tunnel_key(wire::ProtoId{1}, 3, other_key(), kT0);
  CHECK(r.counters().keys_refused == 1);
  r.on_tunnel_key_retired(1, kT0);
  r.on_tunnel_key(wire::ProtoId{1}, 3, other_key(), kT0);
  CHECK(r.keys().size() == 2);
  TestGateway three(other_key(), 3);
  CHECK(open(r, three.tunnel(client(), packet())).ok);
}

TEST_CASE("random datagrams and random keys open nothing") {
  TunnelReceiver r(TunnelReceiverConfig{}, test::vector_key());
  r.on_tunnel_key(wire::ProtoId{1}, 42, test::vector_key(), kT0);
  std::mt19937 rng(1);
  for (int i = 0; i < 20000; ++i) {
    Bytes d = kVector2;
    wire::ByteWriter w(std::span<std::byte>(d).subspan(28, 28));
    w.u32(rng() % 2 == 0 ? 42 : 0);
    w.u64((std::uint64_t{rng()} << 32) | rng());
    for (int j = 0; j < 16; ++j) w.u8(static_cast<std::uint8_t>(rng()));
    CHECK_FALSE(open(r, d).ok);
  }
  CHECK(r.counters().accepted == 0);
  CHECK(r.counters().dropped(TunnelDrop::kBadTag) == 20000);
}

}  // namespace
}  // namespace dmux::agent

#include "gateway/dataplane/packet_processor.h"

#include <doctest/doctest.h>

#include <array>
#include <vector>

#include "common/wire/test_bytes.h"
#include "common/wire/tunnel_seal.h"
#include "gateway/dataplane/test_routers.h"

using namespace dmux;
using namespace dmux::gateway;
using wire::testing::hex;

namespace {

// docs/protocol.md section 7: vector 1 (DATA), vector 2 (its TUNNEL), vector 4 (DATA with an
// unknown flag and an option word).
const char* const kVector1 =
    "02 01 14 00 00 01 00 00 00 00 00 00 01 02 03 04 05 06 07 08 60 00 00 00";
const char* const kVector2 =
    "02 02 38 00  00 01 9c 40  00 00 00 00  c6 12 01 02  c6 12 00 01  01 02 03 04 05 06 07 08"
    "  00 00 00 2a  00 00 00 00 00 00 00 01"
    "  16 10 68 17 8e 6b 3e de 05 fd a6 c7 87 e3 42 57  60 00 00 00";
const char* const kVector4 =
    "02 01 18 80  00 02 00 00  00 00 00 2a  ff ee dd cc bb aa 99 88  aa bb cc dd  46 00 00 1c";

struct Fixture {
  // Vector 2's router: key 00 01 .. 1f, key_id 42.
  ForwardingTable table{
      {testing::keyed_router(1, 7, *net::parse_endpoint("198.18.2.2:5000"),
                             RouterOrigin::kRegistered, testing::tunnel_key(0), 42),
       testing::keyed_router(2, 42, *net::parse_endpoint("198.18.2.3:5000"), RouterOrigin::kStatic,
                             testing::tunnel_key(9), 0)}};
  ProcessorContext ctx{&table, wire::GatewayId{0xc6120001u}};
  std::vector<std::byte> slot = std::vector<std::byte>(kTunnelHeadroom + 1501);
  ForwardAction action;
  DropReason drop = DropReason::kCount_;
  wire::ProtoId proto;
  net::Endpoint client{0xc6120102u, 40000};

  bool run(const std::vector<std::byte>& d, std::uint64_t counter = 1) {
    std::copy(d.begin(), d.end(), slot.begin() + kTunnelHeadroom);
    return process_datagram(slot, d.size(), client, ctx, counter, action, drop, proto);
  }
  // The tunnel as the router receives it: a writable copy.
  [[nodiscard]] std::vector<std::byte> tunnel() const {
    return {action.tunnel.begin(), action.tunnel.end()};
  }
};

bool opens(std::vector<std::byte> d, const crypto::TunnelKey& key) {
  wire::TunnelHeader h;
  std::span<const std::byte> payload;
  return wire::parse_tunnel(d, h, payload) == wire::ParseStatus::kOk &&
         wire::open_tunnel(d, h, key);
}

}  // namespace

TEST_CASE("vector 1 becomes vector 2, sealed, in place in front of its payload") {
  Fixture f;
  REQUIRE(f.run(hex(kVector1)));
  CHECK(f.action.router == *net::parse_endpoint("198.18.2.2:5000"));
  CHECK(f.tunnel() == hex(kVector2));
  // Zero copy: the header ends where the DATA payload starts, in the same slot.
  CHECK(f.action.tunnel.data() == f.slot.data());
  CHECK(f.action.tunnel.data() + wire::kTunnelHeaderLen ==
        f.slot.data() + kTunnelHeadroom + wire::kDataHeaderLen);
  CHECK(opens(f.tunnel(), crypto::TunnelKey(testing::key_bytes(0))));
  CHECK_FALSE(opens(f.tunnel(), crypto::TunnelKey(testing::key_bytes(1))));
}

TEST_CASE("every byte of a sealed TUNNEL is covered by its tag") {
  Fixture f;
  const crypto::TunnelKey key(testing::key_bytes(0));
  std::vector<std::byte> data = hex(kVector1);
  data.resize(data.size() + 200, std::byte{0x5a});
  REQUIRE(f.run(data, 0x123456789abcdefULL));
  const auto sealed = f.tunnel();
  REQUIRE(opens(sealed, key));
  for (std::size_t i = 0; i < sealed.size(); ++i) {
    CAPTURE(i);
    auto bad = sealed;
    bad[i] ^= std::byte{0x01};
    CHECK_FALSE(opens(bad, key));
  }
}

TEST_CASE("options are skipped, unknown flags copied, and the counter is the one given") {
  Fixture f;
  REQUIRE(f.run(hex(kVector4), 77));
  const auto t = f.tunnel();
  wire::TunnelHeader h;
  std::span<const std::byte> payload;
  REQUIRE(wire::parse_tunnel(t, h, payload) == wire::ParseStatus::kOk);
  CHECK(h.flags == 0x80);
  CHECK(h.proto_id == wire::ProtoId{2});
  CHECK(h.provider_id == wire::ProviderId{42});
  CHECK(h.token == 0xffeeddccbbaa9988ULL);
  CHECK(h.key_id == 0);
  CHECK(h.counter == 77);
  CHECK(h.gateway_id == wire::GatewayId{0xc6120001u});
  CHECK(std::vector<std::byte>(payload.begin(), payload.end()) == hex("46 00 00 1c"));
  CHECK(t.size() == wire::kTunnelHeaderLen + 4);
  CHECK(f.action.tunnel.data() == f.slot.data() + 4);
  CHECK(opens(t, crypto::TunnelKey(testing::key_bytes(9))));
}

TEST_CASE("each kind of bad datagram is dropped with its own reason") {
  struct Case {
    const char* bytes;
    DropReason want;
  };
  const Case cases[] = {
      {"02 01 14", DropReason::kTruncated},
      {"", DropReason::kTruncated},
      {"02 01 10 00 00 01 00 00 00 00 00 00 01 02 03 04 05 06 07 08 60", DropReason::kMalformed},
      {"01 01 14 00 00 01 00 00 00 00 00 00 01 02 03 04 05 06 07 08 60",
       DropReason::kUnsupportedVersion},  // a version-1 DATA
      {"07 01 14 00 00 01 00 00 00 00 00 00 01 02 03 04 05 06 07 08 60",
       DropReason::kUnsupportedVersion},
      {"02 03 14 00 00 01 00 00 00 00 00 00 01 02 03 04 05 06 07 08 60",
       DropReason::kUnexpectedType},
      {"02 01 14 00 00 03 00 00 00 00 00 00 01 02 03 04 05 06 07 08 60",
       DropReason::kUnknownProtocol},
      {"02 01 14 00 00 01 00 00 00 00 00 08 01 02 03 04 05 06 07 08 60", DropReason::kNoRouter},
  };
  for (const auto& c : cases) {
    CAPTURE(c.bytes);
    Fixture f;
    CHECK_FALSE(f.run(hex(c.bytes)));
    CHECK(f.drop == c.want);
  }
}

TEST_CASE("a datagram larger than the caller's slot is refused, not read past") {
  Fixture f;
  f.slot.resize(kTunnelHeadroom + 10);
  CHECK_FALSE(process_datagram(f.slot, 11, f.client, f.ctx, 1, f.action, f.drop, f.proto));
  CHECK(f.drop == DropReason::kOversize);
}

// TUNNEL tags (docs/protocol.md 5.2) against vector 2, and what a router refuses.
#include "common/wire/tunnel_seal.h"

#include <doctest/doctest.h>

#include <vector>

#include "common/wire/test_bytes.h"

using namespace dmux;
using namespace dmux::wire;
using testing::hex;

namespace {

crypto::TunnelKeyBytes vector_key() {
  crypto::TunnelKeyBytes k{};
  for (std::size_t i = 0; i < k.size(); ++i) k[i] = static_cast<std::byte>(i);  // 00 01 .. 1f
  return k;
}

const char* const kVector2 =
    "02 02 38 00  00 01 9c 40  00 00 00 00  c6 12 01 02  c6 12 00 01  01 02 03 04 05 06 07 08"
    "  00 00 00 2a  00 00 00 00 00 00 00 01"
    "  16 10 68 17 8e 6b 3e de 05 fd a6 c7 87 e3 42 57  60 00 00 00";

}  // namespace

TEST_CASE("vector 2: sealing reproduces its tag, and opening accepts it") {
  const crypto::TunnelKey key(vector_key());
  const auto want = hex(kVector2);
  TunnelHeader h{.flags = 0,
                 .proto_id = ProtoId{1},
                 .provider_id = ProviderId{0},
                 .client_ipv4 = 0xc6120102,
                 .client_port = 40000,
                 .gateway_id = GatewayId{0xc6120001},
                 .token = 0x0102030405060708ULL,
                 .key_id = 42,
                 .counter = 1};
  std::vector<std::byte> d(kTunnelHeaderLen + 4);
  REQUIRE(write_tunnel(d, h) == kTunnelHeaderLen);
  d[kTunnelHeaderLen] = std::byte{0x60};
  seal_tunnel(d, h.gateway_id, h.counter, key);
  CHECK(d == want);

  TunnelHeader got;
  std::span<const std::byte> payload;
  REQUIRE(parse_tunnel(d, got, payload) == ParseStatus::kOk);
  CHECK(open_tunnel(d, got, key));
  CHECK(d == want);  // the tag field is put back
}

TEST_CASE("any change to a sealed TUNNEL, or another key, fails to open") {
  const crypto::TunnelKey key(vector_key());
  crypto::TunnelKeyBytes other_raw = vector_key();
  other_raw[0] = std::byte{0xff};
  const crypto::TunnelKey other(other_raw);
  const auto sealed = hex(kVector2);
  TunnelHeader h;
  std::span<const std::byte> payload;
  {
    auto d = sealed;
    REQUIRE(parse_tunnel(d, h, payload) == ParseStatus::kOk);
    CHECK_FALSE(open_tunnel(d, h, other));
  }
  for (std::size_t i = 0; i < sealed.size(); ++i) {
    auto d = sealed;
    d[i] ^= std::byte{0x01};
    if (parse_tunnel(d, h, payload) != ParseStatus::kOk) continue;  // a header check caught it
    CAPTURE(i);
    CHECK_FALSE(open_tunnel(d, h, key));
  }
}

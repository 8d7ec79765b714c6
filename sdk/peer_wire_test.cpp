#include "sdk/peer_wire.h"

#include <doctest/doctest.h>

#include <vector>

#include "common/wire/test_bytes.h"

namespace dmux::sdk {
namespace {

using wire::testing::hex;

// docs/protocol.md 18.3, vector S1: from router 198.18.2.2:5000 serving exp-0x8001 for provider
// 7, seq 1700000000000000, sent_us 1700000000000123, payload "hi", peer secret "0123456789abcdef".
constexpr const char* kS1 =
    "02 22 04 00 c6 12 02 02 13 88 80 01 00 00 00 07 00 06 0a 24 18 1e 40 00"
    "00 06 0a 24 18 1e 40 7b 68 69";

PeerKey s1_key() {
  const std::string_view secret = "0123456789abcdef";
  return derive_peer_key(std::as_bytes(std::span(secret.data(), secret.size())));
}

PeerHeader s1_header() {
  return PeerHeader{.router_ipv4 = 0xc6120202,
                    .router_port = 5000,
                    .proto_id = dmux::wire::ProtoId{0x8001},
                    .provider_id = dmux::wire::ProviderId{7},
                    .seq = 1700000000000000,
                    .sent_us = 1700000000000123};
}

std::vector<std::byte> s1() {
  std::vector<std::byte> out(kMaxPeerMessage);
  const auto payload = hex("68 69");
  out.resize(write_peer_message(out, s1_header(), payload, s1_key()));
  return out;
}

TEST_CASE("peer message: vector S1 layout, MAC and round trip") {
  const auto m = s1();
  REQUIRE(m.size() == 34 + kPeerMacLen);
  CHECK(std::vector(m.begin(), m.begin() + 34) == hex(kS1));
  CHECK(std::vector(m.begin() + 34, m.end()) ==
        hex("42 37 54 2f aa 35 95 be 6a 1d 3c 3f f0 2d f9 a9"));
  PeerHeader h;
  std::span<const std::byte> payload;
  REQUIRE(parse_peer_message(m, h, payload) == PeerParse::kOk);
  CHECK(h.router_ipv4 == 0xc6120202);
  CHECK(h.router_port == 5000);
  CHECK(h.proto_id == dmux::wire::ProtoId{0x8001});
  CHECK(h.seq == 1700000000000000);
  CHECK(payload.size() == 2);
  CHECK(peer_mac_ok(m, s1_key()));
}

TEST_CASE("peer message: any changed byte fails the MAC or the parse") {
  const auto good = s1();
  for (std::size_t i = 0; i < good.size(); ++i) {
    auto m = good;
    m[i] ^= std::byte{0x01};
    PeerHeader h;
    std::span<const std::byte> payload;
    const bool parsed = parse_peer_message(m, h, payload) == PeerParse::kOk;
    CHECK_FALSE((parsed && peer_mac_ok(m, s1_key())));
  }
}

TEST_CASE("peer message: typed failures") {
  PeerHeader h;
  std::span<const std::byte> payload;
  CHECK(parse_peer_message({}, h, payload) == PeerParse::kTruncated);
  auto m = s1();
  CHECK(parse_peer_message(std::span(m).first(47), h, payload) == PeerParse::kTruncated);
  m[0] = std::byte{1};
  CHECK(parse_peer_message(m, h, payload) == PeerParse::kUnsupportedVersion);
  m = s1();
  m[1] = std::byte{32};
  CHECK(parse_peer_message(m, h, payload) == PeerParse::kUnexpectedType);
  m = s1();
  m[2] = std::byte{8};
  CHECK(parse_peer_message(m, h, payload) == PeerParse::kMalformed);
  m = s1();
  m[12] = m[13] = m[14] = m[15] = std::byte{0};  // provider 0
  CHECK(parse_peer_message(m, h, payload) == PeerParse::kMalformed);
  std::vector<std::byte> big(kMaxPeerMessage + 1);
  CHECK(write_peer_message(big, s1_header(), std::span(big).first(kMaxPeerPayload + 1), s1_key()) ==
        0);
  const auto header = s1();  // one vector: two calls would give iterators into two temporaries
  std::copy(header.begin(), header.begin() + 32, big.begin());
  CHECK(parse_peer_message(big, h, payload) == PeerParse::kMalformed);
}

}  // namespace
}  // namespace dmux::sdk

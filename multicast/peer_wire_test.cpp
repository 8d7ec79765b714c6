#include "multicast/peer_wire.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <vector>

#include "common/wire/byte_writer.h"

namespace dmux::multicast {
namespace {

using Bytes = std::vector<std::byte>;

const PeerKey kKey = derive_peer_key(std::as_bytes(std::span("0123456789abcdef", 16)));

PeerHeader header(wire::PeerType type, std::uint8_t part = 0, std::uint8_t parts = 0) {
  return PeerHeader{.type = type,
                    .router_ipv4 = 0xc6120202,
                    .router_port = 5000,
                    .part = part,
                    .parts = parts,
                    .provider_id = dmux::wire::ProviderId{7},
                    .seq = 1'700'000'000'000'000,
                    .sent_us = 1'700'000'000'000'123};
}

// A sealed SUMMARY with one client in two groups.
Bytes summary() {
  Bytes b(200);
  std::size_t n = write_peer_header(b, header(wire::PeerType::kSummary, 0, 1));
  wire::ByteWriter w(std::span<std::byte>(b).subspan(n));
  w.u32(1000);
  w.u16(1);
  w.u16(0);
  w.u32(0xc6120b02);
  w.u16(40000);
  w.u16(2);
  w.u64(0xaaaa);
  w.u32(1500);
  w.u32(0xef010101);
  w.u32(0xef020202);
  n = seal(b, n + w.size(), kKey);
  b.resize(n);
  return b;
}

TEST_CASE("exchange header: byte layout and round trip") {
  Bytes b(kPeerHeaderLen);
  REQUIRE(write_peer_header(b, header(wire::PeerType::kSummary, 2, 3)) == kPeerHeaderLen);
  const Bytes expected_start = {std::byte{2},    std::byte{32},   std::byte{4},    std::byte{0},
                                std::byte{0xc6}, std::byte{0x12}, std::byte{0x02}, std::byte{0x02},
                                std::byte{0x13}, std::byte{0x88}, std::byte{2},    std::byte{3}};
  CHECK(Bytes(b.begin(), b.begin() + 12) == expected_start);
  const Bytes s = summary();
  CHECK(s.size() == kSummaryFixedLen + kSummaryEntryLen + 8 + kPeerMacLen);
  PeerHeader h;
  std::span<const std::byte> body;
  REQUIRE(parse_peer_header(s, h, body) == PeerParse::kOk);
  CHECK(peer_mac_ok(s, kKey));
  CHECK(h.type == wire::PeerType::kSummary);
  CHECK(h.router_ipv4 == 0xc6120202);
  CHECK(h.router_port == 5000);
  CHECK((h.part == 0 && h.parts == 1));
  CHECK(h.provider_id == dmux::wire::ProviderId{7});
  CHECK(h.seq == 1'700'000'000'000'000);
  CHECK(h.sent_us == 1'700'000'000'000'123);
  SummaryReader r;
  REQUIRE(r.init(body) == PeerParse::kOk);
  CHECK(r.interval_ms() == 1000);
  SummaryEntry e;
  REQUIRE(r.next(e));
  CHECK(e.client == Member{0xc6120b02, 40000, 0xaaaa});
  CHECK(e.age_ms == 1500);
  REQUIRE(e.group_count == 2);
  CHECK(e.group(1) == 0xef020202);
  CHECK_FALSE(r.next(e));
}

TEST_CASE("test vector M1 (docs/protocol.md 14.5)") {
  const Bytes s = summary();
  const std::vector<int> m1 = {
      0x02, 0x20, 0x04, 0x00, 0xc6, 0x12, 0x02, 0x02, 0x13, 0x88, 0x00, 0x01, 0x00, 0x00,
      0x00, 0x07, 0x00, 0x06, 0x0a, 0x24, 0x18, 0x1e, 0x40, 0x00, 0x00, 0x06, 0x0a, 0x24,
      0x18, 0x1e, 0x40, 0x7b, 0x00, 0x00, 0x03, 0xe8, 0x00, 0x01, 0x00, 0x00, 0xc6, 0x12,
      0x0b, 0x02, 0x9c, 0x40, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xaa, 0xaa,
      0x00, 0x00, 0x05, 0xdc, 0xef, 0x01, 0x01, 0x01, 0xef, 0x02, 0x02, 0x02};
  REQUIRE(s.size() == m1.size() + kPeerMacLen);
  for (std::size_t i = 0; i < m1.size(); ++i) CHECK(std::to_integer<int>(s[i]) == m1[i]);
  const PeerKey mac = crypto::hmac_sha256(kKey, std::span(s).first(m1.size()));
  CHECK(std::equal(mac.begin(), mac.begin() + 16,
                   s.begin() + static_cast<std::ptrdiff_t>(m1.size())));
}

TEST_CASE("the peer key is version 2's: HMAC-SHA256(secret, \"ipdmux-v2-mcast-peer\")") {
  const std::string_view label = "ipdmux-v2-mcast-peer";
  CHECK(kKey == crypto::hmac_sha256(std::as_bytes(std::span("0123456789abcdef", 16)),
                                    std::as_bytes(std::span(label.data(), label.size()))));
}

TEST_CASE("a changed byte, another key or a cut datagram fails") {
  const Bytes s = summary();
  for (std::size_t i = 0; i < s.size(); ++i) {
    Bytes t = s;
    t[i] ^= std::byte{0x40};
    PeerHeader h;
    std::span<const std::byte> body;
    const PeerParse p = parse_peer_header(t, h, body);
    CHECK((p != PeerParse::kOk || !peer_mac_ok(t, kKey)));
  }
  const PeerKey other = derive_peer_key(std::as_bytes(std::span("another secret!!", 16)));
  CHECK_FALSE(peer_mac_ok(s, other));
  for (std::size_t len = 0; len < kSummaryFixedLen + kPeerMacLen; ++len) {
    PeerHeader h;
    std::span<const std::byte> body;
    CHECK(parse_peer_header(std::span(s).first(len), h, body) != PeerParse::kOk);
  }
}

TEST_CASE("header checks: version, type, parts") {
  PeerHeader h;
  std::span<const std::byte> body;
  Bytes s = summary();
  s[0] = std::byte{1};  // a version-1 router
  CHECK(parse_peer_header(s, h, body) == PeerParse::kUnsupportedVersion);
  s = summary();
  s[1] = std::byte{5};
  CHECK(parse_peer_header(s, h, body) == PeerParse::kUnexpectedType);
  s = summary();
  s[11] = std::byte{0};  // parts 0
  CHECK(parse_peer_header(s, h, body) == PeerParse::kMalformed);
  s = summary();
  s[10] = std::byte{1};  // part 1 of 1
  CHECK(parse_peer_header(s, h, body) == PeerParse::kMalformed);
}

TEST_CASE("summary bodies: declared counts are capped by the bytes present") {
  const Bytes s = summary();
  PeerHeader h;
  std::span<const std::byte> body;
  REQUIRE(parse_peer_header(s, h, body) == PeerParse::kOk);
  Bytes b(body.begin(), body.end());
  SummaryReader r;
  b[5] = std::byte{2};  // two clients declared, one present
  CHECK(r.init(b) == PeerParse::kTruncated);
  b = Bytes(body.begin(), body.end());
  b.push_back(std::byte{0});  // a trailing byte
  CHECK(r.init(b) == PeerParse::kMalformed);
  b = Bytes(body.begin(), body.end());
  b[15] = std::byte{3};  // three groups declared, two present
  CHECK(r.init(b) == PeerParse::kTruncated);
}

TEST_CASE("group data body") {
  Bytes body(16);
  wire::ByteWriter w(body);
  w.u32(0xc6120b02);
  w.u16(40000);
  w.u16(0);
  w.u64(0xaaaa);
  Member origin;
  std::span<const std::byte> packet;
  CHECK(parse_group_data(body, origin, packet) == PeerParse::kTruncated);  // no packet
  body.push_back(std::byte{0x45});
  REQUIRE(parse_group_data(body, origin, packet) == PeerParse::kOk);
  CHECK(origin == Member{0xc6120b02, 40000, 0xaaaa});
  CHECK(packet.size() == 1);
}

}  // namespace
}  // namespace dmux::multicast

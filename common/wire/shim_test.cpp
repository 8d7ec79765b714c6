// The test vectors of docs/protocol.md, byte for byte.
#include "common/wire/shim.h"

#include <doctest/doctest.h>

#include <array>
#include <vector>

#include "common/wire/test_bytes.h"

using namespace dmux::wire;
using testing::hex;

namespace {
const auto kPayload = hex("60 00 00 00");

std::vector<std::byte> cat(std::span<const std::byte> a, std::span<const std::byte> b) {
  std::vector<std::byte> v(a.begin(), a.end());
  v.insert(v.end(), b.begin(), b.end());
  return v;
}
}  // namespace

TEST_CASE("vector 1: DATA, IPv6, any provider") {
  const auto wire_bytes =
      hex("02 01 14 00  00 01 00 00  00 00 00 00  01 02 03 04 05 06 07 08  60 00 00 00");
  ShimHeader h;
  std::span<const std::byte> payload;
  REQUIRE(parse_shim(wire_bytes, MsgType::kData, h, payload) == ParseStatus::kOk);
  CHECK(h.proto_id == ProtoId{1});
  CHECK(h.provider_id == kAnyProvider);
  CHECK(h.flags == 0);
  CHECK(h.token == 0x0102030405060708ULL);
  CHECK(std::equal(payload.begin(), payload.end(), kPayload.begin(), kPayload.end()));

  std::array<std::byte, kDataHeaderLen> out{};
  REQUIRE(write_shim(out, MsgType::kData, h) == kDataHeaderLen);
  CHECK(cat(out, kPayload) == wire_bytes);
}

// Vector 2's tag is checked with its key in tunnel_seal_test.cpp.
const char* const kVector2 =
    "02 02 38 00  00 01 9c 40  00 00 00 00  c6 12 01 02  c6 12 00 01  01 02 03 04 05 06 07 08"
    "  00 00 00 2a  00 00 00 00 00 00 00 01"
    "  16 10 68 17 8e 6b 3e de 05 fd a6 c7 87 e3 42 57  60 00 00 00";

TEST_CASE("vector 2: TUNNEL for vector 1 from client 198.18.1.2:40000 at gateway 198.18.0.1") {
  const auto wire_bytes = hex(kVector2);
  TunnelHeader h;
  std::span<const std::byte> payload;
  REQUIRE(parse_tunnel(wire_bytes, h, payload) == ParseStatus::kOk);
  CHECK(h.proto_id == ProtoId{1});
  CHECK(h.client_port == 40000);
  CHECK(h.provider_id == ProviderId{0});
  CHECK(h.client_ipv4 == 0xc6120102u);
  CHECK(h.gateway_id == GatewayId{0xc6120001u});
  CHECK(h.token == 0x0102030405060708ULL);
  CHECK(h.key_id == 42);
  CHECK(h.counter == 1);
  CHECK(h.tag[0] == std::byte{0x16});
  CHECK(h.tag[15] == std::byte{0x57});
  CHECK(payload.size() == 4);

  std::array<std::byte, kTunnelHeaderLen> out{};
  REQUIRE(write_tunnel(out, h) == kTunnelHeaderLen);
  auto expected = wire_bytes;  // the writer leaves the tag field zero
  std::fill(expected.begin() + kTunnelTagOffset, expected.begin() + kTunnelHeaderLen, std::byte{0});
  CHECK(cat(out, kPayload) == expected);
}

TEST_CASE("vector 3: RETURN from provider 7") {
  const auto wire_bytes =
      hex("02 03 14 00  00 01 00 00  00 00 00 07  01 02 03 04 05 06 07 08  60 00 00 00");
  ShimHeader h;
  std::span<const std::byte> payload;
  REQUIRE(parse_shim(wire_bytes, MsgType::kReturn, h, payload) == ParseStatus::kOk);
  CHECK(h.provider_id == ProviderId{7});
  std::array<std::byte, kReturnHeaderLen> out{};
  REQUIRE(write_shim(out, MsgType::kReturn, h) == kReturnHeaderLen);
  CHECK(cat(out, kPayload) == wire_bytes);
  CHECK(parse_shim(wire_bytes, MsgType::kData, h, payload) == ParseStatus::kUnexpectedType);
}

TEST_CASE("vector 4: DATA with unknown flag and a 4-byte option is accepted; both ignored") {
  const auto wire_bytes = hex(
      "02 01 18 80  00 02 00 00  00 00 00 2a  ff ee dd cc bb aa 99 88  aa bb cc dd  46 00 00 1c");
  ShimHeader h;
  std::span<const std::byte> payload;
  REQUIRE(parse_shim(wire_bytes, MsgType::kData, h, payload) == ParseStatus::kOk);
  CHECK(h.flags == 0x80);
  CHECK(h.proto_id == ProtoId{2});
  CHECK(h.provider_id == ProviderId{42});
  CHECK(h.token == 0xffeeddccbbaa9988ULL);
  REQUIRE(payload.size() == 4);
  CHECK(payload[0] == std::byte{0x46});
}

TEST_CASE("negative vectors are refused with the documented status") {
  struct Case {
    const char* name;
    const char* bytes;
    ParseStatus want;
  };
  const Case cases[] = {
      {"N1 version 1", "01 01 14 00 00 01 00 00 00 00 00 00 01 02 03 04 05 06 07 08 60",
       ParseStatus::kUnsupportedVersion},
      {"N2 19 bytes", "02 01 14 00 00 01 00 00 00 00 00 00 01 02 03 04 05 06 07",
       ParseStatus::kTruncated},
      {"N3 hdr_len 16", "02 01 10 00 00 01 00 00 00 00 00 00 01 02 03 04 05 06 07 08 60",
       ParseStatus::kMalformed},
      {"N4 hdr_len 22", "02 01 16 00 00 01 00 00 00 00 00 00 01 02 03 04 05 06 07 08 60 00 00 00",
       ParseStatus::kMalformed},
      {"N5 no payload", "02 01 14 00 00 01 00 00 00 00 00 00 01 02 03 04 05 06 07 08",
       ParseStatus::kMalformed},
      {"N6 hdr_len past end", "02 01 20 00 00 01 00 00 00 00 00 00 01 02 03 04 05 06 07 08 60 00",
       ParseStatus::kTruncated},
      {"N7 proto 0", "02 01 14 00 00 00 00 00 00 00 00 00 01 02 03 04 05 06 07 08 60",
       ParseStatus::kMalformed},
      {"N8 proto 0xffff", "02 01 14 00 ff ff 00 00 00 00 00 00 01 02 03 04 05 06 07 08 60",
       ParseStatus::kMalformed},
      {"N9 TUNNEL at gateway", kVector2, ParseStatus::kUnexpectedType},
      {"N10 empty", "", ParseStatus::kTruncated},
      {"N11 3 bytes", "02 01 14", ParseStatus::kTruncated},
      {"N12 version 1 DATA (a version-1 client)",
       "01 01 14 00 00 01 00 00 00 00 00 00 01 02 03 04 05 06 07 08 60 00 00 00",
       ParseStatus::kUnsupportedVersion},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    const auto b = hex(c.bytes);
    ShimHeader h;
    std::span<const std::byte> payload;
    CHECK(parse_shim(b, MsgType::kData, h, payload) == c.want);
  }
}

TEST_CASE("every truncation of a valid datagram is refused, never read past") {
  const auto full = hex(kVector2);
  for (std::size_t n = 0; n <= kTunnelHeaderLen; ++n) {  // up to the header with no payload
    const std::vector<std::byte> cut(full.begin(), full.begin() + static_cast<long>(n));
    TunnelHeader h;
    std::span<const std::byte> payload;
    CHECK(parse_tunnel(cut, h, payload) != ParseStatus::kOk);
  }
}

TEST_CASE("a TUNNEL of version 1 (28-byte header) is refused as unsupported_version") {
  const auto v1 =
      hex("01 02 1c 00  00 01 9c 40  00 00 00 00  c6 12 01 02  c6 12 00 01  01 02 03 04 05 06 07 08"
          "  60 00 00 00");
  TunnelHeader h;
  std::span<const std::byte> payload;
  CHECK(parse_tunnel(v1, h, payload) == ParseStatus::kUnsupportedVersion);
}

TEST_CASE("writers refuse a buffer that is too small") {
  std::array<std::byte, 10> small{};
  CHECK(write_shim(small, MsgType::kData, ShimHeader{}) == 0);
  CHECK(write_tunnel(small, TunnelHeader{}) == 0);
}

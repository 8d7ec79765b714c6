// Client <-> router control messages (docs/protocol.md section 15), against vectors 5 and 7.
#include "common/wire/client_control.h"

#include <doctest/doctest.h>

#include <array>
#include <vector>

#include "common/wire/test_bytes.h"

using namespace dmux::wire;
using testing::hex;

TEST_CASE("vector 5: a TOKEN_REQUEST in DATA; vector 7: the TOKEN_OFFER in RETURN") {
  std::vector<std::byte> v5 = hex("02 01 14 01  00 01 00 00  00 00 00 00  11 22 33 44 55 66 77 88");
  v5.push_back(std::byte{0x01});
  v5.resize(20 + kTokenRequestLen);
  ShimHeader h;
  std::span<const std::byte> payload;
  REQUIRE(parse_shim(v5, MsgType::kData, h, payload) == ParseStatus::kOk);
  CHECK(h.flags == kFlagControl);
  CHECK(h.token == 0x1122334455667788ULL);
  CHECK(parse_token_request(payload) == ParseStatus::kOk);
  std::array<std::byte, kTokenRequestLen> req{};
  REQUIRE(write_token_request(req) == kTokenRequestLen);
  CHECK(std::equal(req.begin(), req.end(), payload.begin(), payload.end()));

  const auto v7 =
      hex("02 03 14 01  00 01 00 00  00 00 00 07  11 22 33 44 55 66 77 88"
          "  02 00 00 00  21 f6 00 be 12 2c 45 24  c6 12 01 02  9c 40 00 00  00 00 00 19"
          "  00 00 00 00 00 00 00 00");
  REQUIRE(parse_shim(v7, MsgType::kReturn, h, payload) == ParseStatus::kOk);
  CHECK(h.flags == kFlagControl);
  TokenOffer o;
  REQUIRE(parse_token_offer(payload, o) == ParseStatus::kOk);
  CHECK(o.return_token == 0x21f600be122c4524ULL);
  CHECK(o.client_ipv4 == 0xc6120102u);
  CHECK(o.client_port == 40000);
  CHECK(o.refresh_s == 25);
  std::array<std::byte, kTokenOfferLen> out{};
  REQUIRE(write_token_offer(out, o) == kTokenOfferLen);
  CHECK(std::equal(out.begin(), out.end(), payload.begin(), payload.end()));
  // No amplification: the offer is smaller than the request that causes it.
  CHECK(v7.size() < v5.size());
}

TEST_CASE("control payloads have exact lengths and known types") {
  std::array<std::byte, kTokenRequestLen + 1> buf{};
  REQUIRE(write_token_request(buf) == kTokenRequestLen);
  CHECK(parse_token_request(std::span(buf).first(kTokenRequestLen - 1)) == ParseStatus::kTruncated);
  CHECK(parse_token_request(buf) == ParseStatus::kMalformed);
  CHECK(parse_token_request({}) == ParseStatus::kTruncated);
  TokenOffer o;
  CHECK(parse_token_offer(std::span(buf).first(kTokenOfferLen), o) == ParseStatus::kMalformed);
  buf[0] = std::byte{2};
  CHECK(parse_token_offer(std::span(buf).first(kTokenOfferLen - 1), o) == ParseStatus::kTruncated);
  CHECK(parse_token_offer(std::span(buf).first(kTokenOfferLen), o) == ParseStatus::kOk);
  ControlType t{};
  buf[0] = std::byte{0x7f};
  REQUIRE(peek_control_type(buf, t) == ParseStatus::kOk);
  CHECK(static_cast<int>(t) == 0x7f);
  std::array<std::byte, 8> small{};
  CHECK(write_token_offer(small, o) == 0);
}

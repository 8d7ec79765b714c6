#include "common/wire/registration.h"

#include <doctest/doctest.h>

#include <array>
#include <vector>

#include "common/wire/test_bytes.h"

using namespace dmux::wire;

namespace {
std::vector<std::byte> sample_register() {
  static const std::vector<std::byte> cert(300, std::byte{0x30});
  RegisterMsg m;
  m.proto_id = ProtoId{1};
  m.router_port = 5000;
  m.provider_id = ProviderId{7};
  m.router_ipv4 = 0xc6120202u;
  m.gateway_id = GatewayId{0xc6120001u};
  m.timestamp_us = 1'800'000'000'000'000ULL;
  m.cookie.fill(std::byte{0xa0});
  m.session_key.fill(std::byte{0x11});
  m.rtt_us = 850;
  m.certificate = cert;
  std::vector<std::byte> out(1024);
  const auto n = write_register_unsigned(out, m);
  REQUIRE(n == kRegisterFixedLen + cert.size());
  SignatureBytes sig;
  sig.fill(std::byte{0x5a});
  const auto total = append_register_signature(out, n, sig);
  REQUIRE(total == n + 2 + kSignatureLen);
  out.resize(total);
  return out;
}
}  // namespace

TEST_CASE("REGISTER round trip; the signature covers everything before sig_len") {
  const auto d = sample_register();
  RegisterMsg m;
  REQUIRE(parse_register(d, m) == ParseStatus::kOk);
  CHECK(m.proto_id == ProtoId{1});
  CHECK(m.router_port == 5000);
  CHECK(m.provider_id == ProviderId{7});
  CHECK(m.router_ipv4 == 0xc6120202u);
  CHECK(m.gateway_id == GatewayId{0xc6120001u});
  CHECK(m.timestamp_us == 1'800'000'000'000'000ULL);
  CHECK(m.cookie[15] == std::byte{0xa0});
  CHECK(m.session_key[31] == std::byte{0x11});
  CHECK(m.rtt_us == 850);
  CHECK(m.certificate.size() == 300);
  CHECK(m.signed_bytes.size() == kRegisterFixedLen + 300);
  CHECK(m.signature[0] == std::byte{0x5a});
}

TEST_CASE("REGISTER: every truncation and any trailing byte is refused") {
  const auto d = sample_register();
  for (std::size_t n = 0; n < d.size(); ++n) {
    RegisterMsg m;
    CHECK(parse_register(std::span(d).first(n), m) != ParseStatus::kOk);
  }
  auto longer = d;
  longer.push_back(std::byte{0});
  RegisterMsg m;
  CHECK(parse_register(longer, m) == ParseStatus::kMalformed);
}

TEST_CASE("REGISTER: a declared certificate length larger than the datagram is truncated") {
  auto d = sample_register();
  d[80] = std::byte{0x08};  // cert_len = 0x08ff > 2048
  d[81] = std::byte{0xff};
  RegisterMsg m;
  CHECK(parse_register(d, m) == ParseStatus::kMalformed);
  d[80] = std::byte{0x04};  // 0x04ff = 1279 <= 2048 but more than present
  CHECK(parse_register(d, m) == ParseStatus::kTruncated);
  d = sample_register();
  d[kRegisterFixedLen + 300 + 1] = std::byte{63};  // sig_len 63
  CHECK(parse_register(d, m) == ParseStatus::kMalformed);
}

TEST_CASE("REGISTER: protocol 0, port 0, provider 0, address 0 and gateway 0 are malformed") {
  const std::pair<std::size_t, std::size_t> fields[] = {{4, 2}, {6, 2}, {8, 4}, {12, 4}, {16, 4}};
  for (const auto& [off, len] : fields) {
    auto d = sample_register();
    for (std::size_t i = off; i < off + len; ++i) d[i] = std::byte{0};
    RegisterMsg m;
    CHECK(parse_register(d, m) == ParseStatus::kMalformed);
  }
}

TEST_CASE("REGISTER_ACK, KEEPALIVE, DEREGISTER and KEEPALIVE_ACK round trip at exact lengths") {
  std::array<std::byte, 128> buf{};
  RegisterAckMsg a;
  a.result = RegisterResult::kAccepted;
  a.gateway_id = GatewayId{0xc6120001u};
  a.session_id = 0x0102030405060708ULL;
  a.timestamp_us = 99;
  a.keepalive_interval_ms = 5000;
  a.hold_time_ms = 15000;
  a.session_key.fill(std::byte{0x22});
  a.key_id = 0x01020304;
  a.suite = kSuiteAes256Gmac;
  a.mac.fill(std::byte{0x33});
  REQUIRE(write_register_ack(buf, a) == kRegisterAckLen);
  RegisterAckMsg a2;
  REQUIRE(parse_register_ack(std::span(buf).first(kRegisterAckLen), a2) == ParseStatus::kOk);
  CHECK(a2.session_id == a.session_id);
  CHECK(a2.hold_time_ms == 15000);
  CHECK(a2.key_id == 0x01020304);
  CHECK(a2.suite == kSuiteAes256Gmac);
  CHECK(a2.mac == a.mac);
  CHECK(buf[kRegisterAckMacOffset] == std::byte{0x33});
  CHECK(parse_register_ack(std::span(buf).first(kRegisterAckLen - 1), a2) ==
        ParseStatus::kTruncated);
  CHECK(parse_register_ack(std::span(buf).first(kRegisterAckLen + 1), a2) ==
        ParseStatus::kMalformed);

  KeepaliveMsg k{7, 42, 12345, {}};
  k.mac.fill(std::byte{0x44});
  for (MsgType type : {MsgType::kKeepalive, MsgType::kDeregister}) {
    REQUIRE(write_keepalive(buf, type, k) == kKeepaliveLen);
    KeepaliveMsg k2;
    MsgType got_type{};
    REQUIRE(parse_keepalive(std::span(buf).first(kKeepaliveLen), got_type, k2) == ParseStatus::kOk);
    CHECK(got_type == type);
    CHECK(k2.counter == 42);
    CHECK(k2.rtt_us == 12345);
    CHECK(k2.mac == k.mac);
    CHECK(buf[kKeepaliveMacOffset - 5] == std::byte{0x39});  // rtt_us low byte, then reserved
    CHECK(buf[kKeepaliveMacOffset] == std::byte{0x44});
  }

  KeepaliveAckMsg ka{KeepaliveResult::kUnknownSession, GatewayId{0xc6120001u}, 7, 42, {}};
  REQUIRE(write_keepalive_ack(buf, ka) == kKeepaliveAckLen);
  KeepaliveAckMsg ka2;
  REQUIRE(parse_keepalive_ack(std::span(buf).first(kKeepaliveAckLen), ka2) == ParseStatus::kOk);
  CHECK(ka2.result == KeepaliveResult::kUnknownSession);
  buf[4] = std::byte{9};
  CHECK(parse_keepalive_ack(std::span(buf).first(kKeepaliveAckLen), ka2) ==
        ParseStatus::kMalformed);
}

TEST_CASE("control messages refuse other header lengths, versions and types") {
  std::array<std::byte, 64> buf{};
  KeepaliveMsg k{1, 1, 0, {}};
  write_keepalive(buf, MsgType::kKeepalive, k);
  KeepaliveMsg out;
  MsgType type{};
  auto d = std::span(buf).first(kKeepaliveLen);
  buf[2] = std::byte{20};
  CHECK(parse_keepalive(d, type, out) == ParseStatus::kMalformed);
  buf[2] = std::byte{4};
  buf[0] = std::byte{1};
  CHECK(parse_keepalive(d, type, out) == ParseStatus::kUnsupportedVersion);
  buf[0] = std::byte{2};
  buf[1] = std::byte{1};
  CHECK(parse_keepalive(d, type, out) == ParseStatus::kUnexpectedType);
}

TEST_CASE("vectors R1, R2, R3 and R5 of docs/protocol.md 9.8") {
  using testing::hex;
  const auto r1 = hex("02 09 04 00  01 02 03 04 05 06 07 08");
  std::vector<std::byte> r1_full = r1;
  r1_full.resize(kCookieRequestLen);
  CookieRequestMsg cr;
  REQUIRE(parse_cookie_request(r1_full, cr) == ParseStatus::kOk);
  CHECK(cr.nonce == 0x0102030405060708ULL);
  std::array<std::byte, 64> buf{};
  REQUIRE(write_cookie_request(buf, cr) == kCookieRequestLen);
  CHECK(std::equal(r1_full.begin(), r1_full.end(), buf.begin()));
  CHECK(parse_cookie_request(std::span(r1_full).first(39), cr) == ParseStatus::kTruncated);

  const auto r2 =
      hex("02 0a 04 00  c6 12 00 01  00 00 00 00  01 02 03 04 05 06 07 08"
          "  a0 a1 a2 a3 a4 a5 a6 a7 a8 a9 aa ab ac ad ae af  00 00 ea 60");
  CookieMsg c;
  REQUIRE(parse_cookie(r2, c) == ParseStatus::kOk);
  CHECK(c.gateway_id == GatewayId{0xc6120001u});
  CHECK(c.nonce == 0x0102030405060708ULL);
  CHECK(c.cookie[0] == std::byte{0xa0});
  CHECK(c.valid_ms == 60000);
  REQUIRE(write_cookie(buf, c) == kCookieReplyLen);
  CHECK(std::equal(r2.begin(), r2.end(), buf.begin()));
  CHECK(r2.size() <= kCookieRequestLen);  // no larger than the request

  const auto r3 = hex(
      "02 04 04 00 00 01 13 88 00 00 00 07 c6 12 02 02 c6 12 00 01 00 06 0a 24 18 1e 40 00 a0 a1 "
      "a2 a3 a4 a5 a6 a7 a8 a9 aa ab ac ad ae af 55 55 55 55 55 55 55 55 55 55 55 55 55 55 55 55 "
      "55 55 55 55 55 55 55 55 55 55 55 55 55 55 55 55 00 00 03 52 00 05 30 03 02 01 07 00 40 83 "
      "f1 c2 3d e2 d8 92 9f 3d 58 c0 7f 2a 69 59 e1 d5 5a 8f a0 cf 92 a0 25 be 4e 50 0e 6e 37 ba "
      "24 85 dd c5 37 02 a1 f0 ce 23 ac 45 6c 5e f4 d6 04 54 4e c5 65 25 38 96 84 0f a0 55 6f b6 "
      "59 c0 0a");
  RegisterMsg m;
  REQUIRE(parse_register(r3, m) == ParseStatus::kOk);
  CHECK(m.router_port == 5000);
  CHECK(m.router_ipv4 == 0xc6120202u);
  CHECK(m.gateway_id == GatewayId{0xc6120001u});
  CHECK(m.timestamp_us == 1700000000000000ULL);
  CHECK(m.rtt_us == 850);
  CHECK(m.certificate.size() == 5);
  CHECK(m.signed_bytes.size() == kRegisterFixedLen + 5);
  std::array<std::byte, 256> out{};
  const std::size_t n = write_register_unsigned(out, m);
  REQUIRE(n == m.signed_bytes.size());
  CHECK(std::equal(m.signed_bytes.begin(), m.signed_bytes.end(), out.begin()));

  const auto r5 = hex(
      "02 06 04 00 0a 0b 0c 0d 0e 0f 10 11 00 00 00 00 00 00 00 01 00 00 03 52 00 00 00 00 de c9 "
      "48 c7 e8 b5 f0 df b8 dc 44 16 be c9 29 bc");
  KeepaliveMsg k;
  MsgType type{};
  REQUIRE(parse_keepalive(r5, type, k) == ParseStatus::kOk);
  CHECK(type == MsgType::kKeepalive);
  CHECK(k.session_id == 0x0a0b0c0d0e0f1011ULL);
  CHECK(k.counter == 1);
  CHECK(k.rtt_us == 850);
  CHECK(k.mac[0] == std::byte{0xde});
}

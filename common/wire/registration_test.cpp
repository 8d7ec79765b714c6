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
  m.proto_id = 1;
  m.router_port = 5000;
  m.provider_id = 7;
  m.router_ipv4 = 0xc6120202u;
  m.timestamp_us = 1'800'000'000'000'000ULL;
  m.session_key.fill(std::byte{0x11});
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
  CHECK(m.proto_id == 1);
  CHECK(m.router_port == 5000);
  CHECK(m.provider_id == 7);
  CHECK(m.router_ipv4 == 0xc6120202u);
  CHECK(m.timestamp_us == 1'800'000'000'000'000ULL);
  CHECK(m.session_key[31] == std::byte{0x11});
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
  d[56] = std::byte{0x08};  // cert_len = 0x08ff > 2048
  d[57] = std::byte{0xff};
  RegisterMsg m;
  CHECK(parse_register(d, m) == ParseStatus::kMalformed);
  d[56] = std::byte{0x04};  // 0x04ff = 1279 <= 2048 but more than present
  CHECK(parse_register(d, m) == ParseStatus::kTruncated);
  d = sample_register();
  d[kRegisterFixedLen + 300 + 1] = std::byte{63};  // sig_len 63
  CHECK(parse_register(d, m) == ParseStatus::kMalformed);
}

TEST_CASE("REGISTER: provider 0, port 0 and reserved protocols are malformed") {
  for (std::size_t off : {4u, 6u, 8u}) {
    auto d = sample_register();
    for (std::size_t i = off; i < off + (off == 8 ? 4 : 2); ++i) d[i] = std::byte{0};
    RegisterMsg m;
    CHECK(parse_register(d, m) == ParseStatus::kMalformed);
  }
}

TEST_CASE("REGISTER_ACK, KEEPALIVE, DEREGISTER and KEEPALIVE_ACK round trip at exact lengths") {
  std::array<std::byte, 128> buf{};
  RegisterAckMsg a;
  a.result = RegisterResult::kAccepted;
  a.gateway_id = 0xc6120001u;
  a.session_id = 0x0102030405060708ULL;
  a.timestamp_us = 99;
  a.keepalive_interval_ms = 5000;
  a.hold_time_ms = 15000;
  a.session_key.fill(std::byte{0x22});
  a.mac.fill(std::byte{0x33});
  REQUIRE(write_register_ack(buf, a) == kRegisterAckLen);
  RegisterAckMsg a2;
  REQUIRE(parse_register_ack(std::span(buf).first(kRegisterAckLen), a2) == ParseStatus::kOk);
  CHECK(a2.session_id == a.session_id);
  CHECK(a2.hold_time_ms == 15000);
  CHECK(a2.mac == a.mac);
  CHECK(buf[kRegisterAckMacOffset] == std::byte{0x33});
  CHECK(parse_register_ack(std::span(buf).first(kRegisterAckLen - 1), a2) ==
        ParseStatus::kTruncated);
  CHECK(parse_register_ack(std::span(buf).first(kRegisterAckLen + 1), a2) ==
        ParseStatus::kMalformed);

  KeepaliveMsg k{7, 42, 12345, {}};
  k.mac.fill(std::byte{0x44});
  for (std::uint8_t type : {kTypeKeepalive, kTypeDeregister}) {
    REQUIRE(write_keepalive(buf, type, k) == kKeepaliveLen);
    KeepaliveMsg k2;
    std::uint8_t got_type = 0;
    REQUIRE(parse_keepalive(std::span(buf).first(kKeepaliveLen), got_type, k2) == ParseStatus::kOk);
    CHECK(got_type == type);
    CHECK(k2.counter == 42);
    CHECK(k2.rtt_us == 12345);
    CHECK(k2.mac == k.mac);
    CHECK(buf[kKeepaliveMacOffset - 1] == std::byte{0x39});  // rtt_us low byte, before the MAC
    CHECK(buf[kKeepaliveMacOffset] == std::byte{0x44});
  }

  KeepaliveAckMsg ka{KeepaliveResult::kUnknownSession, 0xc6120001u, 7, 42, {}};
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
  write_keepalive(buf, kTypeKeepalive, k);
  KeepaliveMsg out;
  std::uint8_t type = 0;
  auto d = std::span(buf).first(kKeepaliveLen);
  buf[2] = std::byte{20};
  CHECK(parse_keepalive(d, type, out) == ParseStatus::kMalformed);
  buf[2] = std::byte{4};
  buf[0] = std::byte{2};
  CHECK(parse_keepalive(d, type, out) == ParseStatus::kUnsupportedVersion);
  buf[0] = std::byte{1};
  buf[1] = std::byte{1};
  CHECK(parse_keepalive(d, type, out) == ParseStatus::kUnexpectedType);
}

// Test support for the registration handler: a CA, an agent that speaks docs/protocol.md section 9
// with its own arithmetic (keys derived here, not by session_key.cpp), and a gateway with a fake
// clock. Unit tests only.
#pragma once

#include <doctest/doctest.h>

#include <array>
#include <string_view>
#include <vector>

#include "common/crypto/crypto.h"
#include "common/wire/registration.h"
#include "registry/registration_handler.h"
#include "tests/registration_spec.h"

namespace dmux::registry::testing {

using Bytes = std::vector<std::byte>;
using namespace std::chrono_literals;

inline constexpr std::uint32_t kGatewayId = 0xc6120001u;  // 198.18.0.1
inline const net::Endpoint kRouter{0xc6120202u, 5000};    // 198.18.2.2:5000

// The tests' wall clock: real time at start (the CA is made valid around it), then fake.
inline const std::int64_t kStartUs = static_cast<std::int64_t>(util::SystemClock::read().unix_us);

struct Pki {
  crypto::SigningKey ca_key = crypto::SigningKey::generate();
  crypto::Certificate ca = crypto::make_ca(ca_key, "test CA", 10);
  crypto::SigningKey provider_key = crypto::SigningKey::generate();

  crypto::Certificate issue(crypto::Role role, std::uint32_t provider,
                            std::vector<std::uint16_t> protos, std::int64_t nb = -3600,
                            std::int64_t na = 3600) {
    crypto::IssueRequest req;
    req.info.role = role;
    req.info.provider_id = provider;
    req.info.protocols = std::move(protos);
    req.info.gateway_id = 42;
    req.info.common_name = "provider";
    req.subject_key = provider_key.public_key();
    req.not_before_offset_s = nb;
    req.not_after_offset_s = na;
    return crypto::issue(ca, ca_key, req);
  }
};

using dmux::testing::mac16;
using dmux::testing::spec_key;

// What a REGISTER says; the defaults make a valid one for kRouter at kGatewayId.
struct RegisterFields {
  std::uint16_t proto = 1;
  std::uint32_t provider = 7;
  net::Endpoint router = kRouter;
  std::uint32_t gateway_id = kGatewayId;
  std::uint64_t timestamp_us = static_cast<std::uint64_t>(kStartUs);
  wire::CookieBytes cookie{};
  std::uint32_t rtt_us = 850;
};

inline Bytes register_msg(const RegisterFields& f, const crypto::Certificate& cert,
                          const crypto::SigningKey& key, const crypto::KeyAgreement& agreement) {
  const auto der = cert.der();
  wire::RegisterMsg m;
  m.proto_id = wire::ProtoId{f.proto};
  m.router_port = f.router.port;
  m.provider_id = wire::ProviderId{f.provider};
  m.router_ipv4 = f.router.addr;
  m.gateway_id = wire::GatewayId{f.gateway_id};
  m.timestamp_us = f.timestamp_us;
  m.cookie = f.cookie;
  m.session_key = agreement.public_key();
  m.rtt_us = f.rtt_us;
  m.certificate = der;
  return dmux::testing::signed_register(m, key);
}

inline Bytes cookie_request(std::uint64_t nonce) {
  Bytes out(wire::kCookieRequestLen);
  wire::write_cookie_request(out, {nonce});
  return out;
}

inline Bytes keepalive(wire::MsgType type, std::uint64_t session, std::uint64_t counter,
                       const crypto::Digest& key, std::uint32_t rtt_us = 0) {
  Bytes out(wire::kKeepaliveLen);
  wire::write_keepalive(out, type, wire::KeepaliveMsg{session, counter, rtt_us, {}});
  const auto mac = mac16(key, std::span(out).first(wire::kKeepaliveMacOffset));
  std::copy(mac.begin(), mac.end(), out.begin() + wire::kKeepaliveMacOffset);
  return out;
}

inline HandlerConfig handler_config() {
  HandlerConfig c;
  c.gateway_id = wire::GatewayId{kGatewayId};
  c.rate = {.per_second = 1000, .burst = 1000, .max_sources = 100};
  c.signature_rate = {1000, 1000};
  return c;
}

struct Gateway {
  Pki pki;
  crypto::CertVerifier verifier{pki.ca};
  RouterRegistry registry{[] {
    RegistryConfig c;
    c.keepalive_interval = 1000ms;
    c.hold_time = 3000ms;
    return c;
  }()};
  Now now{TimePoint{} + 1h, static_cast<std::uint64_t>(kStartUs)};
  RegistrationHandler handler;
  std::array<std::byte, 256> reply{};

  explicit Gateway(const HandlerConfig& c = handler_config())
      : handler(c, verifier, registry, now.mono) {}

  std::size_t send(std::span<const std::byte> d, const net::Endpoint& from = kRouter) {
    return handler.handle(d, from, now, reply);
  }
  [[nodiscard]] std::span<const std::byte> answer(std::size_t n) const {
    return std::span(reply).first(n);
  }
  void advance(std::chrono::milliseconds d) {
    now.mono += d;
    now.unix_us += static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(d).count());
  }
  // A COOKIE for `from`, fetched like an agent does.
  wire::CookieBytes cookie_for(const net::Endpoint& from = kRouter) {
    const std::size_t n = send(cookie_request(0x0102030405060708), from);
    REQUIRE(n == wire::kCookieReplyLen);
    wire::CookieMsg c;
    REQUIRE(wire::parse_cookie(answer(n), c) == wire::ParseStatus::kOk);
    CHECK(c.nonce == 0x0102030405060708);
    return c.cookie;
  }
  [[nodiscard]] std::uint64_t registers(RegisterOutcome o) const {
    return handler.counters().registers[static_cast<std::size_t>(o)];
  }
  [[nodiscard]] std::uint64_t keepalives(KeepaliveOutcome o) const {
    return handler.counters().keepalives[static_cast<std::size_t>(o)];
  }
  [[nodiscard]] std::uint64_t cookies(CookieOutcome o) const {
    return handler.counters().cookies[static_cast<std::size_t>(o)];
  }
};

// An agent: one X25519 key per REGISTER, a valid cookie fetched from `g` unless told otherwise.
struct Agent {
  crypto::KeyAgreement agreement;
  RegisterFields fields;

  Bytes signed_register(Gateway& g, const crypto::Certificate& cert,
                        const crypto::SigningKey* key = nullptr) {
    return register_msg(fields, cert, key ? *key : g.pki.provider_key, agreement);
  }
  Bytes valid_register(Gateway& g, const crypto::Certificate& cert) {
    fields.cookie = g.cookie_for(fields.router);
    return signed_register(g, cert);
  }
};

}  // namespace dmux::registry::testing

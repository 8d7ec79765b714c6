#include "registry/registration_handler.h"

#include <doctest/doctest.h>

#include <array>
#include <vector>

#include "common/crypto/crypto.h"
#include "common/crypto/session_key.h"
#include "common/wire/registration.h"

using namespace dmux;
using namespace dmux::registry;
using namespace std::chrono_literals;

namespace {

// The tests' wall clock: real time at start (the CA is made valid around it), then fixed.
const std::int64_t kNowUs = registry::system_now().unix_us;

struct Pki {
  crypto::SigningKey ca_key = crypto::SigningKey::generate();
  crypto::Certificate ca = crypto::make_ca(ca_key, "test CA", 10);
  crypto::SigningKey provider_key = crypto::SigningKey::generate();

  crypto::Certificate issue(crypto::Role role, std::uint32_t provider,
                            std::vector<std::uint16_t> protos, std::int64_t nb = -3600,
                            std::int64_t na = 3600, const crypto::SigningKey* key = nullptr) {
    crypto::IssueRequest req;
    req.info.role = role;
    req.info.provider_id = provider;
    req.info.protocols = std::move(protos);
    req.info.gateway_id = 42;
    req.info.common_name = "provider";
    req.subject_key = (key ? *key : provider_key).public_key();
    req.not_before_offset_s = nb;
    req.not_after_offset_s = na;
    return crypto::issue(ca, ca_key, req);
  }
};

struct Agent {
  crypto::KeyAgreement agreement;
  std::uint64_t timestamp_us = static_cast<std::uint64_t>(kNowUs);

  std::vector<std::byte> register_msg(const crypto::Certificate& cert,
                                      const crypto::SigningKey& key, std::uint32_t provider = 7,
                                      std::uint16_t proto = 1) {
    const auto der = cert.der();
    wire::RegisterMsg m;
    m.proto_id = proto;
    m.router_port = 5000;
    m.provider_id = provider;
    m.router_ipv4 = 0;
    m.timestamp_us = timestamp_us;
    m.session_key = agreement.public_key();
    m.certificate = der;
    std::vector<std::byte> out(4096);
    const auto n = wire::write_register_unsigned(out, m);
    const auto sig = key.sign(std::span(out).first(n));
    wire::SignatureBytes s;
    std::copy(sig.begin(), sig.end(), s.begin());
    out.resize(wire::append_register_signature(out, n, s));
    return out;
  }
};

struct Gateway {
  Pki pki;
  crypto::CertVerifier verifier{pki.ca};
  RouterRegistry registry{[] {
    RegistryConfig c;
    c.keepalive_interval = 1000ms;
    c.hold_time = 3000ms;
    return c;
  }()};
  RegistrationHandler handler{
      HandlerConfig{.gateway_id = 0xc6120001u,
                    .freshness = 30s,
                    .rate = {.per_second = 1000, .burst = 1000, .max_sources = 100}},
      verifier, registry};
  std::array<std::byte, 256> reply{};
  Now now{TimePoint{}, kNowUs};
  net::Endpoint from{0xc6120202u, 5000};

  std::size_t send(std::span<const std::byte> d) {
    return handler.on_datagram(d, from, now, reply);
  }
  std::uint64_t registers(RegisterOutcome o) const {
    return handler.counters().registers[static_cast<std::size_t>(o)];
  }
  std::uint64_t keepalives(KeepaliveOutcome o) const {
    return handler.counters().keepalives[static_cast<std::size_t>(o)];
  }
};

std::vector<std::byte> keepalive(std::uint8_t type, std::uint64_t session, std::uint64_t counter,
                                 const SessionKey& key) {
  std::vector<std::byte> out(wire::kKeepaliveLen);
  wire::write_keepalive(out, type, wire::KeepaliveMsg{session, counter, 0, {}});
  const auto mac = crypto::session_mac(key, std::span(out).first(wire::kKeepaliveMacOffset));
  std::copy(mac.begin(), mac.end(), out.begin() + wire::kKeepaliveMacOffset);
  return out;
}

}  // namespace

TEST_CASE("a valid REGISTER is accepted, acknowledged with a MAC'd session, and keepalives work") {
  Gateway g;
  Agent a;
  const auto cert = g.pki.issue(crypto::Role::kProvider, 7, {1, 2});
  const auto n = g.send(a.register_msg(cert, g.pki.provider_key));
  REQUIRE(n == wire::kRegisterAckLen);
  CHECK(g.registers(RegisterOutcome::kAccepted) == 1);

  wire::RegisterAckMsg ack;
  REQUIRE(wire::parse_register_ack(std::span(g.reply).first(n), ack) == wire::ParseStatus::kOk);
  CHECK(ack.result == wire::RegisterResult::kAccepted);
  CHECK(ack.gateway_id == 0xc6120001u);
  CHECK(ack.keepalive_interval_ms == 1000);
  CHECK(ack.hold_time_ms == 3000);
  // The agent derives the same key and checks the MAC.
  crypto::Digest shared{};
  REQUIRE(a.agreement.derive(ack.session_key, shared));
  const auto key = crypto::derive_session_key(shared, ack.session_id, a.timestamp_us);
  CHECK(crypto::session_mac(key, std::span(g.reply).first(wire::kRegisterAckMacOffset)) == ack.mac);

  const auto routers = g.registry.up_routers();
  REQUIRE(routers.size() == 1);
  CHECK(routers[0].address == g.from);  // router_ipv4 0 = the source address

  REQUIRE(g.send(keepalive(wire::kTypeKeepalive, ack.session_id, 1, key)) ==
          wire::kKeepaliveAckLen);
  wire::KeepaliveAckMsg kack;
  REQUIRE(wire::parse_keepalive_ack(std::span(g.reply).first(wire::kKeepaliveAckLen), kack) ==
          wire::ParseStatus::kOk);
  CHECK(kack.result == wire::KeepaliveResult::kAlive);
  CHECK(crypto::session_mac(key, std::span(g.reply).first(wire::kKeepaliveAckMacOffset)) ==
        kack.mac);

  CHECK(g.send(keepalive(wire::kTypeKeepalive, ack.session_id, 1, key)) == 0);  // replay
  CHECK(g.keepalives(KeepaliveOutcome::kReplayed) == 1);
  SessionKey wrong = key;
  wrong[0] ^= std::byte{1};
  CHECK(g.send(keepalive(wire::kTypeKeepalive, ack.session_id, 2, wrong)) == 0);
  CHECK(g.keepalives(KeepaliveOutcome::kBadMac) == 1);

  CHECK(g.send(keepalive(wire::kTypeDeregister, ack.session_id, 2, key)) == wire::kKeepaliveAckLen);
  CHECK(g.registry.up_routers().empty());
  CHECK(g.keepalives(KeepaliveOutcome::kDeregistered) == 1);
  // Now unknown: answered (unauthenticated) so the agent re-registers.
  CHECK(g.send(keepalive(wire::kTypeKeepalive, ack.session_id, 3, key)) == wire::kKeepaliveAckLen);
  CHECK(g.keepalives(KeepaliveOutcome::kUnknownSession) == 1);
}

TEST_CASE("every kind of bad REGISTER is refused, counted, and never enters the table") {
  Gateway g;
  const auto good = g.pki.issue(crypto::Role::kProvider, 7, {1});

  SUBCASE("forged: another CA") {
    Pki other;
    const auto cert = other.issue(crypto::Role::kProvider, 7, {1});
    CHECK(g.send(Agent{}.register_msg(cert, other.provider_key)) == 0);
    CHECK(g.registers(RegisterOutcome::kForged) == 1);
  }
  SUBCASE("forged: self-signed") {
    auto key = crypto::SigningKey::generate();
    const auto self = crypto::make_ca(key, "self", 1);
    CHECK(g.send(Agent{}.register_msg(self, key)) == 0);
    CHECK((g.registers(RegisterOutcome::kForged) + g.registers(RegisterOutcome::kWrongRole)) == 1);
  }
  SUBCASE("expired") {
    const auto cert = g.pki.issue(crypto::Role::kProvider, 7, {1}, -7200, -3600);
    CHECK(g.send(Agent{}.register_msg(cert, g.pki.provider_key)) == 0);
    CHECK(g.registers(RegisterOutcome::kExpired) == 1);
  }
  SUBCASE("not yet valid") {
    const auto cert = g.pki.issue(crypto::Role::kProvider, 7, {1}, 3600, 7200);
    CHECK(g.send(Agent{}.register_msg(cert, g.pki.provider_key)) == 0);
    CHECK(g.registers(RegisterOutcome::kNotYetValid) == 1);
  }
  SUBCASE("wrong role: a gateway certificate") {
    const auto cert = g.pki.issue(crypto::Role::kGateway, 0, {});
    CHECK(g.send(Agent{}.register_msg(cert, g.pki.provider_key)) == 0);
    CHECK(g.registers(RegisterOutcome::kWrongRole) == 1);
  }
  SUBCASE("out of scope: wrong provider, wrong protocol (answered, signature was valid)") {
    CHECK(g.send(Agent{}.register_msg(good, g.pki.provider_key, 8, 1)) == wire::kRegisterAckLen);
    Agent a;
    a.timestamp_us += 1;
    CHECK(g.send(a.register_msg(good, g.pki.provider_key, 7, 2)) == wire::kRegisterAckLen);
    wire::RegisterAckMsg ack;
    REQUIRE(wire::parse_register_ack(std::span(g.reply).first(wire::kRegisterAckLen), ack) ==
            wire::ParseStatus::kOk);
    CHECK(ack.result == wire::RegisterResult::kOutOfScope);
    CHECK(ack.session_id == 0);
    CHECK(g.registers(RegisterOutcome::kOutOfScope) == 2);
  }
  SUBCASE("tampered: a signed field changed after signing") {
    auto msg = Agent{}.register_msg(good, g.pki.provider_key);
    msg[7] ^= std::byte{1};  // router_port
    CHECK(g.send(msg) == 0);
    CHECK(g.registers(RegisterOutcome::kBadSignature) == 1);
  }
  SUBCASE("signed with a key that is not the certificate's") {
    auto other_key = crypto::SigningKey::generate();
    CHECK(g.send(Agent{}.register_msg(good, other_key)) == 0);
    CHECK(g.registers(RegisterOutcome::kBadSignature) == 1);
  }
  SUBCASE("tampered certificate") {
    auto msg = Agent{}.register_msg(good, g.pki.provider_key);
    msg[wire::kRegisterFixedLen + 200] ^= std::byte{0x01};
    CHECK(g.send(msg) == 0);
    CHECK((g.registers(RegisterOutcome::kForged) + g.registers(RegisterOutcome::kBadCertificate)) ==
          1);
  }
  SUBCASE("replayed") {
    const auto msg = Agent{}.register_msg(good, g.pki.provider_key);
    CHECK(g.send(msg) == wire::kRegisterAckLen);
    CHECK(g.send(msg) == 0);
    CHECK(g.registers(RegisterOutcome::kReplayed) == 1);
    CHECK(g.registers(RegisterOutcome::kAccepted) == 1);
  }
  SUBCASE("stale timestamp") {
    Agent a;
    a.timestamp_us -= 31'000'000;
    CHECK(g.send(a.register_msg(good, g.pki.provider_key)) == 0);
    CHECK(g.registers(RegisterOutcome::kStale) == 1);
  }
  SUBCASE("truncated") {
    const auto msg = Agent{}.register_msg(good, g.pki.provider_key);
    CHECK(g.send(std::span(msg).first(msg.size() - 1)) == 0);
    CHECK(g.registers(RegisterOutcome::kTruncated) == 1);
  }
  if (g.registers(RegisterOutcome::kAccepted) == 0) CHECK(g.registry.up_routers().empty());
}

TEST_CASE("the rate limit applies before any certificate work") {
  Gateway g;
  RegistrationHandler strict(
      HandlerConfig{.gateway_id = 1,
                    .freshness = 30s,
                    .rate = {.per_second = 1, .burst = 2, .max_sources = 100}},
      g.verifier, g.registry);
  const auto cert = g.pki.issue(crypto::Role::kProvider, 7, {1});
  Agent a;
  int accepted = 0;
  for (int i = 0; i < 5; ++i) {
    a.timestamp_us += 1;
    accepted +=
        strict.on_datagram(a.register_msg(cert, g.pki.provider_key), g.from, g.now, g.reply) != 0;
  }
  CHECK(accepted == 2);
  CHECK(strict.counters().registers[static_cast<std::size_t>(RegisterOutcome::kRateLimited)] == 3);
}

// The registration flow of docs/protocol.md section 9 at the gateway, end to end in-process:
// COOKIE, REGISTER, REGISTER_ACK (key_id, suite, MAC), the evidence left for the data plane and
// the mesh, KEEPALIVE, DEREGISTER and the unknown-session hint; and every certificate refusal.
#include "registry/registration_handler.h"

#include <set>

#include "common/crypto/session_key.h"
#include "registry/registration_test_support.h"

using namespace dmux;
using namespace dmux::registry;
using namespace dmux::registry::testing;

namespace {

struct Accepted {
  wire::RegisterAckMsg ack;
  crypto::Digest k{};
  crypto::TunnelKeyBytes kt{};
};

// Registers `a` with `g` and checks the ACK like an agent (MAC under K derived from the spec).
Accepted register_ok(Gateway& g, Agent& a, const crypto::Certificate& cert) {
  const std::size_t n = g.send(a.valid_register(g, cert), a.fields.router);
  REQUIRE(n == wire::kRegisterAckLen);
  Accepted r;
  REQUIRE(wire::parse_register_ack(g.answer(n), r.ack) == wire::ParseStatus::kOk);
  REQUIRE(r.ack.result == wire::RegisterResult::kAccepted);
  crypto::Digest shared{};
  REQUIRE(a.agreement.derive(r.ack.session_key, shared));
  r.k = spec_key("ipdmux-v2-session", shared, r.ack.session_id, a.fields.timestamp_us);
  const auto kt = spec_key("ipdmux-v2-tunnel", shared, r.ack.session_id, a.fields.timestamp_us);
  std::copy(kt.begin(), kt.end(), r.kt.begin());
  CHECK(mac16(r.k, g.answer(n).first(wire::kRegisterAckMacOffset)) == r.ack.mac);
  return r;
}

}  // namespace

TEST_CASE("COOKIE, REGISTER, REGISTER_ACK with a tunnel key, keepalives, DEREGISTER") {
  Gateway g;
  Agent a;
  const auto cert = g.pki.issue(crypto::Role::kProvider, 7, {1, 2});
  const Accepted r = register_ok(g, a, cert);
  CHECK(g.registers(RegisterOutcome::kAccepted) == 1);
  CHECK(g.cookies(CookieOutcome::kAnswered) == 1);
  CHECK(r.ack.gateway_id == wire::GatewayId{kGatewayId});
  CHECK(r.ack.timestamp_us == a.fields.timestamp_us);
  CHECK(r.ack.keepalive_interval_ms == 1000);
  CHECK(r.ack.hold_time_ms == 3000);
  CHECK(r.ack.session_id != 0);
  CHECK(r.ack.key_id != 0);
  CHECK(r.ack.suite == wire::kSuiteAes256Gmac);
  CHECK(g.registry.key_id_in_use(r.ack.key_id));

  // The evidence: the tunnel key both ends derive, and the REGISTER's signed fields.
  const auto up = g.registry.up_routers_with_rtt();
  REQUIRE(up.size() == 1);
  CHECK(up[0].id == RouterId{wire::ProtoId{1}, ProviderId{7}, kRouter});
  CHECK(up[0].rtt_us == 850);  // the REGISTER's rtt_us until a keepalive says otherwise
  const RegistrationEvidence& e = up[0].evidence;
  CHECK(e.key_id == r.ack.key_id);
  CHECK(e.tunnel_key == r.kt);
  REQUIRE(e.key != nullptr);
  const std::array<std::byte, 8> msg{};
  CHECK(e.key->tag(kGatewayId, 1, msg) == crypto::TunnelKey(r.kt).tag(kGatewayId, 1, msg));
  CHECK(e.proof.gateway_id == wire::GatewayId{kGatewayId});
  CHECK(e.proof.timestamp_us == a.fields.timestamp_us);
  CHECK(e.proof.cookie == a.fields.cookie);
  CHECK(e.proof.session_key == a.agreement.public_key());
  CHECK(e.proof.signed_rtt_us == 850);
  const auto der = cert.der();
  REQUIRE(e.certificate != nullptr);
  CHECK(*e.certificate == der);
  CHECK(e.proof.cert_hash == crypto::sha256(der));
  // The proof and the certificate rebuild the signed bytes: any gateway can check them (12.2).
  wire::mesh::Router record{.id = {wire::ProtoId{1}, ProviderId{7}, kRouter},
                            .key_id = e.key_id,
                            .suite = 1,
                            .tunnel_key = e.tunnel_key,
                            .proof = e.proof};
  Bytes rebuilt(4096);
  rebuilt.resize(wire::mesh::signed_register_bytes(record, der, rebuilt));
  crypto::Signature sig;
  std::copy(e.proof.signature.begin(), e.proof.signature.end(), sig.begin());
  CHECK(crypto::verify_signature(g.pki.provider_key.public_key(), rebuilt, sig));

  // KEEPALIVE: answered alive, MAC'd; its rtt_us becomes the router's figure.
  std::size_t n = g.send(keepalive(wire::MsgType::kKeepalive, r.ack.session_id, 1, r.k, 3000));
  REQUIRE(n == wire::kKeepaliveAckLen);
  wire::KeepaliveAckMsg kack;
  REQUIRE(wire::parse_keepalive_ack(g.answer(n), kack) == wire::ParseStatus::kOk);
  CHECK(kack.result == wire::KeepaliveResult::kAlive);
  CHECK(kack.gateway_id == wire::GatewayId{kGatewayId});
  CHECK(kack.counter == 1);
  CHECK(mac16(r.k, g.answer(n).first(wire::kKeepaliveAckMacOffset)) == kack.mac);
  CHECK(g.registry.up_routers_with_rtt()[0].rtt_us == 3000);

  CHECK(g.send(keepalive(wire::MsgType::kKeepalive, r.ack.session_id, 1, r.k)) == 0);
  CHECK(g.keepalives(KeepaliveOutcome::kReplayed) == 1);
  auto wrong = r.k;
  wrong[0] ^= std::byte{1};
  CHECK(g.send(keepalive(wire::MsgType::kKeepalive, r.ack.session_id, 2, wrong)) == 0);
  CHECK(g.keepalives(KeepaliveOutcome::kBadMac) == 1);

  // DEREGISTER: answered with result 2, MAC'd; the router and its key id are gone.
  n = g.send(keepalive(wire::MsgType::kDeregister, r.ack.session_id, 2, r.k));
  REQUIRE(n == wire::kKeepaliveAckLen);
  REQUIRE(wire::parse_keepalive_ack(g.answer(n), kack) == wire::ParseStatus::kOk);
  CHECK(kack.result == wire::KeepaliveResult::kDeregistered);
  CHECK(mac16(r.k, g.answer(n).first(wire::kKeepaliveAckMacOffset)) == kack.mac);
  CHECK(g.registry.up_routers().empty());
  CHECK_FALSE(g.registry.key_id_in_use(r.ack.key_id));
  CHECK(g.keepalives(KeepaliveOutcome::kDeregistered) == 1);

  // Now unknown: the unauthenticated hint, no larger than the request, MAC zero.
  const auto late = keepalive(wire::MsgType::kKeepalive, r.ack.session_id, 3, r.k);
  n = g.send(late);
  CHECK(n == wire::kKeepaliveAckLen);
  CHECK(n <= late.size());
  REQUIRE(wire::parse_keepalive_ack(g.answer(n), kack) == wire::ParseStatus::kOk);
  CHECK(kack.result == wire::KeepaliveResult::kUnknownSession);
  CHECK(kack.mac == wire::MacBytes{});
  CHECK(g.keepalives(KeepaliveOutcome::kUnknownSession) == 1);
}

TEST_CASE("a re-registration replaces the session and the tunnel key") {
  Gateway g;
  const auto cert = g.pki.issue(crypto::Role::kProvider, 7, {1});
  Agent first;
  const Accepted r1 = register_ok(g, first, cert);
  const auto v = g.registry.version();
  Agent second;
  second.fields.timestamp_us = first.fields.timestamp_us + 1;
  const Accepted r2 = register_ok(g, second, cert);
  CHECK(r2.ack.key_id != r1.ack.key_id);
  CHECK(r2.kt != r1.kt);
  CHECK(g.registry.version() > v);  // the data plane must learn the new key
  CHECK_FALSE(g.registry.key_id_in_use(r1.ack.key_id));
  CHECK(g.registry.key_id_in_use(r2.ack.key_id));
  REQUIRE(g.registry.up_routers_with_rtt().size() == 1);
  CHECK(g.registry.up_routers_with_rtt()[0].evidence.key_id == r2.ack.key_id);
  CHECK(g.send(keepalive(wire::MsgType::kKeepalive, r1.ack.session_id, 1, r1.k)) ==
        wire::kKeepaliveAckLen);  // the old session: unknown now
  CHECK(g.keepalives(KeepaliveOutcome::kUnknownSession) == 1);
}

TEST_CASE("key ids are unique among live sessions and never 0") {
  Gateway g;
  const auto cert = g.pki.issue(crypto::Role::kProvider, 7, {1});
  std::set<std::uint32_t> ids;
  for (std::uint32_t i = 0; i < 40; ++i) {
    Agent a;
    a.fields.router = net::Endpoint{kRouter.addr, static_cast<std::uint16_t>(6000 + i)};
    ids.insert(register_ok(g, a, cert).ack.key_id);
  }
  CHECK(ids.size() == 40);
  CHECK_FALSE(ids.contains(0));
}

TEST_CASE("every kind of bad certificate is refused, counted, and never enters the table") {
  Gateway g;
  Agent a;
  const auto cert_refused = [&](const crypto::Certificate& cert, RegisterOutcome want,
                                const crypto::SigningKey* key = nullptr) {
    a.fields.cookie = g.cookie_for();
    CHECK(g.send(a.signed_register(g, cert, key)) == 0);
    CHECK(g.registers(want) == 1);
  };
  SUBCASE("forged: another CA") {
    Pki other;
    cert_refused(other.issue(crypto::Role::kProvider, 7, {1}), RegisterOutcome::kForged,
                 &other.provider_key);
  }
  SUBCASE("wrong role: the CA's own certificate") {
    cert_refused(g.pki.ca, RegisterOutcome::kWrongRole, &g.pki.ca_key);
  }
  SUBCASE("expired") {
    cert_refused(g.pki.issue(crypto::Role::kProvider, 7, {1}, -7200, -3600),
                 RegisterOutcome::kExpired);
  }
  SUBCASE("not yet valid") {
    cert_refused(g.pki.issue(crypto::Role::kProvider, 7, {1}, 3600, 7200),
                 RegisterOutcome::kNotYetValid);
  }
  SUBCASE("wrong role: a gateway certificate") {
    cert_refused(g.pki.issue(crypto::Role::kGateway, 0, {}), RegisterOutcome::kWrongRole);
  }
  SUBCASE("revoked") {
    const auto cert = g.pki.issue(crypto::Role::kProvider, 7, {1});
    g.verifier.set_revoked({cert.info().serial});
    cert_refused(cert, RegisterOutcome::kRevoked);
  }
  SUBCASE("tampered certificate") {
    const auto good = g.pki.issue(crypto::Role::kProvider, 7, {1});
    a.fields.cookie = g.cookie_for();
    auto msg = a.signed_register(g, good);
    msg[wire::kRegisterFixedLen + 200] ^= std::byte{0x01};
    CHECK(g.send(msg) == 0);
    CHECK(g.registers(RegisterOutcome::kForged) + g.registers(RegisterOutcome::kBadCertificate) +
              g.registers(RegisterOutcome::kWrongRole) ==
          1);
  }
  CHECK(g.registry.up_routers().empty());
  CHECK(g.registers(RegisterOutcome::kAccepted) == 0);
}

TEST_CASE("a refused certificate costs a cache lookup the second time") {
  Gateway g;
  Pki other;
  const auto foreign = other.issue(crypto::Role::kProvider, 7, {1});
  Agent a;
  for (int i = 0; i < 5; ++i) {
    a.fields.cookie = g.cookie_for();
    a.fields.timestamp_us += 1;
    CHECK(g.send(a.signed_register(g, foreign, &other.provider_key)) == 0);
  }
  CHECK(g.registers(RegisterOutcome::kForged) == 5);
  CHECK(g.handler.counters().certificates.misses == 1);
  CHECK(g.handler.counters().certificates.refused_hits == 4);
}

TEST_CASE("version-1 datagrams and unknown types are dropped unanswered and counted") {
  Gateway g;
  Bytes v1 = cookie_request(1);
  v1[0] = std::byte{1};
  CHECK(g.send(v1) == 0);
  CHECK(g.send(v1) == 0);
  CHECK(g.handler.counters().unsupported_version == 2);
  Bytes data = cookie_request(1);
  data[1] = std::byte{wire::code(wire::MsgType::kKeepaliveAck)};
  CHECK(g.send(data) == 0);
  CHECK(g.send(Bytes{}) == 0);
  CHECK(g.handler.counters().other == 2);
}

TEST_CASE("the evidence names the certificate's serial, for revocation") {
  Gateway g;
  Agent a;
  const auto cert = g.pki.issue(crypto::Role::kProvider, 7, {1});
  register_ok(g, a, cert);
  REQUIRE(g.registry.up_routers_with_rtt().size() == 1);
  CHECK(g.registry.up_routers_with_rtt()[0].evidence.serial == cert.info().serial);
  CHECK(g.registry.withdraw_revoked({cert.info().serial}, g.now.mono) == 1);
}

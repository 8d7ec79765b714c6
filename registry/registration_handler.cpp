#include "registry/registration_handler.h"

#include <algorithm>
#include <cstdlib>
#include <memory>

#include "common/crypto/session_key.h"
#include "common/util/log.h"
#include "common/wire/registration.h"

namespace dmux::registry {
namespace {

constexpr auto kVersionLogInterval = std::chrono::minutes(1);

RouterId router_of(const wire::RegisterMsg& m) noexcept {
  return {m.proto_id, m.provider_id, net::Endpoint{m.router_ipv4, m.router_port}};
}

RegisterOutcome from_verify(crypto::VerifyResult r) noexcept {
  switch (r) {
    case crypto::VerifyResult::kExpired:
      return RegisterOutcome::kExpired;
    case crypto::VerifyResult::kNotYetValid:
      return RegisterOutcome::kNotYetValid;
    case crypto::VerifyResult::kWrongRole:
      return RegisterOutcome::kWrongRole;
    case crypto::VerifyResult::kBadEncoding:
      return RegisterOutcome::kBadCertificate;
    case crypto::VerifyResult::kRevoked:
      return RegisterOutcome::kRevoked;
    case crypto::VerifyResult::kUntrusted:
    case crypto::VerifyResult::kOk:
    case crypto::VerifyResult::kCount_:
      break;
  }
  return RegisterOutcome::kForged;
}

template <typename Outcome>
Outcome from_parse(wire::ParseStatus s) noexcept {
  return s == wire::ParseStatus::kTruncated ? Outcome::kTruncated : Outcome::kMalformed;
}

bool in_scope(const wire::RegisterMsg& m, const crypto::CertInfo& cert) noexcept {
  return m.provider_id == ProviderId{cert.provider_id} &&
         std::find(cert.protocols.begin(), cert.protocols.end(), m.proto_id.value()) !=
             cert.protocols.end();
}

// Writes a MAC'd message: `n` bytes already in `out`, the MAC over the first `mac_offset`.
std::size_t seal(std::span<std::byte> out, std::size_t n, std::size_t mac_offset,
                 const SessionKey& key) noexcept {
  if (n == 0) return 0;
  const auto mac = crypto::session_mac(key, out.first(mac_offset));
  std::copy(mac.begin(), mac.end(), out.begin() + static_cast<std::ptrdiff_t>(mac_offset));
  return n;
}

}  // namespace

RegistrationHandler::RegistrationHandler(const HandlerConfig& config,
                                         crypto::CertVerifier& verifier, RouterRegistry& registry,
                                         TimePoint now)
    : config_(config),
      verifier_(verifier),
      registry_(registry),
      cookies_(config.cookie_valid, now),
      cookie_rate_(config.cookie_rate, now),
      per_source_(config.rate),
      signatures_(config.signature_rate, now),
      hints_(config.hint_rate, now) {}

RegistrationHandler::Result RegistrationHandler::on_datagram(std::span<const std::byte> d,
                                                             const net::Endpoint& from,
                                                             const Now& now,
                                                             std::span<std::byte> reply) {
  if (!d.empty() && d[0] != std::byte{wire::kVersion}) {
    on_unsupported_version(d, from, now);
    return {};
  }
  if (d.size() < 2) {
    ++counters_.other;
    return {};
  }
  switch (wire::type_of<wire::MsgType>(d)) {
    case wire::MsgType::kCookieRequest:
      return {on_cookie_request(d, from, now, reply), false};
    case wire::MsgType::kRegister:
      return screen_register(d, from, now);
    case wire::MsgType::kKeepalive:
    case wire::MsgType::kDeregister:
      return {on_keepalive(d, from, now, reply), false};
    default:
      ++counters_.other;
      return {};
  }
}

std::size_t RegistrationHandler::handle(std::span<const std::byte> d, const net::Endpoint& from,
                                        const Now& now, std::span<std::byte> reply) {
  const Result r = on_datagram(d, from, now, reply);
  return r.deferred ? finish_register(d, from, now, reply) : r.reply;
}

void RegistrationHandler::on_unsupported_version(std::span<const std::byte> d,
                                                 const net::Endpoint& from, const Now& now) {
  ++counters_.unsupported_version;
  if (version_logged_ && now.mono - *version_logged_ < kVersionLogInterval) return;
  version_logged_ = now.mono;
  LOG_WARN(
      "registration: dropped a version-%u datagram from %s (this gateway speaks version %u; "
      "upgrade that agent); logged at most once a minute",
      std::to_integer<unsigned>(d[0]), from.to_string().c_str(), unsigned{wire::kVersion});
}

// docs/protocol.md 9.6, COOKIE_REQUEST: global rate, then the answer. No state is kept.
std::size_t RegistrationHandler::on_cookie_request(std::span<const std::byte> d,
                                                   const net::Endpoint& from, const Now& now,
                                                   std::span<std::byte> reply) {
  wire::CookieRequestMsg m;
  if (auto s = wire::parse_cookie_request(d, m); s != wire::ParseStatus::kOk) {
    count(from_parse<CookieOutcome>(s));
    return 0;
  }
  if (!cookie_rate_.take(now.mono)) {
    count(CookieOutcome::kRateLimited);
    return 0;
  }
  const wire::CookieMsg c{.gateway_id = config_.gateway_id,
                          .nonce = m.nonce,
                          .cookie = cookies_.make(from, now.mono),
                          .valid_ms = static_cast<std::uint32_t>(cookies_.valid().count())};
  count(CookieOutcome::kAnswered);
  return wire::write_cookie(reply, c);
}

// docs/protocol.md 9.6, REGISTER steps 1-5: no cryptography but one cookie hash.
RegistrationHandler::Result RegistrationHandler::screen_register(std::span<const std::byte> d,
                                                                 const net::Endpoint& from,
                                                                 const Now& now) {
  wire::RegisterMsg m;
  if (auto s = wire::parse_register(d, m); s != wire::ParseStatus::kOk) {
    count(from_parse<RegisterOutcome>(s));
    return {};
  }
  RegisterOutcome refusal{};
  if (net::Endpoint{m.router_ipv4, m.router_port} != from) {
    refusal = RegisterOutcome::kWrongSource;
  } else if (m.gateway_id != config_.gateway_id) {
    refusal = RegisterOutcome::kWrongGateway;
  } else if (!cookies_.check(from, m.cookie, now.mono)) {
    refusal = RegisterOutcome::kBadCookie;
  } else if (!per_source_.allow(from.addr, now.mono)) {
    refusal = RegisterOutcome::kRateLimited;
  } else if (!signatures_.take(now.mono)) {
    refusal = RegisterOutcome::kOverloaded;
  } else {
    return {0, true};
  }
  count(refusal);
  return {};
}

// docs/protocol.md 9.6, REGISTER steps 6-9, then admit() for 10-12.
std::size_t RegistrationHandler::finish_register(std::span<const std::byte> d,
                                                 const net::Endpoint& from, const Now& now,
                                                 std::span<std::byte> reply) {
  (void)from;  // checked against the REGISTER in screen_register()
  wire::RegisterMsg m;
  if (auto s = wire::parse_register(d, m); s != wire::ParseStatus::kOk) {
    count(from_parse<RegisterOutcome>(s));
    return 0;
  }
  crypto::CertInfo cert;
  if (auto v = verifier_.verify(m.certificate, crypto::Role::kProvider, now.unix_seconds(), cert);
      v != crypto::VerifyResult::kOk) {
    count(from_verify(v));
    return 0;
  }
  const auto skew =
      static_cast<std::int64_t>(m.timestamp_us) - static_cast<std::int64_t>(now.unix_us);
  if (std::llabs(skew) >
      std::chrono::duration_cast<std::chrono::microseconds>(config_.freshness).count()) {
    count(RegisterOutcome::kStale);
    return 0;
  }
  crypto::Signature sig;
  std::copy(m.signature.begin(), m.signature.end(), sig.begin());
  if (!crypto::verify_signature(cert.public_key, m.signed_bytes, sig)) {
    count(RegisterOutcome::kBadSignature);
    return 0;
  }
  return admit(m, cert, now, reply);
}

std::uint64_t RegistrationHandler::fresh_session_id() const {
  std::uint64_t id = 0;
  do {
    id = crypto::random_u64();
  } while (id == 0 || registry_.session(id) != nullptr);
  return id;
}

std::uint32_t RegistrationHandler::fresh_key_id() const {
  std::uint32_t id = 0;
  do {
    id = static_cast<std::uint32_t>(crypto::random_u64());
  } while (id == 0 || registry_.key_id_in_use(id));
  return id;
}

// Steps 9-12 for an authenticated REGISTER: scope, replay, limits and dampening, then the
// session with its keys and the evidence the data plane and the mesh need.
std::size_t RegistrationHandler::admit(const wire::RegisterMsg& m, const crypto::CertInfo& cert,
                                       const Now& now, std::span<std::byte> reply) {
  wire::RegisterAckMsg ack;
  ack.gateway_id = config_.gateway_id;
  ack.timestamp_us = m.timestamp_us;
  ack.keepalive_interval_ms =
      static_cast<std::uint32_t>(registry_.config().keepalive_interval.count());
  ack.hold_time_ms = static_cast<std::uint32_t>(registry_.config().hold_time.count());
  if (!in_scope(m, cert)) {
    ack.result = wire::RegisterResult::kOutOfScope;
    count(RegisterOutcome::kOutOfScope);
    return wire::write_register_ack(reply, ack);
  }
  const crypto::KeyAgreement agreement;
  crypto::Digest shared{};
  if (!agreement.derive(m.session_key, shared)) {  // a small-order or otherwise useless key
    count(RegisterOutcome::kMalformed);
    return 0;
  }
  Session session;
  session.id = fresh_session_id();
  session.key_id = fresh_key_id();
  session.key = crypto::derive_session_key(shared, session.id, m.timestamp_us);
  RegistrationEvidence evidence;
  evidence.key_id = session.key_id;
  evidence.tunnel_key = crypto::derive_tunnel_key(shared, session.id, m.timestamp_us);
  evidence.key = std::make_shared<const crypto::TunnelKey>(evidence.tunnel_key);
  evidence.proof = wire::mesh::RegisterProof{.gateway_id = m.gateway_id,
                                             .timestamp_us = m.timestamp_us,
                                             .cookie = m.cookie,
                                             .session_key = m.session_key,
                                             .signed_rtt_us = m.rtt_us,
                                             .cert_hash = crypto::sha256(m.certificate),
                                             .signature = m.signature};
  evidence.certificate =
      std::make_shared<const std::vector<std::byte>>(m.certificate.begin(), m.certificate.end());
  evidence.serial = cert.serial;

  switch (
      registry_.on_register(router_of(m), m.timestamp_us, session, now.mono, std::move(evidence))) {
    case AdmitResult::kReplayed:
      count(RegisterOutcome::kReplayed);
      return 0;
    case AdmitResult::kLimitReached:
      ack.result = wire::RegisterResult::kLimitReached;
      count(RegisterOutcome::kLimitReached);
      return wire::write_register_ack(reply, ack);
    case AdmitResult::kSuppressed:
      ack.result = wire::RegisterResult::kSuppressed;
      count(RegisterOutcome::kSuppressed);
      return wire::write_register_ack(reply, ack);
    case AdmitResult::kAccepted:
      break;
  }
  ack.result = wire::RegisterResult::kAccepted;
  ack.session_id = session.id;
  ack.session_key = agreement.public_key();
  ack.key_id = session.key_id;
  ack.suite = wire::kSuiteAes256Gmac;
  count(RegisterOutcome::kAccepted);
  return seal(reply, wire::write_register_ack(reply, ack), wire::kRegisterAckMacOffset,
              session.key);
}

// docs/protocol.md 9.6, KEEPALIVE and DEREGISTER: session, MAC, counter, answer.
std::size_t RegistrationHandler::on_keepalive(std::span<const std::byte> d,
                                              const net::Endpoint& from, const Now& now,
                                              std::span<std::byte> reply) {
  (void)from;  // a session is named by its id and proven by its MAC, wherever it comes from
  wire::MsgType type{};
  wire::KeepaliveMsg m;
  if (auto s = wire::parse_keepalive(d, type, m); s != wire::ParseStatus::kOk) {
    count(from_parse<KeepaliveOutcome>(s));
    return 0;
  }
  wire::KeepaliveAckMsg ack;
  ack.gateway_id = config_.gateway_id;
  ack.session_id = m.session_id;
  ack.counter = m.counter;

  const Session* s = registry_.session(m.session_id);
  if (s == nullptr) {
    // Unauthenticated (no key to MAC it with), as large as the request, globally rate-limited:
    // never a useful reflector.
    if (!hints_.take(now.mono)) {
      count(KeepaliveOutcome::kRateLimited);
      return 0;
    }
    count(KeepaliveOutcome::kUnknownSession);
    ack.result = wire::KeepaliveResult::kUnknownSession;
    return wire::write_keepalive_ack(reply, ack);
  }
  if (!crypto::session_mac_ok(s->key, d.first(wire::kKeepaliveMacOffset), m.mac)) {
    count(KeepaliveOutcome::kBadMac);
    return 0;
  }
  const SessionKey key = s->key;  // the session may be erased below
  const bool dereg = type == wire::MsgType::kDeregister;
  const bool fresh = dereg ? registry_.on_deregister(m.session_id, m.counter, now.mono)
                           : registry_.on_keepalive(m.session_id, m.counter, m.rtt_us, now.mono);
  if (!fresh) {
    count(KeepaliveOutcome::kReplayed);
    return 0;
  }
  count(dereg ? KeepaliveOutcome::kDeregistered : KeepaliveOutcome::kAlive);
  ack.result = dereg ? wire::KeepaliveResult::kDeregistered : wire::KeepaliveResult::kAlive;
  return seal(reply, wire::write_keepalive_ack(reply, ack), wire::kKeepaliveAckMacOffset, key);
}

RegistrationCounters RegistrationHandler::counters() const {
  RegistrationCounters c = counters_;
  c.tracked_sources = per_source_.tracked_sources();
  c.certificates = verifier_.stats();
  return c;
}

}  // namespace dmux::registry

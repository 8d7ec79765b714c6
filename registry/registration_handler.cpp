#include "registry/registration_handler.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "common/crypto/session_key.h"
#include "common/wire/registration.h"

namespace dmux::registry {
namespace {

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
    case crypto::VerifyResult::kUntrusted:
    case crypto::VerifyResult::kOk:
      break;
  }
  return RegisterOutcome::kForged;
}

template <typename Outcome>
Outcome from_parse(wire::ParseStatus s) noexcept {
  return s == wire::ParseStatus::kTruncated ? Outcome::kTruncated : Outcome::kMalformed;
}

}  // namespace

std::string_view to_string(RegisterOutcome o) noexcept {
  static constexpr std::string_view kNames[] = {
      "accepted", "out_of_scope",  "limit_reached", "suppressed",      "forged",
      "expired",  "not_yet_valid", "wrong_role",    "bad_certificate", "bad_signature",
      "replayed", "stale",         "rate_limited",  "truncated",       "malformed"};
  const auto i = static_cast<std::size_t>(o);
  return i < std::size(kNames) ? kNames[i] : "unknown";
}

std::string_view to_string(KeepaliveOutcome o) noexcept {
  static constexpr std::string_view kNames[] = {"alive",     "deregistered", "unknown_session",
                                                "bad_mac",   "replayed",     "rate_limited",
                                                "truncated", "malformed"};
  const auto i = static_cast<std::size_t>(o);
  return i < std::size(kNames) ? kNames[i] : "unknown";
}

RegistrationHandler::RegistrationHandler(const HandlerConfig& config,
                                         crypto::CertVerifier& verifier, RouterRegistry& registry)
    : config_(config), verifier_(verifier), registry_(registry), limiter_(config.rate) {}

std::size_t RegistrationHandler::on_datagram(std::span<const std::byte> d,
                                             const net::Endpoint& from, const Now& now,
                                             std::span<std::byte> reply) {
  wire::MsgType type{};
  if (wire::peek_type(d, type) != wire::ParseStatus::kOk) {
    ++counters_.other;
    return 0;
  }
  switch (static_cast<std::uint8_t>(type)) {
    case wire::kTypeRegister:
      return on_register(d, from, now, reply);
    case wire::kTypeKeepalive:
    case wire::kTypeDeregister:
      return on_keepalive(d, from, now, reply);
    default:
      ++counters_.other;
      return 0;
  }
}

std::size_t RegistrationHandler::on_register(std::span<const std::byte> d,
                                             const net::Endpoint& from, const Now& now,
                                             std::span<std::byte> reply) {
  wire::RegisterMsg m;
  if (auto s = wire::parse_register(d, m); s != wire::ParseStatus::kOk) {
    count(from_parse<RegisterOutcome>(s));
    return 0;
  }
  if (!limiter_.allow(from.addr, now.mono)) {
    count(RegisterOutcome::kRateLimited);
    return 0;
  }
  crypto::CertInfo cert;
  if (auto v = verifier_.verify(m.certificate, crypto::Role::kProvider, now.unix_seconds(), cert);
      v != crypto::VerifyResult::kOk) {
    count(from_verify(v));
    return 0;
  }
  const auto skew = static_cast<std::int64_t>(m.timestamp_us) - now.unix_us;
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

  wire::RegisterAckMsg ack;
  ack.gateway_id = config_.gateway_id;
  ack.timestamp_us = m.timestamp_us;
  ack.keepalive_interval_ms =
      static_cast<std::uint32_t>(registry_.config().keepalive_interval.count());
  ack.hold_time_ms = static_cast<std::uint32_t>(registry_.config().hold_time.count());

  const bool in_scope =
      m.provider_id == cert.provider_id &&
      std::find(cert.protocols.begin(), cert.protocols.end(), m.proto_id) != cert.protocols.end();
  bool accepted = false;
  Session session;
  crypto::KeyAgreement agreement;
  if (!in_scope) {
    ack.result = wire::RegisterResult::kOutOfScope;
    count(RegisterOutcome::kOutOfScope);
  } else {
    crypto::Digest shared{};
    if (!agreement.derive(m.session_key, shared)) {
      count(RegisterOutcome::kMalformed);
      return 0;
    }
    do {
      session.id = crypto::random_u64();
    } while (session.id == 0 || registry_.session(session.id) != nullptr);
    session.key = crypto::derive_session_key(shared, session.id, m.timestamp_us);
    const RouterKey key{
        m.provider_id, m.proto_id,
        net::Endpoint{m.router_ipv4 != 0 ? m.router_ipv4 : from.addr, m.router_port}};
    switch (registry_.on_register(key, m.timestamp_us, session, now.mono)) {
      case AdmitResult::kReplayed:
        count(RegisterOutcome::kReplayed);
        return 0;
      case AdmitResult::kLimitReached:
        ack.result = wire::RegisterResult::kLimitReached;
        count(RegisterOutcome::kLimitReached);
        break;
      case AdmitResult::kSuppressed:
        ack.result = wire::RegisterResult::kSuppressed;
        count(RegisterOutcome::kSuppressed);
        break;
      case AdmitResult::kAccepted:
        ack.result = wire::RegisterResult::kAccepted;
        ack.session_id = session.id;
        ack.session_key = agreement.public_key();
        accepted = true;
        count(RegisterOutcome::kAccepted);
        break;
    }
  }
  const std::size_t n = wire::write_register_ack(reply, ack);
  if (n != 0 && accepted) {
    const auto mac = crypto::session_mac(session.key, reply.first(wire::kRegisterAckMacOffset));
    std::copy(mac.begin(), mac.end(), reply.begin() + wire::kRegisterAckMacOffset);
  }
  return n;
}

std::size_t RegistrationHandler::on_keepalive(std::span<const std::byte> d,
                                              const net::Endpoint& from, const Now& now,
                                              std::span<std::byte> reply) {
  std::uint8_t type = 0;
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
    // Unauthenticated answer: rate limited like REGISTER so it cannot be used to reflect.
    if (!limiter_.allow(from.addr, now.mono)) {
      count(KeepaliveOutcome::kRateLimited);
      return 0;
    }
    count(KeepaliveOutcome::kUnknownSession);
    ack.result = wire::KeepaliveResult::kUnknownSession;
    return wire::write_keepalive_ack(reply, ack);
  }
  const auto expected = crypto::session_mac(s->key, d.first(wire::kKeepaliveMacOffset));
  if (!crypto::equal_constant_time(expected, m.mac)) {
    count(KeepaliveOutcome::kBadMac);
    return 0;
  }
  const SessionKey key = s->key;  // the session may be erased below
  const bool fresh = type == wire::kTypeDeregister
                         ? registry_.on_deregister(m.session_id, m.counter, now.mono)
                         : registry_.on_keepalive(m.session_id, m.counter, m.rtt_us, now.mono);
  if (!fresh) {
    count(KeepaliveOutcome::kReplayed);
    return 0;
  }
  const bool dereg = type == wire::kTypeDeregister;
  count(dereg ? KeepaliveOutcome::kDeregistered : KeepaliveOutcome::kAlive);
  ack.result = dereg ? wire::KeepaliveResult::kDeregistered : wire::KeepaliveResult::kAlive;
  const std::size_t n = wire::write_keepalive_ack(reply, ack);
  if (n != 0) {
    const auto mac = crypto::session_mac(key, reply.first(wire::kKeepaliveAckMacOffset));
    std::copy(mac.begin(), mac.end(), reply.begin() + wire::kKeepaliveAckMacOffset);
  }
  return n;
}

}  // namespace dmux::registry

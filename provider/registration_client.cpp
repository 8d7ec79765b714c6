#include "provider/registration_client.h"

#include <algorithm>
#include <exception>

#include "common/net/endpoint.h"
#include "common/util/log.h"
#include "common/wire/protocols.h"
#include "common/crypto/session_key.h"

namespace dmux::provider {
namespace {

constexpr std::size_t kMaxRegisterLen =
    wire::kRegisterFixedLen + wire::kMaxCertificateLen + 2 + wire::kSignatureLen;

std::string gateway_name(std::uint32_t id) { return net::ipv4_to_string(id); }

const char* refusal_reason(wire::RegisterResult r) noexcept {
  switch (r) {
    case wire::RegisterResult::kOutOfScope:
      return "out of scope (the certificate does not cover it)";
    case wire::RegisterResult::kLimitReached:
      return "router limit reached";
    case wire::RegisterResult::kSuppressed:
      return "suppressed (damped for flapping)";
    case wire::RegisterResult::kAccepted:
      break;
  }
  return "unknown result";
}

}  // namespace

std::string_view to_string(RegistrationState s) noexcept {
  switch (s) {
    case RegistrationState::kIdle:
      return "idle";
    case RegistrationState::kRegistering:
      return "registering";
    case RegistrationState::kRegistered:
      return "registered";
    case RegistrationState::kStopped:
      return "stopped";
  }
  return "unknown";
}

RegistrationClient::RegistrationClient(const RegistrationConfig& config,
                                       const crypto::SigningKey& key,
                                       std::span<const std::byte> certificate, GatewayLink& link,
                                       TunnelKeySink* keys)
    : config_(config),
      key_(key),
      certificate_(certificate),
      link_(link),
      keys_(keys),
      buffer_(kMaxRegisterLen),
      retry_delay_(config.first_retry) {}

void RegistrationClient::start(const Instant& now) {
  if (state_ != RegistrationState::kIdle) return;
  begin_registration(now);
}

MonoTime RegistrationClient::next_deadline() const noexcept {
  if (state_ == RegistrationState::kIdle || state_ == RegistrationState::kStopped) {
    return MonoTime::max();
  }
  return deadline_;
}

void RegistrationClient::begin_registration(const Instant& now) {
  retry_delay_ = config_.first_retry;
  state_ = RegistrationState::kRegistering;
  send_register(now);
}

void RegistrationClient::reregister(const Instant& now, const char* why) {
  LOG_WARN("%s: %s; re-registering", wire::protocol_name(config_.proto_id).c_str(), why);
  ++counters_.reregistrations;
  begin_registration(now);
}

void RegistrationClient::send_register(const Instant& now) {
  deadline_ = now.mono + retry_delay_;
  try {
    agreement_.emplace();  // a fresh ephemeral X25519 key per REGISTER
    pending_timestamp_ = std::max(now.unix_us, last_timestamp_ + 1);
    last_timestamp_ = pending_timestamp_;
    wire::RegisterMsg m;
    m.proto_id = config_.proto_id;
    m.router_port = config_.router_port;
    m.provider_id = config_.provider_id;
    m.router_ipv4 = config_.router_ipv4;
    m.timestamp_us = pending_timestamp_;
    m.session_key = agreement_->public_key();
    m.certificate = certificate_;
    const std::size_t unsigned_len = wire::write_register_unsigned(buffer_, m);
    if (unsigned_len == 0) {
      LOG_ERROR("REGISTER does not fit: certificate of %zu bytes", certificate_.size());
      return;
    }
    const crypto::Signature sig = key_.sign(std::span(buffer_).first(unsigned_len));
    const std::size_t len = wire::append_register_signature(buffer_, unsigned_len, sig);
    link_.send(std::span(buffer_).first(len));
    ++counters_.registers_sent;
  } catch (const std::exception& e) {
    LOG_ERROR("cannot build REGISTER: %s; retrying", e.what());
  }
}

void RegistrationClient::send_session_message(std::uint8_t type) {
  const auto rtt = rtt_.rtt();
  const auto rtt_us = rtt ? std::clamp<std::int64_t>(rtt->count(), 1, 0xffffffffLL) : 0;
  wire::KeepaliveMsg m{.session_id = session_id_,
                       .counter = ++counter_,
                       .rtt_us = static_cast<std::uint32_t>(rtt_us),
                       .mac = {}};
  if (wire::write_keepalive(buffer_, type, m) != wire::kKeepaliveLen) return;
  m.mac = crypto::session_mac(session_key_, std::span(buffer_).first(wire::kKeepaliveMacOffset));
  const std::size_t len = wire::write_keepalive(buffer_, type, m);
  link_.send(std::span(buffer_).first(len));
}

void RegistrationClient::on_timer(const Instant& now) {
  if (now.mono < next_deadline()) return;
  if (state_ == RegistrationState::kRegistering) {
    retry_delay_ = std::min(retry_delay_ * 2, config_.max_retry);
    LOG_INFO("%s: no accepting answer to REGISTER yet; sent again, next try in %lld ms",
             wire::protocol_name(config_.proto_id).c_str(),
             static_cast<long long>(retry_delay_.count()));
    send_register(now);
    return;
  }
  // kRegistered: keepalive time.
  if (now.mono - last_valid_ack_ >= interval_ * config_.silent_intervals) {
    const std::string why = "lost gateway " + gateway_name(gateway_id_) +
                            ": no valid KEEPALIVE_ACK for " +
                            std::to_string(config_.silent_intervals) + " intervals";
    reregister(now, why.c_str());
    return;
  }
  send_session_message(wire::kTypeKeepalive);
  sent_keepalives_[counter_ % sent_keepalives_.size()] = {counter_, now.mono};
  rtt_.on_probe_sent();
  ++counters_.keepalives_sent;
  deadline_ = now.mono + interval_;
}

bool RegistrationClient::on_register_ack(std::span<const std::byte> datagram,
                                         const wire::RegisterAckMsg& ack, const Instant& now) {
  if (state_ != RegistrationState::kRegistering || !agreement_ ||
      ack.timestamp_us != pending_timestamp_) {
    ++counters_.ignored;
    return false;
  }
  if (ack.result != wire::RegisterResult::kAccepted) {
    on_refusal(ack, now);
    return true;
  }
  return accept_session(datagram, ack, now);
}

// A refusal carries no MAC (only acceptances set up a key): it is believed only because it
// echoes the timestamp of the REGISTER in flight, and it only changes when we retry.
void RegistrationClient::on_refusal(const wire::RegisterAckMsg& ack, const Instant& now) {
  ++counters_.refusals;
  if (ack.result == wire::RegisterResult::kOutOfScope) {
    retry_delay_ = config_.max_retry;  // will not change by itself: no point asking often
  }
  deadline_ = now.mono + retry_delay_;
  LOG_ERROR("%s: gateway %s refused the registration: %s; retrying in %lld ms",
            wire::protocol_name(config_.proto_id).c_str(), gateway_name(ack.gateway_id).c_str(),
            refusal_reason(ack.result), static_cast<long long>(retry_delay_.count()));
}

bool RegistrationClient::accept_session(std::span<const std::byte> datagram,
                                        const wire::RegisterAckMsg& ack, const Instant& now) {
  crypto::Digest shared{};
  if (datagram.size() < wire::kRegisterAckMacOffset ||
      !agreement_->derive(ack.session_key, shared)) {
    ++counters_.bad_macs;
    return false;
  }
  const crypto::Digest key = crypto::derive_session_key(shared, ack.session_id, ack.timestamp_us);
  if (!crypto::session_mac_ok(key, datagram.first(wire::kRegisterAckMacOffset), ack.mac)) {
    ++counters_.bad_macs;
    return false;
  }
  const std::uint32_t previous_gateway = gateway_id_;
  agreement_.reset();
  state_ = RegistrationState::kRegistered;
  gateway_id_ = ack.gateway_id;
  session_id_ = ack.session_id;
  session_key_ = key;
  counter_ = 0;
  sent_keepalives_ = {};
  if (ack.gateway_id != previous_gateway) rtt_ = util::RttEstimator{};  // another path
  interval_ = std::max(config_.min_keepalive, std::chrono::milliseconds(ack.keepalive_interval_ms));
  hold_time_ = std::chrono::milliseconds(ack.hold_time_ms);
  last_valid_ack_ = now.mono;
  retry_delay_ = config_.first_retry;
  deadline_ = now.mono + interval_;
  ++counters_.registrations;
  if (previous_gateway != 0 && previous_gateway != gateway_id_) {
    LOG_INFO("%s: moved from gateway %s to gateway %s",
             wire::protocol_name(config_.proto_id).c_str(), gateway_name(previous_gateway).c_str(),
             gateway_name(gateway_id_).c_str());
  }
  LOG_INFO(
      "%s: registered with gateway %s (session %016llx, keepalive every %lld ms, hold %lld ms)",
      wire::protocol_name(config_.proto_id).c_str(), gateway_name(gateway_id_).c_str(),
      static_cast<unsigned long long>(session_id_), static_cast<long long>(interval_.count()),
      static_cast<long long>(hold_time_.count()));
  return true;
}

bool RegistrationClient::on_keepalive_ack(std::span<const std::byte> datagram,
                                          const wire::KeepaliveAckMsg& ack, const Instant& now) {
  if (state_ != RegistrationState::kRegistered || ack.session_id != session_id_ ||
      ack.counter > counter_) {
    ++counters_.ignored;
    return false;
  }
  if (ack.result == wire::KeepaliveResult::kUnknownSession) {
    // Unauthenticated (the gateway has no key for the session): a hint, acted on at most once per
    // keepalive interval so a forger cannot make us re-register in a loop.
    ++counters_.unknown_session_hints;
    if (last_hint_ && now.mono - *last_hint_ < interval_) return true;
    last_hint_ = now.mono;
    const std::string why =
        "gateway " + gateway_name(ack.gateway_id) + " does not know our session";
    reregister(now, why.c_str());
    return true;
  }
  if (datagram.size() < wire::kKeepaliveAckMacOffset ||
      !crypto::session_mac_ok(session_key_, datagram.first(wire::kKeepaliveAckMacOffset), ack.mac)) {
    ++counters_.bad_macs;
    return false;
  }
  if (ack.gateway_id != gateway_id_) {
    const std::string why = "answering gateway changed from " + gateway_name(gateway_id_) + " to " +
                            gateway_name(ack.gateway_id);
    reregister(now, why.c_str());
    return true;
  }
  if (ack.result != wire::KeepaliveResult::kAlive) {
    const std::string why = "gateway " + gateway_name(gateway_id_) + " deregistered our session";
    reregister(now, why.c_str());
    return true;
  }
  ++counters_.keepalive_acks;
  last_valid_ack_ = now.mono;
  on_rtt_sample(ack.counter, now.mono);
  return true;
}

// One sample per keepalive we still remember sending; a duplicated ack adds nothing.
void RegistrationClient::on_rtt_sample(std::uint64_t counter, MonoTime now) {
  SentKeepalive& slot = sent_keepalives_[counter % sent_keepalives_.size()];
  if (slot.counter != counter || counter == 0 || now < slot.at) return;
  rtt_.on_probe_reply(std::chrono::duration_cast<std::chrono::microseconds>(now - slot.at),
                      static_cast<std::size_t>(counter_ - counter));
  slot.counter = 0;
}

void RegistrationClient::stop() {
  if (state_ == RegistrationState::kRegistered) {
    send_session_message(wire::kTypeDeregister);
    LOG_INFO("%s: deregistered from gateway %s", wire::protocol_name(config_.proto_id).c_str(),
             gateway_name(gateway_id_).c_str());
  }
  state_ = RegistrationState::kStopped;
  agreement_.reset();
}

}  // namespace dmux::provider

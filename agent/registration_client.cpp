#include "agent/registration_client.h"

#include <algorithm>
#include <exception>
#include <string>

#include "common/crypto/session_key.h"
#include "common/net/udp_socket.h"
#include "common/util/log.h"
#include "common/wire/protocols.h"

namespace dmux::agent {
namespace {

constexpr std::size_t kMaxRegisterLen =
    wire::kRegisterFixedLen + wire::kMaxCertificateLen + 2 + wire::kSignatureLen;

std::string gateway_name(wire::GatewayId id) { return net::ipv4_to_string(id.value()); }

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
      name_(wire::protocol_name(config.proto_id)),
      retry_delay_(config.first_retry),
      router_ipv4_(config.router_ipv4) {
  if (config_.source_address == nullptr) config_.source_address = &net::source_address_toward;
}

void RegistrationClient::start(const Now& now) {
  if (state_ != RegistrationState::kIdle) return;
  last_now_ = now.mono;
  begin_registration(now);
}

MonoTime RegistrationClient::next_deadline() const noexcept {
  if (state_ == RegistrationState::kIdle || state_ == RegistrationState::kStopped) {
    return MonoTime::max();
  }
  return deadline_;
}

void RegistrationClient::begin_registration(const Now& now) {
  retry_delay_ = config_.first_retry;
  state_ = RegistrationState::kRegistering;
  request_cookie(now);
}

void RegistrationClient::reregister(const Now& now, const char* why) {
  LOG_WARN("%s: %s; re-registering", name_.c_str(), why);
  ++counters_.reregistrations;
  end_session(now.mono);
  begin_registration(now);
}

// The session is over for us: its tunnel key is retired (the sink keeps it for the hold time).
void RegistrationClient::end_session(MonoTime now) {
  if (keys_ != nullptr && key_id_ != 0) keys_->on_tunnel_key_retired(key_id_, now);
  key_id_ = 0;
  session_id_ = 0;
}

void RegistrationClient::request_cookie(const Now& now) {
  step_ = Step::kCookie;
  deadline_ = now.mono + retry_delay_;
  agreement_.reset();
  try {
    do {
      nonce_ = crypto::random_u64();
    } while (nonce_ == 0);
  } catch (const std::exception& e) {
    LOG_ERROR("%s: no randomness for a COOKIE_REQUEST: %s; retrying", name_.c_str(), e.what());
    return;
  }
  const std::size_t len = wire::write_cookie_request(buffer_, {nonce_});
  cookie_requested_at_ = now.mono;
  link_.send(std::span(buffer_).first(len));
  ++counters_.cookie_requests_sent;
}

bool RegistrationClient::on_cookie(const wire::CookieMsg& c, const Now& now) {
  if (state_ != RegistrationState::kRegistering || step_ != Step::kCookie || nonce_ == 0 ||
      c.nonce != nonce_) {
    ++counters_.ignored;
    return false;
  }
  last_now_ = now.mono;
  nonce_ = 0;  // answered: a duplicate COOKIE changes nothing
  ++counters_.cookies;
  if (c.gateway_id != gateway_id_) rtt_ = util::RttEstimator{};  // another path
  if (now.mono >= cookie_requested_at_) {
    rtt_.on_probe_sent();
    rtt_.on_probe_reply(
        std::chrono::duration_cast<std::chrono::microseconds>(now.mono - cookie_requested_at_));
  }
  cookie_ = c.cookie;
  cookie_gateway_ = c.gateway_id;
  // Counted from the request: the gateway made the cookie after that, so this is never late.
  cookie_expires_ = cookie_requested_at_ + std::chrono::milliseconds(c.valid_ms);
  send_register(now);
  return true;
}

// router_ipv4 must be what the gateway sees as our source (docs/protocol.md 9.2): with a wildcard
// listen address that is the kernel's choice toward the gateway, which can change with routes.
bool RegistrationClient::resolve_router_address() {
  if (config_.router_ipv4 != 0) return true;
  if (config_.gateway.addr == 0) {
    LOG_ERROR(
        "%s: the agent listens on 0.0.0.0 but its registration knows no gateway address to "
        "find its own toward: set RegistrationConfig::gateway; not registering",
        name_.c_str());
    return false;
  }
  const auto addr = config_.source_address(config_.gateway);
  if (!addr || *addr == 0) {
    LOG_ERROR("%s: no route to gateway %s: cannot tell which address to register; retrying",
              name_.c_str(), config_.gateway.to_string().c_str());
    return false;
  }
  if (*addr != router_ipv4_) {
    LOG_INFO(
        "%s: registering router address %s:%u (the kernel's source address toward gateway "
        "%s; the agent listens on 0.0.0.0)",
        name_.c_str(), net::ipv4_to_string(*addr).c_str(), config_.router_port,
        config_.gateway.to_string().c_str());
    router_ipv4_ = *addr;
  }
  return true;
}

std::uint32_t RegistrationClient::rtt_us() const noexcept {
  const auto rtt = rtt_.rtt();
  return rtt ? static_cast<std::uint32_t>(std::clamp<std::int64_t>(rtt->count(), 1, 0xffffffffLL))
             : 0;
}

void RegistrationClient::send_register(const Now& now) {
  step_ = Step::kRegister;
  deadline_ = now.mono + retry_delay_;
  try {
    if (!resolve_router_address()) return;
    agreement_.emplace();  // a fresh ephemeral X25519 key per REGISTER
    pending_timestamp_ = std::max(now.unix_us, last_timestamp_ + 1);
    last_timestamp_ = pending_timestamp_;
    wire::RegisterMsg m;
    m.proto_id = config_.proto_id;
    m.router_port = config_.router_port;
    m.provider_id = config_.provider_id;
    m.router_ipv4 = router_ipv4_;
    m.gateway_id = cookie_gateway_;
    m.timestamp_us = pending_timestamp_;
    m.cookie = cookie_;
    m.session_key = agreement_->public_key();
    m.rtt_us = rtt_us();
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
    LOG_ERROR("%s: cannot build REGISTER: %s; retrying", name_.c_str(), e.what());
  }
}

void RegistrationClient::send_session_message(wire::MsgType type) {
  wire::KeepaliveMsg m{
      .session_id = session_id_, .counter = ++counter_, .rtt_us = rtt_us(), .mac = {}};
  if (wire::write_keepalive(buffer_, type, m) != wire::kKeepaliveLen) return;
  m.mac = crypto::session_mac(session_key_, std::span(buffer_).first(wire::kKeepaliveMacOffset));
  const std::size_t len = wire::write_keepalive(buffer_, type, m);
  link_.send(std::span(buffer_).first(len));
}

void RegistrationClient::on_timer(const Now& now) {
  if (now.mono < next_deadline()) return;
  last_now_ = now.mono;
  if (state_ == RegistrationState::kRegistering) {
    retry_delay_ = std::min(retry_delay_ * 2, config_.max_retry);
    if (step_ == Step::kRetry && now.mono < cookie_expires_) {
      send_register(now);  // refused earlier; the cookie still serves
    } else {
      // No COOKIE, no REGISTER_ACK, or a cookie too old: start from a new COOKIE_REQUEST.
      LOG_INFO("%s: no %s from gateway %s yet; asking for a cookie again, next try in %lld ms",
               name_.c_str(), step_ == Step::kCookie ? "COOKIE" : "accepting REGISTER_ACK",
               config_.gateway.to_string().c_str(), static_cast<long long>(retry_delay_.count()));
      request_cookie(now);
    }
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
  send_session_message(wire::MsgType::kKeepalive);
  sent_keepalives_[counter_ % sent_keepalives_.size()] = {counter_, now.mono};
  rtt_.on_probe_sent();
  ++counters_.keepalives_sent;
  deadline_ = now.mono + interval_;
}

bool RegistrationClient::on_register_ack(std::span<const std::byte> datagram,
                                         const wire::RegisterAckMsg& ack, const Now& now) {
  if (state_ != RegistrationState::kRegistering || step_ != Step::kRegister || !agreement_ ||
      ack.timestamp_us != pending_timestamp_) {
    ++counters_.ignored;
    return false;
  }
  last_now_ = now.mono;
  if (ack.result != wire::RegisterResult::kAccepted) {
    on_refusal(ack, now);
    return true;
  }
  return accept_session(datagram, ack, now);
}

// A refusal carries no MAC (only acceptances set up a key): it is believed only because it
// echoes the timestamp of the REGISTER in flight, and it only changes when we retry.
void RegistrationClient::on_refusal(const wire::RegisterAckMsg& ack, const Now& now) {
  ++counters_.refusals;
  agreement_.reset();
  step_ = Step::kRetry;
  if (ack.result == wire::RegisterResult::kOutOfScope) {
    retry_delay_ = config_.max_retry;  // will not change by itself: no point asking often
  }
  deadline_ = now.mono + retry_delay_;
  LOG_ERROR("%s: gateway %s refused the registration: %s; retrying in %lld ms", name_.c_str(),
            gateway_name(ack.gateway_id).c_str(), refusal_reason(ack.result),
            static_cast<long long>(retry_delay_.count()));
}

bool RegistrationClient::accept_session(std::span<const std::byte> datagram,
                                        const wire::RegisterAckMsg& ack, const Now& now) {
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
  if (ack.suite != wire::kSuiteAes256Gmac || ack.key_id == 0 || ack.session_id == 0) {
    // Authentic, but nothing we can forward with: as good as a refusal.
    LOG_ERROR("%s: gateway %s accepted with tunnel suite %u, key id %u: not usable here",
              name_.c_str(), gateway_name(ack.gateway_id).c_str(), unsigned{ack.suite}, ack.key_id);
    ++counters_.refusals;
    agreement_.reset();
    step_ = Step::kRetry;
    retry_delay_ = config_.max_retry;
    deadline_ = now.mono + retry_delay_;
    return true;
  }
  if (keys_ != nullptr) {
    keys_->on_tunnel_key(config_.proto_id, ack.key_id,
                         crypto::derive_tunnel_key(shared, ack.session_id, ack.timestamp_us),
                         now.mono);
  }
  install_session(ack, key, now);
  return true;
}

void RegistrationClient::install_session(const wire::RegisterAckMsg& ack, const crypto::Digest& key,
                                         const Now& now) {
  const wire::GatewayId previous_gateway = gateway_id_;
  agreement_.reset();
  state_ = RegistrationState::kRegistered;
  gateway_id_ = ack.gateway_id;
  session_id_ = ack.session_id;
  session_key_ = key;
  key_id_ = ack.key_id;
  counter_ = 0;
  sent_keepalives_ = {};
  if (ack.gateway_id != cookie_gateway_) rtt_ = util::RttEstimator{};  // not the COOKIE's path
  interval_ = std::max(config_.min_keepalive, std::chrono::milliseconds(ack.keepalive_interval_ms));
  hold_time_ = std::chrono::milliseconds(ack.hold_time_ms);
  last_valid_ack_ = now.mono;
  retry_delay_ = config_.first_retry;
  deadline_ = now.mono + interval_;
  ++counters_.registrations;
  if (previous_gateway != wire::GatewayId{0} && previous_gateway != gateway_id_) {
    LOG_INFO("%s: moved from gateway %s to gateway %s", name_.c_str(),
             gateway_name(previous_gateway).c_str(), gateway_name(gateway_id_).c_str());
  }
  LOG_INFO(
      "%s: registered with gateway %s (session %016llx, tunnel key %08x, keepalive every %lld ms, "
      "hold %lld ms)",
      name_.c_str(), gateway_name(gateway_id_).c_str(),
      static_cast<unsigned long long>(session_id_), key_id_,
      static_cast<long long>(interval_.count()), static_cast<long long>(hold_time_.count()));
}

bool RegistrationClient::on_keepalive_ack(std::span<const std::byte> datagram,
                                          const wire::KeepaliveAckMsg& ack, const Now& now) {
  if (state_ != RegistrationState::kRegistered || ack.session_id != session_id_ ||
      ack.counter > counter_) {
    ++counters_.ignored;
    return false;
  }
  last_now_ = now.mono;
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
      !crypto::session_mac_ok(session_key_, datagram.first(wire::kKeepaliveAckMacOffset),
                              ack.mac)) {
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
    send_session_message(wire::MsgType::kDeregister);
    LOG_INFO("%s: deregistered from gateway %s", name_.c_str(), gateway_name(gateway_id_).c_str());
  }
  end_session(last_now_);
  state_ = RegistrationState::kStopped;
  agreement_.reset();
}

}  // namespace dmux::agent

// The agent side of registration (docs/protocol.md section 9) for one (proto_id, router) pair:
// REGISTER with backoff until a gateway accepts, KEEPALIVE every interval, re-registration when
// the gateway falls silent, forgets the session or changes, DEREGISTER at shutdown.
//
// Soft state driven by event-named calls. The caller reports what happened (a reply arrived, time
// passed) with the current Instant and asks next_deadline() when to call on_timer() again; the
// client never reads a clock or sleeps, so tests drive it with a fake clock. Single-threaded: all
// calls come from the agent's event-loop thread. Replies are untrusted: REGISTER_ACK (accepted)
// and KEEPALIVE_ACK (alive, deregistered) are acted on only after their MAC verifies.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "agent/tunnel_key_sink.h"
#include "common/crypto/crypto.h"
#include "common/util/rtt_estimator.h"
#include "common/wire/registration.h"

namespace dmux::provider {

using MonoTime = std::chrono::steady_clock::time_point;

// Now, as the registration client needs it: a monotonic instant for timers and the wall clock for
// REGISTER timestamps (which the gateway checks against its own clock).
struct Instant {
  MonoTime mono{};
  std::uint64_t unix_us = 0;
};

// Sends to the gateway's registration endpoint (from the socket TUNNEL arrives on).
class GatewayLink {
 public:
  virtual ~GatewayLink() = default;
  virtual void send(std::span<const std::byte> message) noexcept = 0;
};

using agent::TunnelKeySink;  // agent/tunnel_key_sink.h

struct RegistrationConfig {
  std::uint16_t proto_id = 0;     // what this client registers
  std::uint32_t provider_id = 0;  // the certificate's provider
  std::uint32_t router_ipv4 = 0;  // host order; 0 = the source address of the REGISTER
  std::uint16_t router_port = 0;  // where TUNNEL arrives; not 0
  std::chrono::milliseconds first_retry{1000};  // REGISTER retry delay, doubled per silent try
  std::chrono::milliseconds max_retry{30000};   // cap of that delay
  unsigned silent_intervals = 3;  // keepalive intervals without a valid ack before re-registering
  std::chrono::milliseconds min_keepalive{100};  // floor on the gateway's keepalive_interval_ms
};

enum class RegistrationState : std::uint8_t {
  kIdle,         // before start()
  kRegistering,  // REGISTER sent, waiting for an accepting REGISTER_ACK
  kRegistered,   // session up, keepalives flowing
  kStopped,      // after stop()
};
std::string_view to_string(RegistrationState s) noexcept;

struct RegistrationCounters {
  std::uint64_t registers_sent = 0;
  std::uint64_t registrations = 0;  // accepted REGISTER_ACKs
  std::uint64_t refusals = 0;       // REGISTER_ACKs with result != accepted
  std::uint64_t keepalives_sent = 0;
  std::uint64_t keepalive_acks = 0;  // valid "alive" acks
  std::uint64_t bad_macs = 0;        // acks for us whose MAC (or key) did not verify
  std::uint64_t unknown_session_hints = 0;
  std::uint64_t reregistrations = 0;  // silence, unknown session, gateway change, deregistered
  std::uint64_t ignored = 0;          // replies not for the current REGISTER or session
};

class RegistrationClient {
 public:
  // `key` and `certificate` (DER) are the provider's credentials; both must outlive the client,
  // and so must `keys` (may be null: nobody wants the tunnel keys, e.g. in tests).
  RegistrationClient(const RegistrationConfig& config, const crypto::SigningKey& key,
                     std::span<const std::byte> certificate, GatewayLink& link,
                     TunnelKeySink* keys = nullptr);

  void start(const Instant& now);
  // A REGISTER_ACK / KEEPALIVE_ACK from the listen socket, already parsed from `datagram`. Returns
  // true if it answered this client (so the caller need not offer it to other clients).
  bool on_register_ack(std::span<const std::byte> datagram, const wire::RegisterAckMsg& ack,
                       const Instant& now);
  bool on_keepalive_ack(std::span<const std::byte> datagram, const wire::KeepaliveAckMsg& ack,
                        const Instant& now);
  // Does whatever is due at `now` (retry REGISTER, send KEEPALIVE, declare the gateway lost).
  void on_timer(const Instant& now);
  // Sends DEREGISTER if registered; the client sends nothing afterwards.
  void stop();

  // When on_timer() has something to do; MonoTime::max() if never.
  [[nodiscard]] MonoTime next_deadline() const noexcept;

  [[nodiscard]] const RegistrationConfig& config() const noexcept { return config_; }
  [[nodiscard]] RegistrationState state() const noexcept { return state_; }
  [[nodiscard]] std::uint32_t gateway_id() const noexcept { return gateway_id_; }  // 0 = none yet
  [[nodiscard]] std::uint64_t session_id() const noexcept { return session_id_; }
  [[nodiscard]] std::chrono::milliseconds keepalive_interval() const noexcept { return interval_; }
  [[nodiscard]] std::chrono::milliseconds hold_time() const noexcept { return hold_time_; }
  [[nodiscard]] std::chrono::milliseconds retry_delay() const noexcept { return retry_delay_; }
  [[nodiscard]] const RegistrationCounters& counters() const noexcept { return counters_; }
  // Smoothed RTT to the current gateway (median of recent KEEPALIVE -> KEEPALIVE_ACK samples);
  // nullopt before the first sample. Reported to the gateway in each KEEPALIVE (rtt_us).
  [[nodiscard]] std::optional<std::chrono::microseconds> rtt() const noexcept { return rtt_.rtt(); }

 private:
  void begin_registration(const Instant& now);
  void send_register(const Instant& now);
  void send_session_message(std::uint8_t type);
  void on_rtt_sample(std::uint64_t counter, MonoTime now);
  void on_refusal(const wire::RegisterAckMsg& ack, const Instant& now);
  bool accept_session(std::span<const std::byte> datagram, const wire::RegisterAckMsg& ack,
                      const Instant& now);
  void reregister(const Instant& now, const char* why);

  RegistrationConfig config_;
  const crypto::SigningKey& key_;
  std::span<const std::byte> certificate_;
  GatewayLink& link_;
  TunnelKeySink* keys_;  // may be null
  std::vector<std::byte> buffer_;  // one outgoing message; sized once for the largest REGISTER

  RegistrationState state_ = RegistrationState::kIdle;
  MonoTime deadline_ = MonoTime::max();
  std::chrono::milliseconds retry_delay_;

  // The REGISTER in flight: its timestamp and ephemeral key.
  std::optional<crypto::KeyAgreement> agreement_;
  std::uint64_t pending_timestamp_ = 0;
  std::uint64_t last_timestamp_ = 0;

  // The session (valid in kRegistered; gateway_id_ is kept across re-registrations for logging).
  std::uint32_t gateway_id_ = 0;
  std::uint64_t session_id_ = 0;
  crypto::Digest session_key_{};
  std::uint64_t counter_ = 0;
  std::chrono::milliseconds interval_{0};
  std::chrono::milliseconds hold_time_{0};
  MonoTime last_valid_ack_{};
  std::optional<MonoTime> last_hint_;  // last re-registration on an "unknown session" hint

  // Send times of the last keepalives, slot counter % size; matched by counter when acked.
  struct SentKeepalive {
    std::uint64_t counter = 0;  // 0 = empty or already answered
    MonoTime at{};
  };
  std::array<SentKeepalive, 8> sent_keepalives_{};
  util::RttEstimator rtt_;  // to gateway_id_; reset when the gateway changes

  RegistrationCounters counters_;
};

}  // namespace dmux::provider

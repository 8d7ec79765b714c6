// The agent side of registration (docs/protocol.md section 9) for one (proto_id, router) pair:
// COOKIE_REQUEST -> COOKIE -> REGISTER -> REGISTER_ACK, with backoff until a gateway accepts;
// KEEPALIVE every interval; re-registration (from a new COOKIE_REQUEST) when the gateway falls
// silent, forgets the session or changes; DEREGISTER at shutdown. Each accepted registration's
// tunnel key goes to the TunnelKeySink; a key whose registration ended is retired there.
//
// Soft state driven by event-named calls. The caller reports what happened (a reply arrived, time
// passed) with the current Now and asks next_deadline() when to call on_timer() again; the
// client never reads a clock or sleeps, so tests drive it with a fake clock. Single-threaded: all
// calls come from the agent's event-loop thread. Replies are untrusted: a COOKIE is taken only if
// it echoes the outstanding nonce; REGISTER_ACK (accepted) and KEEPALIVE_ACK (alive,
// deregistered) are acted on only after their MAC verifies.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "agent/tunnel_key_sink.h"
#include "common/crypto/crypto.h"
#include "common/net/endpoint.h"
#include "common/util/clock.h"
#include "common/util/rtt_estimator.h"
#include "common/wire/registration.h"

namespace dmux::agent {

// Now, as the registration client needs it: a monotonic instant for timers and the wall clock for
// REGISTER timestamps (which the gateway checks against its own clock).
using util::MonoTime;
using util::Now;

// Sends to the gateway's registration endpoint (from the socket TUNNEL arrives on).
class GatewayLink {
 public:
  virtual ~GatewayLink() = default;
  virtual void send(std::span<const std::byte> message) noexcept = 0;
};

// The address the kernel sends from toward `gateway` (host order), nullopt if there is no route.
using SourceAddressFn = std::optional<std::uint32_t> (*)(const net::Endpoint& gateway);

struct RegistrationConfig {
  wire::ProtoId proto_id;        // what this client registers
  wire::ProviderId provider_id;  // the certificate's provider
  // The router's address as the gateway sees it (host order); must be the source of our
  // datagrams. 0 (an agent listening on 0.0.0.0) = the kernel's source address toward `gateway`,
  // looked up at each registration.
  std::uint32_t router_ipv4 = 0;
  std::uint16_t router_port = 0;                // where TUNNEL arrives; not 0
  std::chrono::milliseconds first_retry{1000};  // retry delay, doubled per silent or refused try
  std::chrono::milliseconds max_retry{30000};   // cap of that delay
  unsigned silent_intervals = 3;  // keepalive intervals without a valid ack before re-registering
  std::chrono::milliseconds min_keepalive{100};  // floor on the gateway's keepalive_interval_ms
  net::Endpoint gateway{};  // the registration endpoint the link sends to (for router_ipv4 = 0)
  SourceAddressFn source_address = nullptr;  // nullptr = net::source_address_toward
};

enum class RegistrationState : std::uint8_t {
  kIdle,         // before start()
  kRegistering,  // COOKIE_REQUEST or REGISTER sent, waiting for an accepting REGISTER_ACK
  kRegistered,   // session up, keepalives flowing
  kStopped,      // after stop()
};
std::string_view to_string(RegistrationState s) noexcept;

struct RegistrationCounters {
  std::uint64_t cookie_requests_sent = 0;
  std::uint64_t cookies = 0;  // COOKIEs that answered our outstanding request
  std::uint64_t registers_sent = 0;
  std::uint64_t registrations = 0;  // accepted REGISTER_ACKs
  std::uint64_t refusals = 0;       // REGISTER_ACKs with result != accepted
  std::uint64_t keepalives_sent = 0;
  std::uint64_t keepalive_acks = 0;  // valid "alive" acks
  std::uint64_t bad_macs = 0;        // acks for us whose MAC (or key) did not verify
  std::uint64_t unknown_session_hints = 0;
  std::uint64_t reregistrations = 0;  // silence, unknown session, gateway change, deregistered
  std::uint64_t ignored = 0;          // replies not for the current request or session
};

class RegistrationClient {
 public:
  // `key` and `certificate` (DER) are the provider's credentials; both must outlive the client,
  // and so must `keys` (may be null: nobody wants the tunnel keys, e.g. in tests).
  RegistrationClient(const RegistrationConfig& config, const crypto::SigningKey& key,
                     std::span<const std::byte> certificate, GatewayLink& link,
                     TunnelKeySink* keys = nullptr);

  void start(const Now& now);
  // A COOKIE / REGISTER_ACK / KEEPALIVE_ACK from the listen socket, already parsed from
  // `datagram`. Returns true if it answered this client (so the caller need not offer it to
  // other clients).
  bool on_cookie(const wire::CookieMsg& cookie, const Now& now);
  bool on_register_ack(std::span<const std::byte> datagram, const wire::RegisterAckMsg& ack,
                       const Now& now);
  bool on_keepalive_ack(std::span<const std::byte> datagram, const wire::KeepaliveAckMsg& ack,
                        const Now& now);
  // Does whatever is due at `now` (retry, send KEEPALIVE, declare the gateway lost).
  void on_timer(const Now& now);
  // Sends DEREGISTER if registered and retires the tunnel key (at the time of the last call); the
  // client sends nothing afterwards.
  void stop();

  // When on_timer() has something to do; MonoTime::max() if never.
  [[nodiscard]] MonoTime next_deadline() const noexcept;

  [[nodiscard]] const RegistrationConfig& config() const noexcept { return config_; }
  [[nodiscard]] RegistrationState state() const noexcept { return state_; }
  [[nodiscard]] wire::GatewayId gateway_id() const noexcept { return gateway_id_; }  // 0 = none yet
  [[nodiscard]] std::uint64_t session_id() const noexcept { return session_id_; }
  [[nodiscard]] std::uint32_t key_id() const noexcept { return key_id_; }  // 0 unless registered
  // The router address registered (or to be): config().router_ipv4, or the one looked up.
  [[nodiscard]] std::uint32_t router_ipv4() const noexcept { return router_ipv4_; }
  [[nodiscard]] std::chrono::milliseconds keepalive_interval() const noexcept { return interval_; }
  [[nodiscard]] std::chrono::milliseconds hold_time() const noexcept { return hold_time_; }
  [[nodiscard]] std::chrono::milliseconds retry_delay() const noexcept { return retry_delay_; }
  [[nodiscard]] const RegistrationCounters& counters() const noexcept { return counters_; }
  // Smoothed RTT to the current gateway (median of recent COOKIE and KEEPALIVE exchanges);
  // nullopt before the first sample. Reported to the gateway in REGISTER and KEEPALIVE (rtt_us).
  [[nodiscard]] std::optional<std::chrono::microseconds> rtt() const noexcept { return rtt_.rtt(); }

 private:
  // Where a registration in progress stands.
  enum class Step : std::uint8_t { kCookie, kRegister, kRetry };

  void begin_registration(const Now& now);
  void request_cookie(const Now& now);
  void send_register(const Now& now);
  bool resolve_router_address();
  void send_session_message(wire::MsgType type);
  void on_rtt_sample(std::uint64_t counter, MonoTime now);
  void on_refusal(const wire::RegisterAckMsg& ack, const Now& now);
  bool accept_session(std::span<const std::byte> datagram, const wire::RegisterAckMsg& ack,
                      const Now& now);
  void install_session(const wire::RegisterAckMsg& ack, const crypto::Digest& key, const Now& now);
  void end_session(MonoTime now);
  void reregister(const Now& now, const char* why);
  [[nodiscard]] std::uint32_t rtt_us() const noexcept;

  RegistrationConfig config_;
  const crypto::SigningKey& key_;
  std::span<const std::byte> certificate_;
  GatewayLink& link_;
  TunnelKeySink* keys_;            // may be null
  std::vector<std::byte> buffer_;  // one outgoing message; sized once for the largest REGISTER
  std::string name_;               // the protocol's name, for logs

  RegistrationState state_ = RegistrationState::kIdle;
  Step step_ = Step::kCookie;
  MonoTime deadline_ = MonoTime::max();
  MonoTime last_now_{};  // of the latest call, for stop()
  std::chrono::milliseconds retry_delay_;
  std::uint32_t router_ipv4_ = 0;

  // The COOKIE exchange: the outstanding nonce, then the cookie and the gateway that gave it.
  std::uint64_t nonce_ = 0;
  MonoTime cookie_requested_at_{};
  wire::CookieBytes cookie_{};
  wire::GatewayId cookie_gateway_;
  MonoTime cookie_expires_{};

  // The REGISTER in flight: its timestamp and ephemeral key.
  std::optional<crypto::KeyAgreement> agreement_;
  std::uint64_t pending_timestamp_ = 0;
  std::uint64_t last_timestamp_ = 0;

  // The session (valid in kRegistered; gateway_id_ is kept across re-registrations for logging).
  wire::GatewayId gateway_id_;
  std::uint64_t session_id_ = 0;
  crypto::Digest session_key_{};
  std::uint32_t key_id_ = 0;  // the tunnel key handed to keys_ (0 = none)
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
  util::RttEstimator rtt_;  // to gateway_id_ (or the COOKIE's gateway); reset when it changes

  RegistrationCounters counters_;
};

}  // namespace dmux::agent

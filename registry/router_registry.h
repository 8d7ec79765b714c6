// Soft state of the routers registered at this gateway.
//
// Event-named calls report what happened (on_register, on_keepalive, on_deregister,
// on_confirmed_dead) and expire(now) decides what has timed out; nothing here reads a clock or a
// socket. Liveness, like BFD (docs/protocol.md 9.9): a router silent for its detect time is suspect
// and leaves forwarding but keeps its session, so its next keepalive brings it back; silent for
// hold_time it is withdrawn. The detect time is `suspect_after` keepalive intervals, stretched by
// four times the router's observed keepalive lateness (a smoothed mean, like TCP's RTT variance)
// up to `suspect_max`; a router silent for `suspect_after` intervals is first offered for a probe
// (take_silent), which proves a dead agent at once (router_feedback.h). Each departure from
// forwarding counts as a flap for dampening, which bounds the mesh UPDATEs one router can cause. A
// gap between two expire() calls longer than `stall_gap` is this gateway's own stall: every silence
// clock is paused for it, so the gateway never blames routers for its own delay. Withdrawn routers
// are remembered (kWithdrawn) for their dampening penalty and replay timestamp until both are
// worthless. Control thread only.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/crypto/crypto.h"
#include "common/crypto/data_path_mac.h"
#include "common/net/endpoint.h"
#include "common/wire/ids.h"
#include "common/wire/mesh.h"
#include "registry/clock.h"
#include "registry/dampening.h"

namespace dmux::registry {

using SessionKey = std::array<std::byte, 32>;

using wire::ProviderId;
using wire::RouterId;

// The registry's order of routers: by provider first, so one provider's routers are adjacent (its
// cap is counted over a range), then protocol and address. Status lists routers in this order.
struct ByProvider {
  bool operator()(const RouterId& a, const RouterId& b) const noexcept {
    return std::tie(a.provider, a.proto, a.address) < std::tie(b.provider, b.proto, b.address);
  }
};

struct RegistryConfig {
  std::chrono::milliseconds keepalive_interval{5000};  // told to agents in REGISTER_ACK
  std::chrono::milliseconds hold_time{15000};          // silence after which a router is removed
  std::size_t max_routers = 10000;                     // registered (up) routers in total
  std::size_t max_routers_per_provider = 64;
  unsigned suspect_after =
      3;  // keepalive intervals of silence before a router is suspect (0: never)
  // Upper bound of the detect time adapted to a router's keepalive jitter; 0: suspect_after + 1
  // intervals (the lab's 400 ms: with the 100 ms expiry tick a dead host is out within 0.5 s).
  std::chrono::milliseconds suspect_max{0};
  std::chrono::milliseconds stall_gap{500};  // expire() calls further apart: our own stall
  DampeningConfig dampening;
};

enum class AdmitResult : std::uint8_t { kAccepted, kLimitReached, kSuppressed, kReplayed };
// kUp: in forwarding. kSuspect: registered, session alive, out of forwarding (missed keepalives,
// or dampened on its way back). kWithdrawn: no session.
enum class RouterState : std::uint8_t { kUp, kSuspect, kWithdrawn };

// How the liveness rules fired (status and metrics).
struct LivenessCounters {
  std::uint64_t suspected = 0;        // up -> suspect: keepalives missed
  std::uint64_t recovered = 0;        // suspect -> up: keepalives again
  std::uint64_t confirmed_dead = 0;   // withdrawn on proof that nothing listens (ICMP, 9.9)
  std::uint64_t own_stalls = 0;       // expire() calls after a stall of our own
  std::uint64_t stalled_ms = 0;       // silence forgiven for those stalls, in total
  std::uint64_t late_keepalives = 0;  // arrived after suspect_after intervals, before detection
};

// One router's liveness transition, for the log (take_liveness_events).
struct LivenessEvent {
  enum class Kind : std::uint8_t { kSuspect, kRecovered, kExpired };
  RouterId id;
  Kind kind = Kind::kSuspect;
  Duration silent{};  // silence at the transition (recovered: the gap the keepalive ended)
  Duration detect{};  // the router's detect time then
};

struct Session {
  std::uint64_t id = 0;
  SessionKey key{};          // K: authenticates the session's KEEPALIVE, DEREGISTER and their ACKs
  std::uint32_t key_id = 0;  // names the session's tunnel key K_t (0: none, in tests)
  std::uint64_t last_counter = 0;
  RouterId router;
};

// What dmuxctl shows about one router.
struct RouterStatus {
  RouterId id;
  RouterState state = RouterState::kUp;
  bool suppressed = false;
  double penalty = 0;
  Duration age{};            // since it (last) registered
  Duration since_heard{};    // since its last REGISTER or KEEPALIVE
  std::uint32_t flaps = 0;   // withdrawals seen
  std::uint32_t rtt_us = 0;  // router <-> this gateway as last reported in a KEEPALIVE; 0 = unknown
};

// What a registration leaves behind for the data plane and the mesh (docs/protocol.md 5.4, 12.2):
// the session's tunnel key, and the provider's signed proof that the router registered here.
struct RegistrationEvidence {
  std::uint32_t key_id = 0;                      // from the REGISTER_ACK
  crypto::TunnelKeyBytes tunnel_key{};           // K_t (secret: only the mesh's TLS carries it)
  std::shared_ptr<const crypto::TunnelKey> key;  // K_t expanded, shared with the data plane
  wire::mesh::RegisterProof proof;               // the REGISTER's signed fields but the certificate
  std::shared_ptr<const std::vector<std::byte>> certificate;  // its DER (cert_hash names it)
  crypto::SerialNumber serial;  // the certificate's, for revocation (docs/protocol.md 10.1)
};

// An up router and its distance to this gateway as last announced (to the mesh and to selection).
struct UpRouter {
  RouterId id;
  std::uint32_t rtt_us = 0;  // 0 = unknown
  RegistrationEvidence evidence;
  bool operator==(const UpRouter& o) const noexcept {
    return id == o.id && rtt_us == o.rtt_us && evidence.key_id == o.evidence.key_id;
  }
};

// What changed about one router since the last take_changes(): it is up now (`router` set: new,
// re-registered with a new key, or its announced RTT moved) or gone (nullopt).
struct RouterChange {
  RouterId id;
  std::optional<UpRouter> router;
};

// Whether a router's reported RTT moved far enough from the one last announced to announce it
// again (docs/protocol.md 12.3): by more than 20 % and at least 1 ms, or first known. Keeps one
// mesh UPDATE per keepalive from flooding the mesh while real path changes still get through.
[[nodiscard]] bool rtt_change_worth_announcing(std::uint32_t announced_us,
                                               std::uint32_t reported_us) noexcept;

class RouterRegistry {
 public:
  explicit RouterRegistry(const RegistryConfig& config) : config_(config) {}

  // An authenticated REGISTER for `key`, signed at `timestamp_us`. On kAccepted the router is up
  // with a new session and its evidence (replacing any previous session of the same router, whose
  // key_id is then free again); the set of up routers counts as changed (version()), since the
  // router's tunnel key did. A non-zero evidence.proof.signed_rtt_us is the router's first RTT.
  AdmitResult on_register(const RouterId& key, std::uint64_t timestamp_us, const Session& session,
                          TimePoint now, RegistrationEvidence evidence = {});
  // Looks up a session for MAC verification (nullptr if unknown).
  [[nodiscard]] const Session* session(std::uint64_t id) const;
  // The live session whose tunnel key is `key_id` (nullptr if none), and its router's state and
  // evidence (nullptr if the router is not registered).
  [[nodiscard]] const Session* session_by_key_id(std::uint32_t key_id) const;
  [[nodiscard]] const RegistrationEvidence* evidence(const RouterId& key) const;
  // Whether a live session uses `key_id` (the handler picks unique ones).
  [[nodiscard]] bool key_id_in_use(std::uint32_t key_id) const { return key_ids_.contains(key_id); }
  // An authenticated KEEPALIVE. False if the counter is not above the last one (replay).
  // `rtt_us` is the agent's own RTT to this gateway (0 = not measured: the last value stays).
  bool on_keepalive(std::uint64_t session_id, std::uint64_t counter, std::uint32_t rtt_us,
                    TimePoint now);
  // An authenticated DEREGISTER. False if the counter is a replay.
  bool on_deregister(std::uint64_t session_id, std::uint64_t counter, TimePoint now);
  // Proof that nothing listens at the router any more (a confirmed ICMP port unreachable, 9.9):
  // withdraws it at once. False if the session is unknown.
  bool on_confirmed_dead(std::uint64_t session_id, TimePoint now);
  // Marks up routers silent for suspect_after intervals suspect, brings back dampened suspects
  // that are heard and reusable, withdraws routers silent for hold_time and forgets dead state;
  // first pauses every silence clock if this call comes stall_gap or more after the previous one.
  // Returns how many withdrew.
  std::size_t expire(TimePoint now);
  // Sessions of up routers that expire() found silent for suspect_after intervals since the last
  // call, each once per silence: probe them (a dead agent's host refuses the probe).
  [[nodiscard]] std::vector<std::uint64_t> take_silent();
  // The liveness transitions since the last call, oldest first (at most kMaxLivenessEvents;
  // `dropped` says how many more there were).
  static constexpr std::size_t kMaxLivenessEvents = 64;
  [[nodiscard]] std::vector<LivenessEvent> take_liveness_events(std::size_t& dropped);
  // The current detect time of a router (suspect_after intervals stretched by its jitter).
  [[nodiscard]] Duration detect_time(const RouterId& key) const;
  // Withdraws, at once, the up routers whose registration was made with a certificate whose
  // serial is in `serials` (a CRL revoked it). Returns how many withdrew.
  std::size_t withdraw_revoked(const std::set<crypto::SerialNumber>& serials, TimePoint now);

  // The routers that changed since the last call (each once), as they are now. Lets consumers
  // follow the registry by what changed instead of re-reading every router.
  [[nodiscard]] std::vector<RouterChange> take_changes();

  // Routers currently up, sorted.
  [[nodiscard]] std::vector<RouterId> up_routers() const;
  // The same with their announced RTTs (which change only per rtt_change_worth_announcing) and the
  // evidence of their current registration.
  [[nodiscard]] std::vector<UpRouter> up_routers_with_rtt() const;
  [[nodiscard]] std::vector<RouterStatus> status(TimePoint now);
  // Bumped whenever the set of up routers changes.
  [[nodiscard]] std::uint64_t version() const noexcept { return version_; }
  // Bumped whenever an up router's announced RTT changes.
  [[nodiscard]] std::uint64_t rtt_version() const noexcept { return rtt_version_; }
  [[nodiscard]] const RegistryConfig& config() const noexcept { return config_; }
  [[nodiscard]] const LivenessCounters& liveness() const noexcept { return liveness_; }

 private:
  struct Router {
    RouterState state = RouterState::kWithdrawn;
    std::uint64_t session_id = 0;
    std::uint64_t last_timestamp_us = 0;
    TimePoint registered_at{};
    TimePoint last_heard{};
    TimePoint withdrawn_at{};
    Dampening dampening;
    std::uint32_t flaps = 0;
    Duration lateness{};                 // smoothed keepalive lateness (beyond one interval)
    bool probed = false;                 // offered for a probe in this silence
    std::uint32_t rtt_us = 0;            // last reported
    std::uint32_t announced_rtt_us = 0;  // last announced
    RegistrationEvidence evidence;       // of the current session (kUp only)
  };
  void withdraw(const RouterId& key, Router& r, TimePoint now);
  void leave_forwarding(const RouterId& key, Router& r, TimePoint now);
  void enter_forwarding(const RouterId& key, Router& r);
  void forgive_stall(TimePoint now);
  void observe_gap(Router& r, TimePoint now);
  [[nodiscard]] Duration detect_time(const Router& r) const;
  void end_session(Router& r);
  [[nodiscard]] std::size_t up_for_provider(ProviderId provider) const;

  RegistryConfig config_;
  std::map<RouterId, Router, ByProvider> routers_;
  std::unordered_map<std::uint64_t, Session> sessions_;
  std::unordered_map<std::uint32_t, std::uint64_t> key_ids_;  // key_id -> session id
  std::size_t up_count_ = 0;
  std::set<RouterId, ByProvider> touched_;  // changed since take_changes()
  std::uint64_t version_ = 0;
  std::uint64_t rtt_version_ = 0;
  std::optional<TimePoint> last_expire_;
  std::vector<std::uint64_t> silent_;  // for take_silent()
  std::vector<LivenessEvent> events_;  // for take_liveness_events()
  std::size_t events_dropped_ = 0;
  void note(const RouterId& key, LivenessEvent::Kind kind, Duration silent, const Router& r);
  LivenessCounters liveness_;
};

}  // namespace dmux::registry

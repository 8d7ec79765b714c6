// Router failure from the path's own signal (docs/protocol.md 9.9): when nothing listens at a
// router's port any more, its host answers our TUNNELs with ICMP port unreachable quoting them.
// That quote is evidence only if it quotes a datagram this gateway sent to a router registered
// here, so it is checked against the registry (our gateway_id, the router's live key_id, its
// address as destination and as reporter, a counter above the last one acted on, and the tag when
// the whole TUNNEL is quoted; a quote of a GSO batch holds several, and the first is checked).
// Evidence makes the router suspect, never removes it: we then send it a probe, a KEEPALIVE_ACK
// carrying a fresh 64-bit random counter that no agent ever sent (agents ignore it, 9.5). Only an
// ICMP port unreachable from the router's host quoting that probe, within probe_timeout, confirms
// the death and withdraws the router. So a forger must see our probe to remove a router; an
// off-path one can at most make us send probes, one per router per probe_gap.
//
// Pure logic: the caller reads the raw ICMP socket and sends the probes; time is passed in.
// Control thread only; everything here takes untrusted bytes and is noexcept.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <span>
#include <string_view>
#include <unordered_map>

#include "common/net/endpoint.h"
#include "common/util/enum_count.h"
#include "common/wire/registration.h"
#include "registry/icmp_quote.h"
#include "registry/router_registry.h"

namespace dmux::registry {

struct FeedbackConfig {
  wire::GatewayId gateway_id;       // ours: quoted TUNNELs must carry it
  std::uint32_t tunnel_source = 0;  // quoted datagrams must come from it (host order; 0 = any)
  std::chrono::milliseconds probe_timeout{250};  // a probe unanswered this long: suspicion ends
  std::chrono::milliseconds probe_gap{100};      // at most one probe per router per gap
};

enum class FeedbackResult : std::uint8_t {
  kIgnored,        // some other ICMP, or not about a datagram of ours (normal traffic)
  kMalformed,      // a port unreachable that does not parse
  kUnknownRouter,  // quotes a TUNNEL that is not ours to a live session (forged, or old)
  kWrongReporter,  // the ICMP does not come from the router's address
  kBadTag,         // the whole TUNNEL is quoted and its tag is wrong (forged)
  kStale,          // counter not above the last one acted on (replayed)
  kProbeLimited,   // evidence, but a probe to this router is outstanding or recent
  kProbe,          // evidence: send the probe
  kUnknownProbe,   // quotes a probe we have not outstanding, or with the wrong counter
  kConfirmed,      // the router's host refused our probe: the router was withdrawn
  kCount_,
};
inline constexpr std::size_t kFeedbackResults = util::kCount<FeedbackResult>;
std::string_view to_string(FeedbackResult r) noexcept;

struct FeedbackCounters {
  std::array<std::uint64_t, kFeedbackResults> by_result{};
  std::uint64_t tag_verified = 0;   // evidence from a whole quoted TUNNEL whose tag verified
  std::uint64_t tag_unchecked = 0;  // evidence from a cut quote (large datagram): no tag to check
  std::uint64_t probes_expired = 0;
  std::uint64_t silence_probes = 0;  // probes sent to routers silent for suspect_after intervals
};

class RouterFeedback {
 public:
  struct Probe {
    net::Endpoint to;
    std::array<std::byte, wire::kKeepaliveAckLen> bytes{};
  };
  // `random` gives probe counters (crypto::random_u64 in the gateway; fixed in tests).
  using Random = std::uint64_t (*)();
  RouterFeedback(const FeedbackConfig& config, RouterRegistry& registry, Random random);

  // One packet from the raw ICMP socket. On kProbe, `probe` holds what to send, to whom.
  FeedbackResult on_icmp(std::span<const std::byte> packet, TimePoint now, Probe& probe) noexcept;
  // A router silent for suspect_after keepalive intervals (RouterRegistry::take_silent): the
  // same probe as after evidence, within the same limits. kProbe (then `probe` holds it),
  // kProbeLimited, or kUnknownRouter if the session is gone.
  FeedbackResult on_silent(std::uint64_t session_id, TimePoint now, Probe& probe) noexcept;
  // Ends probes unanswered for probe_timeout and forgets routers whose session ended.
  void expire(TimePoint now) noexcept;

  [[nodiscard]] const FeedbackCounters& counters() const noexcept { return counters_; }

 private:
  struct Suspicion {
    std::uint64_t last_counter = 0;  // TUNNEL counter last acted on
    std::uint64_t nonce = 0;         // of the outstanding probe; 0 = none
    TimePoint probed_at{};
  };
  FeedbackResult on_tunnel_quote(const PortUnreachable& pu, TimePoint now, Probe& probe) noexcept;
  FeedbackResult on_probe_quote(const PortUnreachable& pu, TimePoint now) noexcept;
  FeedbackResult make_probe(const Session& s, Suspicion& sus, TimePoint now, Probe& probe);
  bool tag_ok(std::span<const std::byte> quoted, const wire::TunnelHeader& h,
              const RegistrationEvidence& ev) noexcept;
  FeedbackResult count(FeedbackResult r) noexcept;

  FeedbackConfig config_;
  RouterRegistry& registry_;
  Random random_;
  std::unordered_map<std::uint64_t, Suspicion> suspicions_;  // by session id; live sessions only
  std::array<std::byte, 576> scratch_{};  // a quoted TUNNEL, to zero its tag field
  FeedbackCounters counters_;
};

}  // namespace dmux::registry

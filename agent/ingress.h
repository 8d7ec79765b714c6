// What every router agent (dmux-provider, dmux-mcast, an SDK) does with a datagram from a gateway
// before its protocol's own work, and the rules every RETURN it sends obeys:
//
//  - TunnelReceiver: docs/protocol.md 5.3 steps 1-5 (keys, replay windows, the tag);
//  - step 6's shared part: the protocol we serve (unsupported_protocol), provider 0 or ours
//    (wrong_provider);
//  - control messages (CTRL, section 15): a TOKEN_REQUEST is answered with a TOKEN_OFFER RETURN
//    (52 bytes for an 84-byte request, 120 bytes of TUNNEL) carrying the client's rt, to the
//    client address the gateway saw if the destination filter allows it, within a global rate;
//    anything else is dropped (unknown_control, bad_control);
//  - return tokens (6.2): proven() checks a TUNNEL's token is the rt of its client, rt() is the
//    token of every RETURN; may_send() is the destination filter every RETURN passes.
//
// Everything it is given is untrusted. Single-threaded (the agent's event loop). on_datagram(),
// proven(), may_send() and rt() are the data path: noexcept, no allocation.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "agent/counters.h"
#include "agent/destination_filter.h"
#include "agent/rate_limiter.h"
#include "agent/return_tokens.h"
#include "agent/tunnel_receiver.h"
#include "common/net/endpoint.h"
#include "common/wire/shim.h"

namespace dmux::agent {

struct IngressConfig {
  wire::ProtoId proto_id{};        // the protocol served; rt and RETURNs are for it
  wire::ProviderId provider_id{};  // ours (from the certificate); never 0
  TunnelReceiverConfig receiver{};
  std::vector<net::Ipv4Prefix> allowed_destinations;  // special-purpose ranges the operator opens
  std::uint32_t offer_refresh_s = 25;  // TOKEN_OFFER refresh_s: below common NAT timeouts
  double offers_per_second = 10000;    // TOKEN_OFFERs, all clients together
  double offer_burst = 1000;
};

// A datagram the agent answers with itself (a TOKEN_OFFER here; the provider's address offer).
// Caller-owned and reused: nothing is allocated per answer.
struct Reply {
  static constexpr std::size_t kCapacity = 128;
  std::array<std::byte, kCapacity> bytes{};
  std::size_t size = 0;  // 0: nothing to send
  net::Endpoint to;
  [[nodiscard]] std::span<const std::byte> view() const noexcept {
    return std::span<const std::byte>(bytes).first(size);
  }
};

class Ingress {
 public:
  enum class Verdict : std::uint8_t {
    kDropped,  // counted by reason
    kReply,    // answered: send `reply`
    kPacket,   // an authenticated TUNNEL of our protocol for us: `h` and `payload` are valid
  };

  // Throws std::invalid_argument for an unusable config, std::bad_alloc.
  Ingress(const IngressConfig& config, const crypto::ReturnKey& return_key,
          const std::optional<crypto::TunnelKeyBytes>& static_key = std::nullopt);

  // A datagram from the listen socket that is not a registration reply; `from` is its source
  // (for the log only: with anycast, TUNNELs are not filtered by source).
  Verdict on_datagram(std::span<std::byte> datagram, const net::Endpoint& from, MonoTime now,
                      wire::TunnelHeader& h, std::span<const std::byte>& payload,
                      Reply& reply) noexcept;

  // The TUNNEL's token is the rt of its client_ipv4:client_port; else counted as unproven.
  bool proven(const wire::TunnelHeader& h) noexcept;
  // A RETURN may go to ipv4:port; else counted as forbidden_destination.
  bool may_send(std::uint32_t ipv4, std::uint16_t port) noexcept;
  // The token of every RETURN to that client.
  [[nodiscard]] std::uint64_t rt(std::uint32_t ipv4, std::uint16_t port) const noexcept {
    return tokens_.rt(config_.proto_id, ipv4, port);
  }
  void drop(IngressDrop reason) noexcept { counters_.drop(reason); }

  // Where the agent's registration clients put their tunnel keys.
  [[nodiscard]] TunnelKeySink& key_sink() noexcept { return receiver_; }
  void expire(MonoTime now) noexcept { receiver_.expire(now); }

  [[nodiscard]] const IngressConfig& config() const noexcept { return config_; }
  [[nodiscard]] const ReturnTokens& tokens() const noexcept { return tokens_; }
  [[nodiscard]] const DestinationFilter& destinations() const noexcept { return filter_; }
  [[nodiscard]] const TunnelReceiver& receiver() const noexcept { return receiver_; }
  [[nodiscard]] const IngressCounters& counters() const noexcept { return counters_; }

 private:
  Verdict answer_control(const wire::TunnelHeader& h, std::span<const std::byte> payload,
                         MonoTime now, Reply& reply) noexcept;
  void note_old_version(const net::Endpoint& from, MonoTime now) noexcept;
  Verdict refuse(IngressDrop reason) noexcept {
    counters_.drop(reason);
    return Verdict::kDropped;
  }

  IngressConfig config_;
  TunnelReceiver receiver_;
  ReturnTokens tokens_;
  DestinationFilter filter_;
  RateLimiter offer_rate_;
  IngressCounters counters_;
  std::optional<MonoTime> last_version_log_;
};

}  // namespace dmux::agent

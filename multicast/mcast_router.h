// The reference multicast overlay router as pure logic, without sockets (McastApp does the I/O):
//
//  - TUNNEL from a gateway (protocol.md 5) is dropped before any work unless it passes 5.3
//    (agent::Ingress: key, replay window, tag); a TOKEN_REQUEST is answered with a TOKEN_OFFER;
//    anything else is acted on only if it comes from a proven client (token = the rt of its
//    client_ipv4:client_port, 14.1; else `unproven`) whose address RETURNs may go to.
//  - Such a TUNNEL carrying an IPv4 packet to 224.0.0.0/4: IGMP reports and leaves update the
//    local membership (soft state, capped per client address); a group data packet is delivered
//    as a RETURN to every local member except its sender, each with its own rt, and forwarded once
//    (GROUP_DATA) to every live peer router that has members of the group.
//  - GROUP_DATA from a peer: delivered to local members only, never forwarded again (one hop in
//    a full mesh: no loops).
//  - SUMMARY from a peer: its members. A client is a member at one router only: the router that
//    heard its most recent report keeps it, the other drops it (docs/multicast.md).
//  - Timers: membership expiry, IGMP general queries to members (through RETURN, so unmodified
//    hosts refresh), summaries to peers, peer death and the adoption of a dead peer's members.
//
// Everything it is given is untrusted. Single-threaded; never reads a clock (callers pass Now).
// The data path (TUNNEL with group data, GROUP_DATA) never throws and allocates nothing itself
// (the HMAC of forwarded packets is OpenSSL's one-shot HMAC).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "agent/ingress.h"
#include "common/net/endpoint.h"
#include "common/util/clock.h"
#include "common/wire/shim.h"
#include "multicast/counters.h"
#include "multicast/igmp.h"
#include "multicast/membership.h"
#include "multicast/peers.h"

namespace dmux::multicast {

using util::Now;  // unix_us: for the freshness of peer messages

struct RouterConfig {
  net::Endpoint self;              // our listen address:port: registered, and our peer identity
  wire::ProviderId provider_id{};  // from the certificate; in RETURNs and peer messages
  MembershipConfig membership;
  std::chrono::milliseconds query_interval{125000};  // IGMP general queries to every member
  std::uint8_t query_response_ds = 100;              // max response time in queries (1/10 s)
  std::vector<net::Endpoint> peers;                  // the provider's other routers (full mesh)
  std::chrono::milliseconds summary_interval{1000};  // SUMMARY to every peer
  std::chrono::milliseconds peer_dead_after{3500};   // a peer silent this long is dead
  std::chrono::milliseconds max_clock_skew{30000};   // peer messages' sent_us vs our clock
  std::chrono::milliseconds move_tolerance{500};     // reports closer than this tie (lower id wins)
  std::size_t summary_part_bytes = 8192;             // largest SUMMARY datagram
  agent::IngressConfig ingress{};  // receiver, offers, allowed destinations (proto, provider set)
};

// The sockets, as the router needs them. Both return false if the send failed.
class Transport {
 public:
  virtual ~Transport() = default;
  // A RETURN: `header` (20 bytes) then `packet`, to the member's address and port.
  virtual bool send_return(const Member& to, std::span<const std::byte> header,
                           std::span<const std::byte> packet) noexcept = 0;
  virtual bool send_peer(const net::Endpoint& to, std::span<const std::byte> message) noexcept = 0;
};

class McastRouter {
 public:
  // `key` is the peer key (derive_peer_key), `return_key` the provider's K_r (6.2), `static_key`
  // the tunnel key of a static router (key_id 0). Throws only if the config is unusable.
  McastRouter(const RouterConfig& config, const PeerKey& key, const crypto::ReturnKey& return_key,
              const std::optional<crypto::TunnelKeyBytes>& static_key, Transport& transport,
              Now now);

  // A datagram on the listen socket that is neither a registration reply nor a peer message, from
  // `from`. Its tag field is zeroed and restored while it is checked.
  void on_tunnel(std::span<std::byte> datagram, const net::Endpoint& from, const Now& now) noexcept;
  // A datagram of type SUMMARY or GROUP_DATA.
  void on_peer_message(std::span<const std::byte> datagram, const Now& now) noexcept;
  // Does what is due at `now`; call again at next_deadline().
  void on_timer(const Now& now);
  [[nodiscard]] MonoTime next_deadline() const noexcept;

  [[nodiscard]] const RouterCounters& counters() const noexcept { return counters_; }
  [[nodiscard]] const Membership& membership() const noexcept { return membership_; }
  [[nodiscard]] const PeerSet& peers() const noexcept { return peers_; }
  [[nodiscard]] const RouterConfig& config() const noexcept { return config_; }
  [[nodiscard]] const agent::Ingress& ingress() const noexcept { return ingress_; }
  // Where the router's registration client puts its tunnel keys.
  [[nodiscard]] agent::TunnelKeySink& key_sink() noexcept { return ingress_.key_sink(); }
  void failed(Drop reason) noexcept { counters_.drop(reason); }

 private:
  void on_igmp(const Member& from, std::span<const std::byte> igmp, bool fragment,
               const Now& now) noexcept;
  void on_group_data(std::span<const std::byte> body, const Now& now) noexcept;
  void on_summary(Peer& peer, const PeerHeader& h, std::span<const std::byte> body, const Now& now);
  // Sends `packet` (to `group`) to every local member but `sender`; returns how many.
  std::size_t deliver_local(std::uint32_t group, const Member& sender,
                            std::span<const std::byte> packet) noexcept;
  std::size_t forward_to_peers(std::uint32_t group, const Member& sender,
                               std::span<const std::byte> packet, const Now& now) noexcept;
  void reconcile(const Peer& peer);
  void adopt(Peer& dead, const Now& now);
  [[nodiscard]] bool adopter_is_self(const Peer& dead, std::uint32_t client_ipv4) const noexcept;
  // A RETURN of `packet` with the member's rt, if the destination filter allows it.
  bool send_to_member(const Member& to, std::span<const std::byte> packet) noexcept;
  void send_reply() noexcept;
  void send_query(const Member& to) noexcept;
  void send_summaries(const Now& now);
  void trigger_summary(const Now& now) noexcept;
  PeerHeader header_for(wire::PeerType type, const Now& now) noexcept;

  RouterConfig config_;
  PeerKey key_;
  agent::Ingress ingress_;
  Transport& transport_;
  Membership membership_;
  PeerSet peers_;
  RouterCounters counters_;
  std::uint64_t next_seq_;
  std::array<GroupChange, 256> changes_{};
  std::array<std::byte, kQueryPacketLen> query_{};
  std::vector<std::byte> out_;  // one peer message (GROUP_DATA or SUMMARY part)
  agent::Reply reply_;          // a TOKEN_OFFER

  MonoTime next_expiry_{};
  MonoTime next_query_{};
  MonoTime next_summary_{};
  MonoTime last_summary_{};
};

// The rendezvous rule of gateways (protocol.md section 8), which McastRouter uses to pick the one
// router that adopts a dead peer's client: normally the one the client's traffic moves to.
std::uint64_t rendezvous_score(const net::Endpoint& router, wire::ProviderId provider_id,
                               std::uint32_t client_ipv4) noexcept;

}  // namespace dmux::multicast

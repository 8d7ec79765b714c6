// Counters of dmux-mcast's data path and exchange. Everything runs on one thread (the event
// loop), so these are plain integers, read by the control socket on the same thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/metrics/counter_list.h"

namespace dmux::multicast {

// What dmux-mcast itself drops, besides what agent::Ingress drops and counts (docs/protocol.md
// 5.3, 15: tunnel, key, tag, replay, protocol, provider, control, destination and proof checks).
enum class Drop : std::uint8_t {
  // Authenticated TUNNELs from proven clients (gateway -> router), in the order they are checked.
  kBadPacket = 0,   // payload is not one whole IPv4 packet with a correct header checksum
  kNotMulticast,    // destination outside 224.0.0.0/4
  kBadIgmp,         // IGMP truncated, malformed, bad checksum, or fragmented
  kLinkLocalGroup,  // non-IGMP packet to 224.0.0.0/24: never forwarded
  kSendFailed,      // sendmsg of a RETURN or a peer message failed
  // Peer messages (router -> router), in the order they are checked.
  kPeerTruncated,
  kPeerMalformed,
  kPeerUnsupportedVersion,
  kPeerUnknown,  // sender is not a configured --peer
  kPeerWrongProvider,
  kPeerBadMac,
  kPeerStale,  // sent_us further than 30 s from our clock
  kPeerReplayed,
  kPeerBadPacket,  // GROUP_DATA whose packet is not a whole IPv4 packet to a routable group
  kCount_,
};
inline constexpr std::size_t kDropReasons = static_cast<std::size_t>(Drop::kCount_);
std::string_view to_string(Drop d) noexcept;

struct RouterCounters {
  std::uint64_t tunnels_received = 0;
  std::uint64_t tunnel_bytes_received = 0;
  std::uint64_t igmp_messages = 0;       // IGMP messages acted on (reports and leaves)
  std::uint64_t igmp_ignored = 0;        // valid IGMP a router does not act on (queries)
  std::uint64_t ignored_groups = 0;      // IGMP records for non-routable groups (224.0.0.0/24)
  std::uint64_t group_packets = 0;       // multicast data packets from our clients
  std::uint64_t no_receivers = 0;        // ... that reached no member and no peer
  std::uint64_t delivered = 0;           // RETURNs with group data sent to members
  std::uint64_t delivered_bytes = 0;     // IPv4 bytes in them
  std::uint64_t forwarded = 0;           // GROUP_DATA sent to peers
  std::uint64_t from_peers = 0;          // GROUP_DATA accepted from peers
  std::uint64_t queries_sent = 0;        // IGMP general queries sent to clients
  std::uint64_t summaries_sent = 0;      // SUMMARY parts sent (all peers)
  std::uint64_t summaries_received = 0;  // complete summaries from peers
  std::uint64_t moved_to_peer = 0;       // clients dropped because a peer heard them more recently
  std::uint64_t adopted = 0;             // clients taken over from a dead peer
  std::uint64_t peer_deaths = 0;
  std::uint64_t summary_overflow = 0;  // clients left out of a summary (over 255 parts)
  std::array<std::uint64_t, kDropReasons> drops{};

  void drop(Drop d) noexcept { ++drops[static_cast<std::size_t>(d)]; }
  [[nodiscard]] std::uint64_t dropped(Drop d) const noexcept {
    return drops[static_cast<std::size_t>(d)];
  }
};

// Each counter's status-JSON field and Prometheus counter, if exported (status_json.cpp,
// metrics_exporter.cpp).
inline constexpr metrics::CounterField<RouterCounters> kRouterCounters[] = {
    {"tunnels_received", "dmux_mcast_tunnels_received_total", "TUNNEL datagrams received",
     &RouterCounters::tunnels_received},
    {"tunnel_bytes_received", nullptr, nullptr, &RouterCounters::tunnel_bytes_received},
    {"igmp_messages", "dmux_mcast_igmp_messages_total", "IGMP reports and leaves acted on",
     &RouterCounters::igmp_messages},
    {"igmp_ignored", nullptr, nullptr, &RouterCounters::igmp_ignored},
    {"ignored_groups", nullptr, nullptr, &RouterCounters::ignored_groups},
    {"group_packets", "dmux_mcast_group_packets_total",
     "Multicast data packets from this router's clients", &RouterCounters::group_packets},
    {"no_receivers", "dmux_mcast_no_receivers_total",
     "Group packets that reached no member and no peer", &RouterCounters::no_receivers},
    {"delivered", "dmux_mcast_delivered_packets_total", "RETURNs with group data sent to members",
     &RouterCounters::delivered},
    {"delivered_bytes", "dmux_mcast_delivered_bytes_total", "IPv4 bytes in those RETURNs",
     &RouterCounters::delivered_bytes},
    {"forwarded", "dmux_mcast_forwarded_to_peers_total", "GROUP_DATA sent to peer routers",
     &RouterCounters::forwarded},
    {"from_peers", "dmux_mcast_from_peers_total", "GROUP_DATA accepted from peer routers",
     &RouterCounters::from_peers},
    {"queries_sent", nullptr, nullptr, &RouterCounters::queries_sent},
    {"summaries_sent", nullptr, nullptr, &RouterCounters::summaries_sent},
    {"summaries_received", nullptr, nullptr, &RouterCounters::summaries_received},
    {"moved_to_peer", nullptr, nullptr, &RouterCounters::moved_to_peer},
    {"adopted", nullptr, nullptr, &RouterCounters::adopted},
    {"peer_deaths", "dmux_mcast_peer_deaths_total", "Peers declared dead (members adopted)",
     &RouterCounters::peer_deaths},
    {"summary_overflow", nullptr, nullptr, &RouterCounters::summary_overflow},
};

}  // namespace dmux::multicast

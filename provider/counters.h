// Data-path counters of dmux-provider. Everything runs on one thread (the event loop), so these
// are plain integers: the data path writes them, the control socket reads them on the same thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/metrics/counter_list.h"

namespace dmux::provider {

// What dmux-provider itself drops, besides what agent::Ingress drops and counts (docs/protocol.md
// 5.3, 15: tunnel, key, tag, replay, protocol, provider, control, destination and proof checks).
enum class Drop : std::uint8_t {
  // Authenticated TUNNELs of ours (gateway -> agent), in the order they are checked.
  kBadPacket = 0,  // payload is not one whole IPv6 packet
  kSpoofedSource,  // IPv6 source outside the prefix or not embedding the TUNNEL's address:port
  kTunWriteFailed,
  // Packets read from the TUN device (router -> clients).
  kTunBadPacket,         // not one whole IPv6 packet
  kMulticast,            // to ff00::/8: the kernel's own MLD reports (a few at start)
  kOutsideClientPrefix,  // destination not in --client-prefix
  kSendFailed,           // sendmsg of a RETURN or an answer failed
  kCount_,
};
inline constexpr std::size_t kDropReasons = static_cast<std::size_t>(Drop::kCount_);
std::string_view to_string(Drop d) noexcept;

struct DataPathCounters {
  std::uint64_t tunnels_received = 0;  // datagrams on the listen socket, not registration replies
  std::uint64_t tunnel_bytes_received = 0;
  std::uint64_t delivered_to_tun = 0;  // IPv6 packets written to the TUN device
  std::uint64_t delivered_bytes = 0;
  std::uint64_t tun_packets_read = 0;        // packets the kernel routed into the TUN device
  std::uint64_t returned = 0;                // RETURN datagrams sent to clients
  std::uint64_t returned_bytes = 0;          // IPv6 bytes in them (headers excluded)
  std::uint64_t solicitations_answered = 0;  // address offers (RA in RETURN) sent to clients
  std::array<std::uint64_t, kDropReasons> drops{};

  void drop(Drop d) noexcept { ++drops[static_cast<std::size_t>(d)]; }
  [[nodiscard]] std::uint64_t dropped(Drop d) const noexcept {
    return drops[static_cast<std::size_t>(d)];
  }
};

// Each counter's status-JSON field and Prometheus counter (status_json.cpp, metrics_exporter.cpp).
inline constexpr metrics::CounterField<DataPathCounters> kDataPathCounters[] = {
    {"tunnels_received", "dmux_provider_tunnels_received_total",
     "Datagrams on the listen socket that are not registration replies",
     &DataPathCounters::tunnels_received},
    {"tunnel_bytes_received", "dmux_provider_tunnel_bytes_received_total",
     "Bytes of those datagrams", &DataPathCounters::tunnel_bytes_received},
    {"delivered_to_tun", "dmux_provider_delivered_packets_total",
     "IPv6 packets written to the TUN device", &DataPathCounters::delivered_to_tun},
    {"delivered_bytes", "dmux_provider_delivered_bytes_total", "Bytes of those packets",
     &DataPathCounters::delivered_bytes},
    {"tun_packets_read", "dmux_provider_tun_packets_read_total",
     "Packets the kernel routed into the TUN device", &DataPathCounters::tun_packets_read},
    {"returned", "dmux_provider_returned_packets_total", "RETURN datagrams sent to clients",
     &DataPathCounters::returned},
    {"returned_bytes", "dmux_provider_returned_bytes_total", "IPv6 bytes in those RETURNs",
     &DataPathCounters::returned_bytes},
    {"solicitations_answered", "dmux_provider_solicitations_answered_total",
     "Address offers (router advertisements) sent to clients",
     &DataPathCounters::solicitations_answered},
};

}  // namespace dmux::provider

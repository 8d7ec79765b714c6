// Data-path counters of dmux-client. One thread (the event loop) writes and reads them, so they
// are plain integers; the status command and the metrics adapter read them on that thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/metrics/counter_list.h"

namespace dmux::client {

enum class Drop : std::uint8_t {
  // Captured packets (host -> tunnel).
  kUnselected = 0,  // read from the TUN device but of no selector (link-local, other kinds)
  kNoToken,         // the protocol has no return token yet: passed uncaptured (fail-open)
  kNoAddress,       // IPv6 before the provider offered an address
  kStaleSource,     // IPv6 from an address that is not (or no longer) ours
  kOversize,        // longer than the TUN MTU (never expected: the kernel fragments)
  kBadPacket,       // not a whole IP packet of the selector's family
  kSendFailed,      // sendmmsg to the gateway failed
  // RETURN datagrams (router -> host), in the order they are checked.
  kTruncated,
  kMalformed,
  kUnsupportedVersion,
  kUnexpectedType,
  kUnknownProtocol,  // a proto_id we do not capture
  kBadToken,         // not our current/previous return token (CTRL: not an outstanding nonce)
  kBadOffer,         // CTRL with the right nonce but not a well-formed TOKEN_OFFER
  kBadReturnPacket,  // payload not a whole packet of the protocol
  kNotForUs,         // not addressed to the host, or not what the selector captures
  kBadAdvert,        // an RA we cannot use
  kTunWriteFailed,
  kCount_,
};
inline constexpr std::size_t kDropReasons = static_cast<std::size_t>(Drop::kCount_);
std::string_view to_string(Drop d) noexcept;

struct DataPathCounters {
  std::uint64_t captured = 0;  // packets read from the TUN device
  std::uint64_t captured_bytes = 0;
  std::uint64_t tunnelled = 0;        // DATA datagrams sent (send_failed ones too)
  std::uint64_t tunnelled_bytes = 0;  // IPvN bytes in them
  std::uint64_t returns = 0;          // datagrams on the tunnel socket
  std::uint64_t injected = 0;         // packets written into the TUN device (tun_write_failed too)
  std::uint64_t injected_bytes = 0;
  std::uint64_t adverts = 0;  // address offers consumed
  std::array<std::uint64_t, kDropReasons> drops{};

  void drop(Drop d, std::uint64_t packets = 1) noexcept {
    drops[static_cast<std::size_t>(d)] += packets;
  }
  [[nodiscard]] std::uint64_t dropped(Drop d) const noexcept {
    return drops[static_cast<std::size_t>(d)];
  }
};

// Each counter's status-JSON field and Prometheus counter, if exported (status_json.cpp,
// metrics_exporter.cpp).
inline constexpr metrics::CounterField<DataPathCounters> kDataPathCounters[] = {
    {"captured", "dmux_client_captured_packets_total", "Packets read from the TUN device",
     &DataPathCounters::captured},
    {"captured_bytes", "dmux_client_captured_bytes_total", "Bytes of the captured packets",
     &DataPathCounters::captured_bytes},
    {"tunnelled", "dmux_client_tunnelled_packets_total", "DATA datagrams sent to the gateway",
     &DataPathCounters::tunnelled},
    {"tunnelled_bytes", "dmux_client_tunnelled_bytes_total", "IPvN bytes tunnelled",
     &DataPathCounters::tunnelled_bytes},
    {"returns_received", "dmux_client_returns_total", "Datagrams received on the tunnel socket",
     &DataPathCounters::returns},
    {"injected", "dmux_client_injected_packets_total", "Packets injected into the host stack",
     &DataPathCounters::injected},
    {"injected_bytes", "dmux_client_injected_bytes_total", "Bytes injected into the host stack",
     &DataPathCounters::injected_bytes},
    {"address_offers", nullptr, nullptr, &DataPathCounters::adverts},
};

}  // namespace dmux::client

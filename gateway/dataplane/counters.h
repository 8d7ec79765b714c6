// Data-path counters. Each worker owns one DataPathCounters and is its only writer; the control
// thread and the metrics adapter read them (relaxed) and sum over workers. No locks, no RMW ops.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "common/metrics/counter_list.h"
#include "common/net/endpoint.h"
#include "common/wire/protocols.h"

namespace dmux::gateway {

enum class DropReason : std::uint8_t {
  kTruncated = 0,
  kMalformed,
  kUnsupportedVersion,
  kUnexpectedType,
  kUnknownProtocol,
  kNoRouter,
  kOversize,
  kSendFailed,
  kCount_,
};
inline constexpr std::size_t kDropReasons = static_cast<std::size_t>(DropReason::kCount_);
std::string_view to_string(DropReason r) noexcept;

// A counter with a single writer thread: plain load+store, no locked instruction.
class SingleWriterCounter {
 public:
  void add(std::uint64_t n = 1) noexcept {
    v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  [[nodiscard]] std::uint64_t get() const noexcept { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> v_{0};
};

// A sender of a protocol version this gateway does not speak (docs/protocol.md 2.1).
struct OldVersionSender {
  net::Endpoint from;
  std::uint8_t version = 0;  // the datagram's first byte
};

// The newest OldVersionSender, packed into one relaxed atomic so that the worker (its only writer)
// records it with a plain store and the control thread can name it in a log line.
class OldVersionNote {
 public:
  void set(const OldVersionSender& s) noexcept {
    v_.store(kPresent | (std::uint64_t{s.from.addr} << 24) | (std::uint64_t{s.from.port} << 8) |
                 s.version,
             std::memory_order_relaxed);
  }
  [[nodiscard]] std::optional<OldVersionSender> get() const noexcept {
    const std::uint64_t v = v_.load(std::memory_order_relaxed);
    if ((v & kPresent) == 0) return std::nullopt;
    return OldVersionSender{
        {static_cast<std::uint32_t>(v >> 24), static_cast<std::uint16_t>(v >> 8)},
        static_cast<std::uint8_t>(v)};
  }

 private:
  static constexpr std::uint64_t kPresent = std::uint64_t{1} << 56;
  std::atomic<std::uint64_t> v_{0};
};

struct alignas(64) DataPathCounters {
  // Indexed by wire::protocol_slot(); slot 0 is "other" (unassigned ids and unparsable datagrams).
  std::array<SingleWriterCounter, wire::kProtocolSlots> rx_packets;
  std::array<SingleWriterCounter, wire::kProtocolSlots> rx_bytes;
  std::array<SingleWriterCounter, wire::kProtocolSlots> tx_packets;
  std::array<SingleWriterCounter, wire::kProtocolSlots> tx_bytes;
  std::array<SingleWriterCounter, kDropReasons> drops;
  SingleWriterCounter rx_batches;        // recvmmsg calls that returned data
  SingleWriterCounter socket_overflows;  // datagrams the kernel dropped: receive buffer full
  SingleWriterCounter table_updates;     // table snapshots this worker picked up
  OldVersionNote old_version_sender;     // the newest DATA dropped as unsupported_version
};

// A plain copy of the sum over workers, for status and metrics.
struct CounterTotals {
  std::array<std::uint64_t, wire::kProtocolSlots> rx_packets{};
  std::array<std::uint64_t, wire::kProtocolSlots> rx_bytes{};
  std::array<std::uint64_t, wire::kProtocolSlots> tx_packets{};
  std::array<std::uint64_t, wire::kProtocolSlots> tx_bytes{};
  std::array<std::uint64_t, kDropReasons> drops{};
  std::uint64_t rx_batches = 0;
  std::uint64_t socket_overflows = 0;
  std::optional<OldVersionSender> old_version_sender;  // from any worker that saw one

  void add(const DataPathCounters& c) noexcept;
};

// Each counter's status-JSON field and Prometheus counter (status_json.cpp, metrics_exporter.cpp):
// the per-protocol ones appear in each "protocols" entry and as families labelled {protocol}.
using PerProtocol = std::array<std::uint64_t, wire::kProtocolSlots>;
inline constexpr metrics::CounterField<CounterTotals, PerProtocol> kPerProtocolCounters[] = {
    {"received_packets", "dmux_gateway_received_packets_total",
     "DATA datagrams received from clients, by shim protocol (other = unassigned or unparsable)",
     &CounterTotals::rx_packets},
    {"received_bytes", "dmux_gateway_received_bytes_total",
     "UDP payload bytes received from clients", &CounterTotals::rx_bytes},
    {"forwarded_packets", "dmux_gateway_forwarded_packets_total",
     "TUNNEL datagrams sent to routers", &CounterTotals::tx_packets},
    {"forwarded_bytes", "dmux_gateway_forwarded_bytes_total", "UDP payload bytes sent to routers",
     &CounterTotals::tx_bytes},
};
inline constexpr metrics::CounterField<CounterTotals> kCounters[] = {
    {"receive_buffer_dropped_packets", "dmux_gateway_receive_buffer_dropped_packets_total",
     "Datagrams the kernel dropped before dmuxd read them (socket receive buffer full); not "
     "included in received_packets",
     &CounterTotals::socket_overflows},
};

}  // namespace dmux::gateway

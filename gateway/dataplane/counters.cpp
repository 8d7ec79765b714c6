#include "gateway/dataplane/counters.h"

namespace dmux::gateway {

std::string_view to_string(DropReason r) noexcept {
  switch (r) {
    case DropReason::kTruncated:
      return "truncated";
    case DropReason::kMalformed:
      return "malformed";
    case DropReason::kUnsupportedVersion:
      return "unsupported_version";
    case DropReason::kUnexpectedType:
      return "unexpected_type";
    case DropReason::kUnknownProtocol:
      return "unknown_protocol";
    case DropReason::kNoRouter:
      return "no_router";
    case DropReason::kOversize:
      return "oversize";
    case DropReason::kSendFailed:
      return "send_failed";
    case DropReason::kCount_:
      break;
  }
  return "unknown";
}

void CounterTotals::add(const DataPathCounters& c) noexcept {
  for (std::size_t i = 0; i < wire::kProtocolSlots; ++i) {
    rx_packets[i] += c.rx_packets[i].get();
    rx_bytes[i] += c.rx_bytes[i].get();
    tx_packets[i] += c.tx_packets[i].get();
    tx_bytes[i] += c.tx_bytes[i].get();
  }
  for (std::size_t i = 0; i < kDropReasons; ++i) drops[i] += c.drops[i].get();
  rx_batches += c.rx_batches.get();
  socket_overflows += c.socket_overflows.get();
  if (auto s = c.old_version_sender.get()) old_version_sender = s;
}

}  // namespace dmux::gateway

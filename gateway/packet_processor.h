// The per-datagram decision of the gateway: parse a client's DATA datagram, choose a router, and
// write the TUNNEL header. Pure function of its inputs: no I/O, no allocation, no exception.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "common/net/endpoint.h"
#include "common/wire/shim.h"
#include "gateway/counters.h"
#include "gateway/forwarding_table.h"

namespace dmux::gateway {

struct ForwardAction {
  net::Endpoint router;                // where to send
  std::size_t header_len = 0;          // TUNNEL header bytes written into the caller's buffer
  std::span<const std::byte> payload;  // the IPvN packet, inside the received datagram
  std::uint16_t proto_id = 0;
};

struct ProcessorContext {
  const ForwardingTable* table = nullptr;
  std::uint32_t gateway_id = 0;
};

// Returns true and fills `action` (and `tunnel_header`) to forward; returns false and sets `drop`
// to drop. `proto_id` is set whenever the shim parsed, for per-protocol counters.
bool process_datagram(std::span<const std::byte> datagram, const net::Endpoint& client,
                      const ProcessorContext& ctx,
                      std::span<std::byte, wire::kTunnelHeaderLen> tunnel_header,
                      ForwardAction& action, DropReason& drop, std::uint16_t& proto_id) noexcept;

}  // namespace dmux::gateway

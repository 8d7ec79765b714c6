// The per-datagram decision of the gateway: parse a client's DATA datagram, choose a router, and
// turn the datagram into that router's sealed TUNNEL in place. Pure function of its inputs: no
// I/O, no allocation, no exception.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "common/net/endpoint.h"
#include "common/wire/shim.h"
#include "gateway/dataplane/counters.h"
#include "gateway/dataplane/forwarding_table.h"

namespace dmux::gateway {

// Free bytes a receive slot keeps in front of the DATA datagram, so that the TUNNEL header (36
// bytes longer than a DATA header without options) fits right before the payload.
inline constexpr std::size_t kTunnelHeadroom = wire::kTunnelHeaderLen - wire::kDataHeaderLen;

struct ForwardAction {
  net::Endpoint router;               // where to send
  std::span<const std::byte> tunnel;  // the sealed TUNNEL datagram, inside the caller's slot
  wire::ProtoId proto_id;
};

struct ProcessorContext {
  const ForwardingTable* table = nullptr;
  wire::GatewayId gateway_id;  // first half of every tag's nonce
};

// `slot` holds a received DATA datagram (untrusted) of `datagram_len` bytes at offset
// kTunnelHeadroom. To forward, returns true: the TUNNEL header is written over the headroom and
// the DATA header, in front of the payload (which does not move), the whole datagram is sealed
// with the chosen router's key under the nonce (ctx.gateway_id, counter), and `action.tunnel`
// views it inside `slot`. To drop, returns false and sets `drop`. `proto_id` is set whenever the
// DATA header parsed, for per-protocol counters. The caller never uses `counter` twice.
bool process_datagram(std::span<std::byte> slot, std::size_t datagram_len,
                      const net::Endpoint& client, const ProcessorContext& ctx,
                      std::uint64_t counter, ForwardAction& action, DropReason& drop,
                      wire::ProtoId& proto_id) noexcept;

}  // namespace dmux::gateway

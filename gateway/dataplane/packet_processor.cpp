#include "gateway/dataplane/packet_processor.h"

#include "common/wire/tunnel_seal.h"

namespace dmux::gateway {
namespace {

DropReason to_drop(wire::ParseStatus s) noexcept {
  switch (s) {
    case wire::ParseStatus::kTruncated:
      return DropReason::kTruncated;
    case wire::ParseStatus::kUnsupportedVersion:
      return DropReason::kUnsupportedVersion;
    case wire::ParseStatus::kUnexpectedType:
      return DropReason::kUnexpectedType;
    case wire::ParseStatus::kMalformed:
    case wire::ParseStatus::kOk:
      break;
  }
  return DropReason::kMalformed;
}

DropReason to_drop(SelectStatus s) noexcept {
  return s == SelectStatus::kNoRouter ? DropReason::kNoRouter : DropReason::kUnknownProtocol;
}

}  // namespace

bool process_datagram(std::span<std::byte> slot, std::size_t datagram_len,
                      const net::Endpoint& client, const ProcessorContext& ctx,
                      std::uint64_t counter, ForwardAction& action, DropReason& drop,
                      wire::ProtoId& proto_id) noexcept {
  if (slot.size() < kTunnelHeadroom || slot.size() - kTunnelHeadroom < datagram_len) {
    drop = DropReason::kOversize;  // the caller's slot cannot hold it: never true in dmuxd
    return false;
  }
  wire::ShimHeader shim;
  std::span<const std::byte> payload;
  const auto status = wire::parse_shim(slot.subspan(kTunnelHeadroom, datagram_len),
                                       wire::MsgType::kData, shim, payload);
  if (status != wire::ParseStatus::kOk) {
    drop = to_drop(status);
    return false;
  }
  proto_id = shim.proto_id;

  RouterTarget router;
  const auto selected = ctx.table->select(shim.proto_id, shim.provider_id, client.addr, router);
  if (selected != SelectStatus::kOk) {
    drop = to_drop(selected);
    return false;
  }

  // The payload ends the datagram, so the DATA header (options included) is what precedes it.
  const std::size_t data_header_len = datagram_len - payload.size();
  const std::size_t start = kTunnelHeadroom + data_header_len - wire::kTunnelHeaderLen;
  const auto tunnel = slot.subspan(start, wire::kTunnelHeaderLen + payload.size());
  const wire::TunnelHeader th{
      .flags = shim.flags,
      .proto_id = shim.proto_id,
      .provider_id = shim.provider_id,
      .client_ipv4 = client.addr,
      .client_port = client.port,
      .gateway_id = ctx.gateway_id,
      .token = shim.token,
      .key_id = router.key_id,
      .counter = counter,
  };
  wire::write_tunnel(tunnel, th);
  wire::seal_tunnel(tunnel, ctx.gateway_id, counter, *router.key);
  action.router = router.address;
  action.tunnel = tunnel;
  action.proto_id = shim.proto_id;
  return true;
}

}  // namespace dmux::gateway

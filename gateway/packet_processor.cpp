#include "gateway/packet_processor.h"

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

}  // namespace

bool process_datagram(std::span<const std::byte> datagram, const net::Endpoint& client,
                      const ProcessorContext& ctx,
                      std::span<std::byte, wire::kTunnelHeaderLen> tunnel_header,
                      ForwardAction& action, DropReason& drop, std::uint16_t& proto_id) noexcept {
  wire::ShimHeader shim;
  std::span<const std::byte> payload;
  const auto status = wire::parse_shim(datagram, wire::MsgType::kData, shim, payload);
  if (status != wire::ParseStatus::kOk) {
    drop = to_drop(status);
    return false;
  }
  proto_id = shim.proto_id;

  net::Endpoint router;
  switch (ctx.table->select(shim.proto_id, shim.provider_id, client.addr, router)) {
    case SelectStatus::kOk:
      break;
    case SelectStatus::kUnknownProtocol:
      drop = DropReason::kUnknownProtocol;
      return false;
    case SelectStatus::kNoRouter:
      drop = DropReason::kNoRouter;
      return false;
  }

  const wire::TunnelHeader th{
      .flags = shim.flags,
      .proto_id = shim.proto_id,
      .provider_id = shim.provider_id,
      .client_ipv4 = client.addr,
      .client_port = client.port,
      .gateway_id = ctx.gateway_id,
      .token = shim.token,
  };
  action.header_len = wire::write_tunnel(tunnel_header, th);
  action.router = router;
  action.payload = payload;
  action.proto_id = shim.proto_id;
  return true;
}

}  // namespace dmux::gateway

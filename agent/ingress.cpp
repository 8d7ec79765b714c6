#include "agent/ingress.h"

#include <arpa/inet.h>

#include <stdexcept>

#include "common/util/log.h"
#include "common/wire/client_control.h"
#include "common/wire/protocols.h"

namespace dmux::agent {
namespace {

constexpr std::chrono::minutes kVersionLogInterval{1};

}  // namespace

Ingress::Ingress(const IngressConfig& config, const crypto::ReturnKey& return_key,
                 const std::optional<crypto::TunnelKeyBytes>& static_key)
    : config_(config),
      receiver_(config.receiver, static_key),
      tokens_(return_key, config.provider_id),
      filter_(config.allowed_destinations),
      offer_rate_(config.offers_per_second, config.offer_burst) {
  if (config_.provider_id == wire::ProviderId{0})
    throw std::invalid_argument("provider id must not be 0");
  if (!wire::protocol_id_usable(config_.proto_id))
    throw std::invalid_argument("protocol id must not be 0 or 0xffff");
}

Ingress::Verdict Ingress::on_datagram(std::span<std::byte> datagram, const net::Endpoint& from,
                                      MonoTime now, wire::TunnelHeader& h,
                                      std::span<const std::byte>& payload, Reply& reply) noexcept {
  reply.size = 0;
  const std::uint64_t old_versions = receiver_.counters().dropped(TunnelDrop::kUnsupportedVersion);
  if (!receiver_.open(datagram, now, h, payload)) {
    if (receiver_.counters().dropped(TunnelDrop::kUnsupportedVersion) != old_versions)
      note_old_version(from, now);
    return Verdict::kDropped;
  }
  if (h.proto_id != config_.proto_id) return refuse(IngressDrop::kUnsupportedProtocol);
  if (h.provider_id != wire::kAnyProvider && h.provider_id != config_.provider_id)
    return refuse(IngressDrop::kWrongProvider);
  if ((h.flags & wire::kFlagControl) != 0) return answer_control(h, payload, now, reply);
  return Verdict::kPacket;
}

// TOKEN_REQUEST: cheapest checks first (type, exact length, destination), the global rate last so
// that refused requests do not spend it.
Ingress::Verdict Ingress::answer_control(const wire::TunnelHeader& h,
                                         std::span<const std::byte> payload, MonoTime now,
                                         Reply& reply) noexcept {
  wire::ControlType type{};
  if (wire::peek_control_type(payload, type) != wire::ParseStatus::kOk ||
      type != wire::ControlType::kTokenRequest) {
    return refuse(IngressDrop::kUnknownControl);
  }
  if (wire::parse_token_request(payload) != wire::ParseStatus::kOk)
    return refuse(IngressDrop::kBadControl);
  if (!may_send(h.client_ipv4, h.client_port)) return Verdict::kDropped;
  if (!offer_rate_.allow(now)) return refuse(IngressDrop::kRateLimited);
  const wire::ShimHeader ret{.flags = wire::kFlagControl,
                             .proto_id = config_.proto_id,
                             .provider_id = config_.provider_id,
                             .token = h.token};  // the request's nonce
  const wire::TokenOffer offer{.return_token = rt(h.client_ipv4, h.client_port),
                               .client_ipv4 = h.client_ipv4,
                               .client_port = h.client_port,
                               .refresh_s = config_.offer_refresh_s};
  const std::span<std::byte> out(reply.bytes);
  const std::size_t head = wire::write_shim(out, wire::MsgType::kReturn, ret);
  const std::size_t body = wire::write_token_offer(out.subspan(head), offer);
  reply.size = head + body;
  reply.to = net::Endpoint{h.client_ipv4, h.client_port};
  ++counters_.token_offers;
  return Verdict::kReply;
}

bool Ingress::proven(const wire::TunnelHeader& h) noexcept {
  if (tokens_.proven(config_.proto_id, h.client_ipv4, h.client_port, h.token)) return true;
  counters_.drop(IngressDrop::kUnproven);
  return false;
}

bool Ingress::may_send(std::uint32_t ipv4, std::uint16_t port) noexcept {
  if (filter_.allows(ipv4, port)) return true;
  counters_.drop(IngressDrop::kForbiddenDestination);
  return false;
}

void Ingress::note_old_version(const net::Endpoint& from, MonoTime now) noexcept {
  if (last_version_log_ && now - *last_version_log_ < kVersionLogInterval) return;
  last_version_log_ = now;
  const in_addr a{htonl(from.addr)};
  char text[INET_ADDRSTRLEN] = "?";
  ::inet_ntop(AF_INET, &a, text, sizeof text);
  LOG_WARN(
      "dropping datagrams of another protocol version from %s:%u (this agent speaks "
      "version %u; upgrade the sender)",
      text, unsigned{from.port}, unsigned{wire::kVersion});
}

}  // namespace dmux::agent

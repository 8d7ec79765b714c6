// The Router's RETURNs (docs/protocol.md 6): a 20-byte header with the client's return token in
// front of each payload, only to addresses the destination filter allows. A batch to one client
// goes through common/net/udp_gso.h's UdpSendBatch: equal-size RETURNs as one UDP GSO send, with
// its fallback to one send each where the kernel refuses. Data path: noexcept, nothing allocated.
#include <sys/socket.h>
#include <sys/uio.h>

#include "common/wire/shim.h"
#include "sdk/router_impl.h"

namespace ipdmux::sdk {
inline namespace v1 {

static_assert(dmux::wire::kReturnHeaderLen == 20);

std::array<std::byte, 20> Router::Impl::return_header(const Client& to) const noexcept {
  std::array<std::byte, dmux::wire::kReturnHeaderLen> header{};
  const dmux::wire::ShimHeader h{.flags = 0,
                                 .proto_id = dmux::wire::ProtoId{options.proto_id},
                                 .provider_id = credentials.provider_id(),
                                 .token = ingress.rt(to.ipv4, to.port)};
  dmux::wire::write_shim(header, dmux::wire::MsgType::kReturn, h);
  return header;
}

bool Router::Impl::send_return(const Client& to, std::span<const std::byte> payload) noexcept {
  if (!ingress.may_send(to.ipv4, to.port)) return false;  // counted as forbidden_destination
  std::array<std::byte, 20> header = return_header(to);
  sockaddr_in sa = dmux::net::Endpoint{to.ipv4, to.port}.to_sockaddr();
  iovec iov[2] = {{header.data(), header.size()},
                  {const_cast<std::byte*>(payload.data()), payload.size()}};
  msghdr msg{};
  msg.msg_name = &sa;
  msg.msg_namelen = sizeof sa;
  msg.msg_iov = iov;
  msg.msg_iovlen = 2;
  if (::sendmsg(socket.get(), &msg, 0) < 0) {
    ++counters.return_failures;
    return false;
  }
  ++counters.returns;
  counters.return_bytes += payload.size();
  return true;
}

std::size_t Router::Impl::send_batch(
    const Client& to, std::span<const std::span<const std::byte>> payloads) noexcept {
  if (payloads.empty() || !ingress.may_send(to.ipv4, to.port)) return 0;
  const std::array<std::byte, 20> header = return_header(to);
  const dmux::net::Endpoint ep{to.ipv4, to.port};
  std::size_t bytes = 0;
  for (const auto& p : payloads) {
    if (!batch_.add(ep, header, p)) break;  // larger than the batch: the rest is not sent
    bytes += p.size();
  }
  const std::uint64_t gso_before = batch_.counters().gso_sends;
  const std::size_t sent = batch_.flush();
  counters.gso_sends += batch_.counters().gso_sends - gso_before;
  counters.returns += sent;
  counters.return_bytes += sent == payloads.size() ? bytes : 0;
  counters.return_failures += payloads.size() - sent;
  return sent;
}

}  // namespace v1
}  // namespace ipdmux::sdk

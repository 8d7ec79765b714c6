#include "tools/loadgen/echoer.h"

#include <sys/socket.h>

#include <cerrno>
#include <system_error>

#include "common/net/udp_socket.h"
#include "tools/loadgen/pacer.h"
#include "tools/loadgen/stop_signal.h"

namespace dmux::loadgen {
namespace {

// How often a blocked receive wakes to check the clock (signals interrupt it at once anyway).
constexpr auto kWakeEvery = std::chrono::milliseconds(100);

}  // namespace

Echoer::Echoer(const EchoConfig& config)
    : config_(config),
      fd_(net::open_udp_socket(config.listen, {.reuse_port = false, .nonblocking = false})),
      rx_(65536) {
  timeval tv{};
  tv.tv_usec = static_cast<suseconds_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(kWakeEvery).count());
  if (::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0) {
    throw std::system_error(errno, std::generic_category(), "SO_RCVTIMEO");
  }
}

void Echoer::echo_tunnel(std::span<const std::byte> datagram, EchoReport& report) noexcept {
  wire::TunnelHeader t;
  std::span<const std::byte> payload;
  if (wire::parse_tunnel(datagram, t, payload) != wire::ParseStatus::kOk) {
    ++report.invalid;
    return;
  }
  const wire::ShimHeader r{
      .flags = t.flags, .proto_id = t.proto_id, .provider_id = t.provider_id, .token = t.token};
  const std::size_t hlen = wire::write_shim(return_header_, wire::MsgType::kReturn, r);
  sockaddr_in to = net::Endpoint{t.client_ipv4, t.client_port}.to_sockaddr();
  iovec iov[2] = {{return_header_.data(), hlen},
                  {const_cast<std::byte*>(payload.data()), payload.size()}};
  msghdr msg{};
  msg.msg_name = &to;
  msg.msg_namelen = sizeof to;
  msg.msg_iov = iov;
  msg.msg_iovlen = 2;
  if (::sendmsg(fd_.get(), &msg, 0) < 0) {
    ++report.send_errors;
  } else {
    ++report.echoed;
  }
}

void Echoer::echo_raw(std::span<const std::byte> datagram, const sockaddr_in& from,
                      EchoReport& report) noexcept {
  if (::sendto(fd_.get(), datagram.data(), datagram.size(), 0,
               reinterpret_cast<const sockaddr*>(&from), sizeof from) < 0) {
    ++report.send_errors;
  } else {
    ++report.echoed;
  }
}

EchoReport Echoer::run() noexcept {
  EchoReport report;
  const auto start = Clock::now();
  while (!stop_requested()) {
    if (config_.duration.count() > 0 && Clock::now() - start >= config_.duration) break;
    sockaddr_in from{};
    socklen_t from_len = sizeof from;
    const ssize_t n = ::recvfrom(fd_.get(), rx_.data(), rx_.size(), 0,
                                 reinterpret_cast<sockaddr*>(&from), &from_len);
    if (n < 0) continue;  // timeout tick, EINTR, or an ICMP error: re-check and wait again
    ++report.received;
    const std::span<const std::byte> datagram(rx_.data(), static_cast<std::size_t>(n));
    if (config_.mode == EchoMode::kTunnel) {
      echo_tunnel(datagram, report);
    } else {
      echo_raw(datagram, from, report);
    }
  }
  return report;
}

}  // namespace dmux::loadgen

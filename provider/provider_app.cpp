#include "provider/provider_app.h"

#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <ctime>

#include "common/net/udp_socket.h"
#include "common/util/log.h"
#include "common/util/wall_clock.h"
#include "common/wire/protocols.h"
#include "common/wire/registration.h"
#include "provider/control_reply.h"
#include "provider/status_json.h"

namespace dmux::provider {
namespace {

constexpr std::size_t kMaxDatagram = 65536;
constexpr int kBudgetPerWakeup = 64;  // datagrams or packets handled before yielding to the loop
constexpr int kSocketBufferBytes = 4 << 20;

using util::unix_time_s;

Instant now() noexcept { return Instant{std::chrono::steady_clock::now(), util::unix_time_us()}; }

}  // namespace

ProviderApp::ProviderApp(ProviderConfig config, Credentials credentials)
    : config_(std::move(config)),
      credentials_(std::move(credentials)),
      start_time_(unix_time_s()),
      socket_(net::open_udp_socket(config_.listen,
                                   net::UdpSocketOptions{.reuse_port = false,
                                                         .nonblocking = true,
                                                         .rcvbuf_bytes = kSocketBufferBytes,
                                                         .sndbuf_bytes = kSocketBufferBytes})),
      tun_(config_.tun_name, net::TunOptions{.mtu = config_.tun_mtu, .disable_gso = false}),
      route_(config_.client_prefix, tun_.ifindex()),
      path_(
          PacketPathConfig{.client_prefix = config_.client_prefix,
                           .provider_id = credentials_.info.provider_id,
                           .offer_mtu = static_cast<std::uint32_t>(config_.tun_mtu),
                           .ingress = agent::IngressConfig{.allowed_destinations =
                                                               config_.agent.allowed_destinations}},
          credentials_.agent.return_key, credentials_.agent.static_tunnel_key),
      socket_buffer_(kMaxDatagram),
      tun_buffer_(kMaxDatagram),
      timer_(loop_, [this] { on_timer(); }) {
  for (const std::uint16_t proto : config_.protocols) {
    const RegistrationConfig rc{.proto_id = proto,
                                .provider_id = credentials_.info.provider_id,
                                .router_ipv4 = config_.listen.addr,
                                .router_port = config_.listen.port,
                                .gateway = config_.gateway};
    registrations_.push_back(
        std::make_unique<RegistrationClient>(rc, credentials_.key, credentials_.certificate_der,
                                             static_cast<GatewayLink&>(*this), &path_.key_sink()));
  }
  socket_watcher_ =
      std::make_unique<evloop::IoWatcher>(loop_, socket_.get(), [this] { on_socket_readable(); });
  tun_watcher_ =
      std::make_unique<evloop::IoWatcher>(loop_, tun_.fd(), [this] { on_tun_readable(); });
  for (const int signo : {SIGTERM, SIGINT}) {
    signals_.push_back(std::make_unique<evloop::SignalWatcher>(
        loop_, signo, [this, signo] { shutdown(signo == SIGTERM ? "SIGTERM" : "SIGINT"); }));
  }
  if (!config_.control_socket.empty()) {
    control_ = std::make_unique<control::ControlServer>(
        loop_, config_.control_socket,
        [this](std::string_view cmd) { return handle_command(cmd); });
  }
}

ProviderApp::~ProviderApp() = default;

void ProviderApp::run() {
  LOG_INFO("dmux-provider up: provider %u, listen %s, gateway %s, %s (mtu %d) carries %s%s%s",
           credentials_.info.provider_id, config_.listen.to_string().c_str(),
           config_.gateway.to_string().c_str(), tun_.name().c_str(), config_.tun_mtu,
           to_string(config_.client_prefix).c_str(),
           config_.control_socket.empty() ? "" : ", control ", config_.control_socket.c_str());
  const Instant t = now();
  for (auto& r : registrations_) r->start(t);
  rearm_timer();
  loop_.run();
  const DataPathCounters& c = path_.counters();
  LOG_INFO("dmux-provider stopped: %llu tunnels received, %llu delivered, %llu returned",
           static_cast<unsigned long long>(c.tunnels_received),
           static_cast<unsigned long long>(c.delivered_to_tun),
           static_cast<unsigned long long>(c.returned));
}

void ProviderApp::shutdown(const char* why) noexcept {
  LOG_INFO("%s: deregistering and shutting down", why);
  for (auto& r : registrations_) r->stop();
  loop_.stop();
}

void ProviderApp::send(std::span<const std::byte> message) noexcept {
  const sockaddr_in to = config_.gateway.to_sockaddr();
  if (::sendto(socket_.get(), message.data(), message.size(), 0,
               reinterpret_cast<const sockaddr*>(&to), sizeof to) < 0) {
    LOG_DEBUG("send to gateway %s failed: %s", config_.gateway.to_string().c_str(),
              std::strerror(errno));
  }
}

void ProviderApp::on_socket_readable() noexcept {
  for (int i = 0; i < kBudgetPerWakeup; ++i) {
    sockaddr_in from{};
    socklen_t from_len = sizeof from;
    const ssize_t n = ::recvfrom(socket_.get(), socket_buffer_.data(), socket_buffer_.size(), 0,
                                 reinterpret_cast<sockaddr*>(&from), &from_len);
    if (n < 0) return;  // EAGAIN (drained) or a transient error: wait for the next wakeup
    const std::span<std::byte> datagram(socket_buffer_.data(), static_cast<std::size_t>(n));
    // Registration replies share the socket with TUNNEL (the gateway answers where REGISTER came
    // from). The type byte decides; the receiver (5.3) validates everything else.
    wire::MsgType type{};
    const auto raw_type = wire::peek_type(datagram, type) == wire::ParseStatus::kOk
                              ? static_cast<std::uint8_t>(type)
                              : std::uint8_t{0};
    if (is_registration_reply(raw_type)) {
      on_control_reply(datagram, raw_type);
    } else {
      on_tunnel(datagram, net::Endpoint::from_sockaddr(from));
    }
  }
}

void ProviderApp::on_tunnel(std::span<std::byte> datagram, const net::Endpoint& from) noexcept {
  const std::span<const std::byte> packet =
      path_.on_tunnel(datagram, from, std::chrono::steady_clock::now(), reply_);
  if (reply_.size != 0) return send_reply();
  if (packet.empty()) return;
  const ssize_t n = ::write(tun_.fd(), packet.data(), packet.size());
  if (n == static_cast<ssize_t>(packet.size())) {
    path_.delivered_to_tun(packet.size());
  } else {
    path_.failed(Drop::kTunWriteFailed);
  }
}

// A TOKEN_OFFER or an address offer; the destination passed the filter.
void ProviderApp::send_reply() noexcept {
  const sockaddr_in to = reply_.to.to_sockaddr();
  if (::sendto(socket_.get(), reply_.bytes.data(), reply_.size, 0,
               reinterpret_cast<const sockaddr*>(&to), sizeof to) < 0) {
    path_.failed(Drop::kSendFailed);
  }
}

void ProviderApp::on_tun_readable() noexcept {
  for (int i = 0; i < kBudgetPerWakeup; ++i) {
    const ssize_t n = ::read(tun_.fd(), tun_buffer_.data(), tun_buffer_.size());
    if (n <= 0) return;
    on_tun_packet(std::span<const std::byte>(tun_buffer_.data(), static_cast<std::size_t>(n)));
  }
}

void ProviderApp::on_tun_packet(std::span<const std::byte> packet) noexcept {
  std::array<std::byte, wire::kReturnHeaderLen> header{};
  net::Endpoint client;
  if (!path_.on_tun_packet(packet, header, client)) return;
  sockaddr_in to = client.to_sockaddr();
  iovec iov[2] = {{header.data(), header.size()},
                  {const_cast<std::byte*>(packet.data()), packet.size()}};
  msghdr msg{};
  msg.msg_name = &to;
  msg.msg_namelen = sizeof to;
  msg.msg_iov = iov;
  msg.msg_iovlen = 2;
  if (::sendmsg(socket_.get(), &msg, 0) < 0) {
    path_.failed(Drop::kSendFailed);
  } else {
    path_.returned(packet.size());
  }
}

void ProviderApp::on_control_reply(std::span<const std::byte> datagram,
                                   std::uint8_t type) noexcept {
  dispatch_control_reply(datagram, type, registrations_, now(), control_replies_);
  rearm_timer();
}

void ProviderApp::on_timer() noexcept {
  try {
    const Instant t = now();
    for (auto& r : registrations_) r->on_timer(t);
    path_.expire(t.mono);
  } catch (const std::exception& e) {
    LOG_ERROR("registration timer: %s", e.what());
  }
  rearm_timer();
}

void ProviderApp::rearm_timer() noexcept {
  MonoTime next = MonoTime::max();
  for (const auto& r : registrations_) next = std::min(next, r->next_deadline());
  if (next == MonoTime::max()) {
    timer_.cancel();
    return;
  }
  const auto wait = std::chrono::duration_cast<std::chrono::microseconds>(
      next - std::chrono::steady_clock::now());
  try {
    timer_.start_once(std::max(wait, std::chrono::microseconds(0)));
  } catch (const std::exception& e) {  // libevent out of memory: nothing sensible left to do
    LOG_ERROR("cannot arm the registration timer: %s; stopping", e.what());
    loop_.stop();
  }
}

std::string ProviderApp::handle_command(std::string_view command) {
  if (command == "status") {
    return status_json(StatusView{.config = config_,
                                  .provider_id = credentials_.info.provider_id,
                                  .tun_name = tun_.name(),
                                  .uptime_seconds = unix_time_s() - start_time_,
                                  .counters = path_.counters(),
                                  .ingress = path_.ingress(),
                                  .now = std::chrono::steady_clock::now(),
                                  .control_replies = control_replies_,
                                  .registrations = registrations_});
  }
  return R"({"error":"unknown command; try status"})";
}

}  // namespace dmux::provider

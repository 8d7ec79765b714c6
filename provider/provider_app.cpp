#include "provider/provider_app.h"

#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>

#include "agent/control_reply.h"
#include "common/net/l4_packet.h"
#include "common/net/mss_clamp.h"
#include "common/net/tso.h"
#include "common/net/udp_socket.h"
#include "common/net/virtio_hdr.h"
#include "common/util/log.h"
#include "common/util/wall_clock.h"
#include "common/wire/protocols.h"
#include "common/wire/registration.h"
#include "provider/status_json.h"

namespace dmux::provider {
namespace {

constexpr int kBudgetPerWakeup = 64;  // receive()s or TUN reads handled before yielding
constexpr int kSocketBufferBytes = 4 << 20;
constexpr std::size_t kTunReadBytes = net::kVirtioNetHdrLen + net::kMaxIpPacket;
// Room one TUN read needs in the RETURN batch: every segment gets a RETURN header and its own
// copy of the IPv6 + TCP headers (at most 40 + 60).
constexpr std::size_t kMaxSegmentHeaders = 100;
constexpr std::size_t kMaxSegments = 128;
constexpr std::size_t kReturnRoom =
    net::segment_room(net::kMaxIpPacket, kMaxSegmentHeaders, kMaxSegments, wire::kReturnHeaderLen);

}  // namespace

ProviderApp::ProviderApp(ProviderConfig config, Credentials credentials, const util::Clock& clock)
    : clock_(clock),
      config_(std::move(config)),
      credentials_(std::move(credentials)),
      start_time_(clock_.now().unix_seconds()),
      socket_(net::open_udp_socket(config_.listen,
                                   net::UdpSocketOptions{.reuse_port = false,
                                                         .nonblocking = true,
                                                         .rcvbuf_bytes = kSocketBufferBytes,
                                                         .sndbuf_bytes = kSocketBufferBytes})),
      tun_(config_.tun_name,
           net::TunOptions{
               .mtu = config_.tun_mtu, .disable_gso = false, .vnet_hdr = true, .offload = true}),
      route_(config_.client_prefix, tun_.ifindex()),
      path_(
          PacketPathConfig{.client_prefix = config_.client_prefix,
                           .provider_id = credentials_.provider_id(),
                           .offer_mtu = static_cast<std::uint32_t>(config_.tun_mtu),
                           .ingress = agent::IngressConfig{.allowed_destinations =
                                                               config_.agent.allowed_destinations}},
          credentials_.agent.return_key, credentials_.agent.static_tunnel_key),
      receiver_(socket_.get(), net::UdpReceiveConfig{}),
      to_tun_(net::GroConfig{.coalesce_udp = tun_.uso()}),
      returns_(socket_.get(), net::UdpSendBatchConfig{.max_bytes = 4 * kReturnRoom,
                                                      .max_datagrams = 4 * kMaxSegments}),
      tun_buffer_(kTunReadBytes),
      timer_(loop_, [this] { on_timer(); }) {
  for (const std::uint16_t proto : config_.protocols) {
    const agent::RegistrationConfig rc{.proto_id = wire::ProtoId{proto},
                                       .provider_id = credentials_.provider_id(),
                                       .router_ipv4 = config_.listen.addr,
                                       .router_port = config_.listen.port,
                                       .gateway = config_.gateway};
    registrations_.push_back(std::make_unique<agent::RegistrationClient>(
        rc, credentials_.key, credentials_.certificate_der, static_cast<agent::GatewayLink&>(*this),
        &path_.key_sink()));
  }
  socket_watcher_ =
      std::make_unique<evloop::IoWatcher>(loop_, socket_.get(), [this] { on_socket_readable(); });
  tun_watcher_ =
      std::make_unique<evloop::IoWatcher>(loop_, tun_.fd(), [this] { on_tun_readable(); });
  signals_ = std::make_unique<app::StopSignals>(
      loop_, [this](int signo) { shutdown(app::signal_name(signo)); });
  control_ = app::control_socket(loop_, config_.control_socket, config_.control_group,
                                 [this](std::string_view cmd) { return handle_command(cmd); });
  if (config_.metrics_listen) {
    metrics_ = std::make_unique<MetricsExporter>(*config_.metrics_listen);
    metrics_timer_ = app::now_and_every_second(loop_, [this] { publish_metrics(); });
  }
}

ProviderApp::~ProviderApp() = default;

void ProviderApp::run() {
  LOG_INFO("dmux-provider up: provider %u, listen %s, gateway %s, %s (mtu %d) carries %s%s%s",
           credentials_.info.provider_id, config_.listen.to_string().c_str(),
           config_.gateway.to_string().c_str(), tun_.name().c_str(), config_.tun_mtu,
           to_string(config_.client_prefix).c_str(),
           config_.control_socket.empty() ? "" : ", control ", config_.control_socket.c_str());
  const util::Now t = clock_.now();
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

// Each receive() is one burst: its packets are coalesced and written to the TUN device before the
// next receive() reuses the buffers they live in.
void ProviderApp::on_socket_readable() noexcept {
  for (int i = 0; i < kBudgetPerWakeup; ++i) {
    const std::size_t n = receiver_.receive();
    if (n == 0) return;  // EAGAIN (drained) or a transient error: wait for the next wakeup
    const agent::MonoTime now = clock_.now().mono;  // one reading per burst, not per datagram
    for (std::size_t k = 0; k < n; ++k) {
      const std::span<std::byte> datagram = receiver_.datagram(k);
      // Registration replies share the socket with TUNNEL (the gateway answers where REGISTER
      // came from). The type byte decides; the receiver (5.3) validates everything else.
      wire::MsgType type{};
      const auto raw_type = wire::peek_type(datagram, type) == wire::ParseStatus::kOk
                                ? static_cast<std::uint8_t>(type)
                                : std::uint8_t{0};
      if (agent::is_registration_reply(raw_type)) {
        on_control_reply(datagram, raw_type);
      } else {
        on_tunnel(datagram, receiver_.from(k), now);
      }
    }
    flush_to_tun();
    if (receiver_.drained()) return;  // no recvmmsg just to learn EAGAIN
  }
}

void ProviderApp::on_tunnel(std::span<std::byte> datagram, const net::Endpoint& from,
                            agent::MonoTime now) noexcept {
  const std::span<const std::byte> packet = path_.on_tunnel(datagram, from, now, reply_);
  if (reply_.size != 0) return send_reply();
  if (packet.empty()) return;
  // A client's SYN: the server must not send segments larger than the tunnel carries.
  net::clamp_tcp_mss(
      datagram.subspan(static_cast<std::size_t>(packet.data() - datagram.data()), packet.size()),
      static_cast<std::size_t>(config_.tun_mtu));
  if (!to_tun_.add(packet)) {
    flush_to_tun();
    if (!to_tun_.add(packet)) path_.failed(Drop::kTunWriteFailed);  // empty or too long
  }
}

// One writev per coalesced packet (a virtio_net_hdr first: the device has IFF_VNET_HDR), its
// payloads straight from the receive buffers.
void ProviderApp::flush_to_tun() noexcept {
  if (to_tun_.empty()) return;
  for (const net::GroWrite& w : to_tun_.flush()) {
    const ssize_t n = ::writev(tun_.fd(), w.pieces.data(), static_cast<int>(w.pieces.size()));
    if (n == static_cast<ssize_t>(w.size)) {
      path_.delivered_to_tun(w.packets, w.bytes);
    } else {
      for (std::uint32_t k = 0; k < w.packets; ++k) path_.failed(Drop::kTunWriteFailed);
    }
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

// The RETURNs of a burst of TUN reads leave together, in UDP GSO runs, when the burst ends.
void ProviderApp::on_tun_readable() noexcept {
  for (int i = 0; i < kBudgetPerWakeup; ++i) {
    const ssize_t n = ::read(tun_.fd(), tun_buffer_.data(), tun_buffer_.size());
    if (n <= 0) break;
    on_tun_read(std::span<const std::byte>(tun_buffer_.data(), static_cast<std::size_t>(n)));
  }
  const net::UdpSendCounters before = returns_.counters();
  returns_.flush();
  const std::uint64_t lost = returns_.counters().send_failures - before.send_failures;
  for (std::uint64_t k = 0; k < lost; ++k) path_.failed(Drop::kSendFailed);
}

// One read: a virtio_net_hdr and an IPv6 packet, maybe a TCP super-packet of up to 64 KiB. It is
// cut into packets of at most the TUN MTU, each behind room for the RETURN header; the first one
// decides (all share the destination), and every one gets the same header.
void ProviderApp::on_tun_read(std::span<const std::byte> bytes) noexcept {
  net::VirtioNetHdr vh;
  if (net::parse_virtio_hdr(bytes, vh) != net::VirtioStatus::kOk) {
    path_.failed(Drop::kTunBadPacket);
    return;
  }
  const std::span<const std::byte> packet = bytes.subspan(net::kVirtioNetHdrLen);
  const std::span<std::byte> room = returns_.reserve(kReturnRoom, kMaxSegments);
  net::SegmentLayout layout;
  if (net::segment_packet(vh, packet, static_cast<std::size_t>(config_.tun_mtu),
                          wire::kReturnHeaderLen, room, layout) != net::TsoStatus::kOk) {
    path_.failed(Drop::kTunBadPacket);
    return;
  }
  const std::span<std::byte> first = layout.packet(room, wire::kReturnHeaderLen, 0);
  net::clamp_tcp_mss(first, static_cast<std::size_t>(config_.tun_mtu));  // a SYN-ACK, say
  net::Endpoint client;
  if (!path_.on_tun_packet(first, room.first(wire::kReturnHeaderLen), client)) return;
  for (std::size_t i = 1; i < layout.count; ++i) {
    std::memcpy(room.data() + i * layout.datagram_len, room.data(), wire::kReturnHeaderLen);
  }
  returns_.commit(client, layout.count, layout.datagram_len, layout.last_len);
  for (std::size_t i = 0; i < layout.count; ++i) {
    path_.returned(layout.packet(room, wire::kReturnHeaderLen, i).size());
  }
}

void ProviderApp::on_control_reply(std::span<const std::byte> datagram,
                                   std::uint8_t type) noexcept {
  agent::dispatch_control_reply(datagram, type, registrations_, clock_.now(), control_replies_);
  rearm_timer();
}

void ProviderApp::on_timer() noexcept {
  try {
    const util::Now t = clock_.now();
    for (auto& r : registrations_) r->on_timer(t);
    path_.expire(t.mono);
  } catch (const std::exception& e) {
    LOG_ERROR("registration timer: %s", e.what());
  }
  rearm_timer();
}

void ProviderApp::rearm_timer() noexcept {
  agent::MonoTime next = agent::MonoTime::max();
  for (const auto& r : registrations_) next = std::min(next, r->next_deadline());
  if (next == agent::MonoTime::max()) {
    timer_.cancel();
    return;
  }
  const auto wait = std::chrono::duration_cast<std::chrono::microseconds>(next - clock_.now().mono);
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
                                  .provider_id = credentials_.provider_id(),
                                  .tun_name = tun_.name(),
                                  .uptime_seconds = clock_.now().unix_seconds() - start_time_,
                                  .counters = path_.counters(),
                                  .ingress = path_.ingress(),
                                  .now = clock_.now().mono,
                                  .control_replies = control_replies_,
                                  .registrations = registrations_,
                                  .offload = OffloadView{.tun_offloads = tun_.offloads(),
                                                         .udp_gro = receiver_.gro_enabled(),
                                                         .receive = &receiver_.counters(),
                                                         .coalesce = &to_tun_.counters(),
                                                         .send = &returns_.counters(),
                                                         .gso = returns_.gso_enabled()}});
  }
  return R"({"error":"unknown command; try status"})";
}

void ProviderApp::publish_metrics() noexcept {
  try {
    ProviderSample s;
    s.agent.daemon.daemon = "dmux-provider";
    s.agent.daemon.start_time_seconds = start_time_;
    s.agent.daemon.certificates = {{"provider", static_cast<double>(credentials_.info.not_after)}};
    s.agent.receiver = path_.ingress().receiver().counters();
    s.agent.ingress = path_.ingress().counters();
    for (const auto& r : registrations_)
      s.agent.registrations.push_back(agent::registration_sample(*r));
    s.counters = path_.counters();
    s.control_replies = control_replies_;
    metrics_->update(s);
  } catch (const std::exception& e) {  // out of memory: the next second tries again
    LOG_WARN("metrics: %s", e.what());
  }
}

}  // namespace dmux::provider

#include "multicast/mcast_app.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>

#include "agent/control_reply.h"
#include "common/net/udp_socket.h"
#include "common/util/log.h"
#include "common/util/wall_clock.h"
#include "common/wire/protocols.h"
#include "common/wire/registration.h"
#include "multicast/status_json.h"

namespace dmux::multicast {
namespace {

constexpr std::size_t kMaxDatagram = 65536;
constexpr int kBudgetPerWakeup = 64;  // datagrams handled before yielding to the loop
constexpr int kSocketBufferBytes = 4 << 20;

RouterConfig router_config(const McastConfig& c, wire::ProviderId provider_id) {
  return RouterConfig{
      .self = c.listen,
      .provider_id = provider_id,
      .membership = MembershipConfig{.timeout = c.membership_timeout,
                                     .max_groups_per_client = c.max_groups_per_client,
                                     .max_clients_per_address = c.max_clients_per_address,
                                     .max_members_per_group = c.max_members_per_group,
                                     .max_groups = c.max_groups,
                                     .max_clients = c.max_clients},
      .query_interval = c.query_interval,
      .query_response_ds = static_cast<std::uint8_t>(c.query_response.count() / 100),
      .peers = c.peers,
      .summary_interval = c.summary_interval,
      .peer_dead_after = c.peer_dead_after,
      .ingress = agent::IngressConfig{.allowed_destinations = c.agent.allowed_destinations},
  };
}

}  // namespace

McastApp::McastApp(McastConfig config, agent::Credentials credentials, const PeerKey& peer_key,
                   const util::Clock& clock)
    : clock_(clock),
      config_(std::move(config)),
      credentials_(std::move(credentials)),
      start_time_(static_cast<double>(clock_.now().unix_us) / 1e6),
      socket_(net::open_udp_socket(config_.listen,
                                   net::UdpSocketOptions{.reuse_port = false,
                                                         .nonblocking = true,
                                                         .rcvbuf_bytes = kSocketBufferBytes,
                                                         .sndbuf_bytes = kSocketBufferBytes})),
      router_(std::make_unique<McastRouter>(router_config(config_, credentials_.provider_id()),
                                            peer_key, credentials_.agent.return_key,
                                            credentials_.agent.static_tunnel_key,
                                            static_cast<Transport&>(*this), clock_.now())),
      buffer_(kMaxDatagram),
      timer_(loop_, [this] { on_timer(); }) {
  const agent::RegistrationConfig rc{.proto_id = wire::ProtoId{wire::kProtoIpv4Multicast},
                                     .provider_id = credentials_.provider_id(),
                                     .router_ipv4 = config_.listen.addr,
                                     .router_port = config_.listen.port,
                                     .gateway = config_.gateway};
  registration_ = std::make_unique<agent::RegistrationClient>(
      rc, credentials_.key, credentials_.certificate_der, static_cast<agent::GatewayLink&>(*this),
      &router_->key_sink());
  socket_watcher_ =
      std::make_unique<evloop::IoWatcher>(loop_, socket_.get(), [this] { on_socket_readable(); });
  signals_ = std::make_unique<app::StopSignals>(
      loop_, [this](int signo) { shutdown(app::signal_name(signo)); });
  control_ = app::control_socket(loop_, config_.control_socket, config_.control_group,
                                 [this](std::string_view cmd) { return handle_command(cmd); });
  if (config_.metrics_listen) {
    metrics_ = std::make_unique<MetricsExporter>(*config_.metrics_listen);
    metrics_timer_ = app::now_and_every_second(loop_, [this] { publish_metrics(); });
  }
}

McastApp::~McastApp() = default;

void McastApp::run() {
  LOG_INFO("dmux-mcast up: provider %u, listen %s, gateway %s, %zu peer(s)%s%s",
           credentials_.info.provider_id, config_.listen.to_string().c_str(),
           config_.gateway.to_string().c_str(), config_.peers.size(),
           config_.control_socket.empty() ? "" : ", control ", config_.control_socket.c_str());
  readiness_.start(clock_.now().mono, config_.ready_wait);
  register_when_ready(clock_.now().mono);
  rearm_timer();
  loop_.run();
  const RouterCounters& c = router_->counters();
  LOG_INFO("dmux-mcast stopped: %llu group packets, %llu delivered, %llu forwarded to peers",
           static_cast<unsigned long long>(c.group_packets),
           static_cast<unsigned long long>(c.delivered),
           static_cast<unsigned long long>(c.forwarded));
}

// A router that takes traffic before its links to the other routers are up loses what it cannot
// forward yet: register once every peer has been heard, or after ready_wait (readiness.h).
void McastApp::register_when_ready(MonoTime at) noexcept {
  std::size_t heard = 0;
  for (const auto& p : router_->peers().peers()) heard += p.alive ? 1 : 0;
  const std::size_t peers = router_->peers().peers().size();
  const Readiness::Verdict v = readiness_.check(heard, peers, at);
  if (v == Readiness::Verdict::kWait || v == Readiness::Verdict::kDone) return;
  if (v == Readiness::Verdict::kAlone) {
    LOG_WARN("registering with %zu of %zu peer router(s) heard after %lld ms", heard, peers,
             static_cast<long long>(config_.ready_wait.count()));
  } else {
    LOG_INFO("ready: %zu peer router(s) heard; registering", peers);
  }
  registration_->start(clock_.now());
}

void McastApp::shutdown(const char* why) noexcept {
  LOG_INFO("%s: deregistering and shutting down", why);
  registration_->stop();
  loop_.stop();
}

void McastApp::send(std::span<const std::byte> message) noexcept {
  const sockaddr_in to = config_.gateway.to_sockaddr();
  if (::sendto(socket_.get(), message.data(), message.size(), 0,
               reinterpret_cast<const sockaddr*>(&to), sizeof to) < 0) {
    LOG_DEBUG("send to gateway %s failed: %s", config_.gateway.to_string().c_str(),
              std::strerror(errno));
  }
}

bool McastApp::send_return(const Member& m, std::span<const std::byte> header,
                           std::span<const std::byte> packet) noexcept {
  sockaddr_in to = net::Endpoint{m.ipv4, m.port}.to_sockaddr();
  iovec iov[2] = {{const_cast<std::byte*>(header.data()), header.size()},
                  {const_cast<std::byte*>(packet.data()), packet.size()}};
  msghdr msg{};
  msg.msg_name = &to;
  msg.msg_namelen = sizeof to;
  msg.msg_iov = iov;
  msg.msg_iovlen = 2;
  return ::sendmsg(socket_.get(), &msg, 0) >= 0;
}

bool McastApp::send_peer(const net::Endpoint& peer, std::span<const std::byte> message) noexcept {
  const sockaddr_in to = peer.to_sockaddr();
  return ::sendto(socket_.get(), message.data(), message.size(), 0,
                  reinterpret_cast<const sockaddr*>(&to), sizeof to) >= 0;
}

void McastApp::on_socket_readable() noexcept {
  for (int i = 0; i < kBudgetPerWakeup; ++i) {
    sockaddr_in from{};
    socklen_t from_len = sizeof from;
    const ssize_t n = ::recvfrom(socket_.get(), buffer_.data(), buffer_.size(), 0,
                                 reinterpret_cast<sockaddr*>(&from), &from_len);
    if (n < 0) break;  // EAGAIN (drained) or a transient error
    const std::span<std::byte> datagram(buffer_.data(), static_cast<std::size_t>(n));
    // One socket, three kinds of datagram; the type byte decides, the parsers check the rest.
    const std::uint8_t type = datagram.size() >= 2 && datagram[0] == std::byte{wire::kVersion}
                                  ? std::to_integer<std::uint8_t>(datagram[1])
                                  : std::uint8_t{0};
    if (agent::is_registration_reply(type)) {
      on_control_reply(datagram, type);
    } else if (type == wire::code(wire::PeerType::kSummary) ||
               type == wire::code(wire::PeerType::kGroupData)) {
      router_->on_peer_message(datagram, clock_.now());
      register_when_ready(clock_.now().mono);
    } else {
      router_->on_tunnel(datagram, net::Endpoint::from_sockaddr(from), clock_.now());
    }
  }
  rearm_timer();  // a triggered summary may be due sooner
}

void McastApp::on_control_reply(std::span<const std::byte> datagram, std::uint8_t type) noexcept {
  agent::dispatch_control_reply(datagram, type, std::span(&registration_, 1), clock_.now(),
                                control_replies_);
}

void McastApp::on_timer() noexcept {
  timer_due_ = MonoTime::max();
  try {
    const Now t = clock_.now();
    register_when_ready(t.mono);
    registration_->on_timer(t);
    router_->on_timer(t);
  } catch (const std::exception& e) {
    LOG_ERROR("timer: %s", e.what());
  }
  rearm_timer();
}

void McastApp::rearm_timer() noexcept {
  const MonoTime next =
      std::min({registration_->next_deadline(), router_->next_deadline(), readiness_.deadline()});
  // Re-arm only for an earlier deadline: re-arming on every datagram would postpone the timer
  // forever while the socket stays busy (summaries, keepalives and expiry would starve).
  if (next >= timer_due_) return;
  const auto now_mono = clock_.now().mono;
  const auto wait =
      std::clamp(std::chrono::duration_cast<std::chrono::microseconds>(next - now_mono),
                 std::chrono::microseconds(0), std::chrono::microseconds(std::chrono::seconds(1)));
  try {
    timer_.start_once(wait);
    timer_due_ = now_mono + wait;
  } catch (const std::exception& e) {
    LOG_ERROR("cannot arm the timer: %s; stopping", e.what());
    loop_.stop();
  }
}

std::string McastApp::handle_command(std::string_view command) {
  if (command == "status") {
    return status_json(
        StatusView{.config = config_,
                   .provider_id = credentials_.provider_id(),
                   .uptime_seconds = static_cast<double>(clock_.now().unix_us) / 1e6 - start_time_,
                   .router = *router_,
                   .registration = *registration_,
                   .control_replies = control_replies_.received,
                   .bad_control_replies = control_replies_.bad,
                   .now = clock_.now().mono});
  }
  return R"({"error":"unknown command; try status"})";
}

void McastApp::publish_metrics() noexcept {
  try {
    McastSample s;
    s.agent.daemon.daemon = "dmux-mcast";
    s.agent.daemon.start_time_seconds = start_time_;
    s.agent.daemon.certificates = {{"provider", static_cast<double>(credentials_.info.not_after)}};
    s.agent.receiver = router_->ingress().receiver().counters();
    s.agent.ingress = router_->ingress().counters();
    s.agent.registrations = {agent::registration_sample(*registration_)};
    s.counters = router_->counters();
    s.groups = router_->membership().group_count();
    s.memberships = router_->membership().membership_count();
    for (const auto& p : router_->peers().peers()) s.peers.push_back({p.endpoint, p.alive});
    metrics_->update(s);
  } catch (const std::exception& e) {  // out of memory: the next second tries again
    LOG_WARN("metrics: %s", e.what());
  }
}

}  // namespace dmux::multicast

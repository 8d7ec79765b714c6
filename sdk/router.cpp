#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include "agent/control_reply.h"
#include "common/net/udp_socket.h"
#include "common/util/config_error.h"
#include "common/util/log.h"
#include "common/util/wall_clock.h"
#include "common/wire/protocols.h"
#include "common/wire/shim.h"
#include "sdk/router_impl.h"

namespace ipdmux::sdk {
inline namespace v1 {
namespace {

constexpr std::size_t kMaxDatagram = 65536;
constexpr int kBudgetPerWakeup = 64;  // datagrams handled before yielding to the loop
constexpr int kSocketBufferBytes = 4 << 20;
constexpr auto kTick = std::chrono::milliseconds(20);  // registration timers, expiry, heartbeats

using dmux::ConfigError;

[[noreturn]] void bad(const std::string& option, const std::string& why) {
  throw std::runtime_error("--" + option + ": " + why);
}

dmux::net::Endpoint endpoint(const std::string& option, const std::string& text,
                             bool port_zero = false) {
  const auto e = dmux::net::parse_endpoint(text, port_zero);
  if (!e) bad(option, "'" + text + "' is not an IPv4 address:port");
  return *e;
}

dmux::agent::Credentials load(const RouterOptions& o) {
  if (!dmux::wire::protocol_id_usable(o.proto_id))
    bad("protocol", "proto_id 0 and 0xffff are reserved");
  dmux::agent::CredentialsConfig cc;
  cc.cert_file = o.cert_file;
  cc.key_file = o.key_file;
  cc.protocols = {o.proto_id};
  try {
    cc.agent = dmux::agent::make_agent_options(o.return_key_file, o.static_tunnel_key_file,
                                               o.allow_destinations);
    return dmux::agent::load_credentials(cc, std::time(nullptr));
  } catch (const ConfigError& e) {
    bad(e.option(), e.what());
  }
}

dmux::sdk::PeerKey load_peer_key(const RouterOptions& o) {
  std::ifstream in(o.peer_key_file, std::ios::binary);
  if (!in) bad("peer-key", "cannot read " + o.peer_key_file);
  std::string secret((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!secret.empty() && std::isspace(static_cast<unsigned char>(secret.back())))
    secret.pop_back();
  if (secret.size() < 16) bad("peer-key", o.peer_key_file + " holds fewer than 16 bytes");
  return dmux::sdk::derive_peer_key(std::as_bytes(std::span(secret.data(), secret.size())));
}

dmux::agent::IngressConfig ingress_config(const RouterOptions& o,
                                          const dmux::agent::Credentials& c) {
  dmux::agent::IngressConfig i;
  i.proto_id = dmux::wire::ProtoId{o.proto_id};
  i.provider_id = c.provider_id();
  for (const std::string& p : o.allow_destinations) {
    i.allowed_destinations.push_back(*dmux::net::parse_ipv4_prefix(p));  // checked by load()
  }
  return i;
}

}  // namespace

Router::Impl::Impl(RouterOptions o, const dmux::util::Clock& c)
    : clock(c),
      options(std::move(o)),
      listen(endpoint("listen", options.listen, true)),
      credentials(load(options)),
      start_time(static_cast<double>(clock.now().unix_us) / 1e6),
      socket(dmux::net::open_udp_socket(listen, {.reuse_port = false,
                                                 .nonblocking = true,
                                                 .rcvbuf_bytes = kSocketBufferBytes,
                                                 .sndbuf_bytes = kSocketBufferBytes})),
      ingress(ingress_config(options, credentials), credentials.agent.return_key,
              credentials.agent.static_tunnel_key),
      rx_(kMaxDatagram),
      tx_(kMaxDatagram),
      batch_(socket.get(), dmux::net::UdpSendBatchConfig{.max_bytes = 1 << 17,
                                                         .max_datagrams = 128,
                                                         .max_segments = 64,
                                                         .max_gso_bytes = 65000,
                                                         .gso = true}),
      tick_(loop, [this] { on_tick(); }) {
  if (listen.addr == 0) bad("listen", "needs a specific address (it is registered)");
  listen = dmux::net::local_endpoint(socket.get());
  for (const std::string& g : options.gateways) gateways.push_back(endpoint("gateway", g));
  for (const dmux::net::Endpoint& g : gateways) {
    links.push_back(std::make_unique<GatewayLink>(socket.get(), g));
    const dmux::agent::RegistrationConfig rc{.proto_id = dmux::wire::ProtoId{options.proto_id},
                                             .provider_id = credentials.provider_id(),
                                             .router_ipv4 = listen.addr,
                                             .router_port = listen.port,
                                             .gateway = g};
    registrations.push_back(std::make_unique<dmux::agent::RegistrationClient>(
        rc, credentials.key, credentials.certificate_der, *links.back(), &ingress.key_sink()));
  }
  if (!options.peers.empty()) {
    if (options.peer_key_file.empty()) bad("peer-key", "peers need a shared peer key");
    dmux::sdk::PeerChannelConfig pc;
    pc.self = listen;
    pc.proto_id = dmux::wire::ProtoId{options.proto_id};
    pc.provider_id = credentials.provider_id();
    pc.dead_after = options.peer_dead_after;
    for (const std::string& p : options.peers) pc.peers.push_back(endpoint("peer", p));
    peers.emplace(pc, load_peer_key(options), clock.now().unix_us);
  }
  watcher_ =
      std::make_unique<dmux::evloop::IoWatcher>(loop, socket.get(), [this] { on_readable(); });
  signals_ = std::make_unique<dmux::app::StopSignals>(
      loop, [this](int signo) { shutdown(dmux::app::signal_name(signo)); });
  control_ = dmux::app::control_socket(loop, options.control_socket, "",
                                       [this](std::string_view cmd) -> std::string {
                                         if (cmd == "status") return status();
                                         return R"({"error":"unknown command; try status"})";
                                       });
  if (!options.metrics_listen.empty()) {
    metrics_ = std::make_unique<dmux::sdk::MetricsExporter>(
        endpoint("metrics-listen", options.metrics_listen, true));
  }
}

Router::Impl::~Impl() = default;

void Router::Impl::run() {
  LOG_INFO("%s up: %s, provider %u, listen %s, %zu gateway(s), %zu peer(s)", options.name.c_str(),
           dmux::wire::protocol_name(options.proto_id).c_str(), credentials.info.provider_id,
           listen.to_string().c_str(), gateways.size(), options.peers.size());
  const auto now = clock.now();
  for (auto& r : registrations) r->start(now);
  for (Periodic& p : periodic) {
    p.timer = std::make_unique<dmux::evloop::Timer>(loop, p.fn);
    p.timer->start_periodic(p.period);
  }
  tick_.start_periodic(kTick);
  heartbeat();
  loop.run();
  for (auto& r : registrations) r->stop();  // DEREGISTER, whatever stopped the loop
  LOG_INFO("%s stopped: %llu packets, %llu returns", options.name.c_str(),
           static_cast<unsigned long long>(counters.packets),
           static_cast<unsigned long long>(counters.returns));
}

void Router::Impl::shutdown(const char* why) noexcept {
  LOG_INFO("%s: deregistering and shutting down", why);
  loop.stop();
}

void GatewayLink::send(std::span<const std::byte> message) noexcept {
  const sockaddr_in to = gateway_.to_sockaddr();
  if (::sendto(fd_, message.data(), message.size(), 0, reinterpret_cast<const sockaddr*>(&to),
               sizeof to) < 0) {
    LOG_DEBUG("send to gateway %s failed: %s", gateway_.to_string().c_str(), std::strerror(errno));
  }
}

void Router::Impl::on_readable() noexcept {
  for (int i = 0; i < kBudgetPerWakeup; ++i) {
    sockaddr_in from{};
    socklen_t from_len = sizeof from;
    const ssize_t n = ::recvfrom(socket.get(), rx_.data(), rx_.size(), 0,
                                 reinterpret_cast<sockaddr*>(&from), &from_len);
    if (n < 0) break;  // EAGAIN (drained) or a transient error
    on_datagram(std::span(rx_.data(), static_cast<std::size_t>(n)),
                dmux::net::Endpoint::from_sockaddr(from));
  }
}

// One socket, three kinds of datagram; the type byte decides, the parsers check the rest.
void Router::Impl::on_datagram(std::span<std::byte> datagram,
                               const dmux::net::Endpoint& from) noexcept {
  const std::uint8_t type = datagram.size() >= 2 && datagram[0] == std::byte{dmux::wire::kVersion}
                                ? std::to_integer<std::uint8_t>(datagram[1])
                                : std::uint8_t{0};
  if (dmux::agent::is_registration_reply(type)) {
    // Replies name their session or nonce: the registration that recognises one takes it.
    dmux::agent::dispatch_control_reply(datagram, type, registrations, clock.now(),
                                        control_replies);
  } else if (type == dmux::wire::code(dmux::wire::PeerType::kRouterPeer)) {
    on_peer_datagram(datagram);
  } else {
    on_tunnel(datagram, from);
  }
}

void Router::Impl::on_tunnel(std::span<std::byte> datagram,
                             const dmux::net::Endpoint& from) noexcept {
  dmux::wire::TunnelHeader h;
  std::span<const std::byte> payload;
  using Verdict = dmux::agent::Ingress::Verdict;
  switch (ingress.on_datagram(datagram, from, clock.now().mono, h, payload, reply_)) {
    case Verdict::kDropped:
      return;  // counted by Ingress
    case Verdict::kReply: {
      const sockaddr_in to = reply_.to.to_sockaddr();
      if (::sendto(socket.get(), reply_.bytes.data(), reply_.size, 0,
                   reinterpret_cast<const sockaddr*>(&to), sizeof to) >= 0) {
        ++counters.token_offers_sent;
      }
      return;
    }
    case Verdict::kPacket:
      break;
  }
  if (!ingress.may_send(h.client_ipv4, h.client_port) || !ingress.proven(h)) return;  // counted
  ++counters.packets;
  counters.packet_bytes += payload.size();
  if (!on_packet) return;
  const Packet p{.client = Client{h.client_ipv4, h.client_port},
                 .token = h.token,
                 .gateway_id = h.gateway_id.value(),
                 .provider_id = h.provider_id.value(),
                 .flags = h.flags,
                 .payload = payload};
  try {
    on_packet(p);
  } catch (const std::exception& e) {
    LOG_ERROR("on_packet: %s", e.what());
  }
}

void Router::Impl::on_peer_datagram(std::span<const std::byte> datagram) noexcept {
  if (!peers) return;
  dmux::net::Endpoint from;
  std::span<const std::byte> payload;
  bool came_up = false;
  const auto verdict =
      peers->open(datagram, clock.now().mono, clock.now().unix_us, from, payload, came_up);
  if (verdict == dmux::sdk::PeerChannel::Verdict::kDropped) return;  // counted
  try {
    if (came_up) {
      LOG_INFO("peer %s is up", from.to_string().c_str());
      if (on_peer_change) on_peer_change(PeerState{Client{from.addr, from.port}, true});
    }
    if (verdict == dmux::sdk::PeerChannel::Verdict::kHeartbeat) {
      ++counters.peer_heartbeats;
      return;
    }
    ++counters.peer_messages;
    if (on_peer_message) on_peer_message(PeerMessage{Client{from.addr, from.port}, payload});
  } catch (const std::exception& e) {
    LOG_ERROR("peer callback: %s", e.what());
  }
}

void Router::Impl::on_tick() noexcept {
  const auto now = clock.now();
  try {
    for (auto& r : registrations) {
      if (r->next_deadline() <= now.mono) r->on_timer(now);
    }
    ingress.expire(now.mono);
    if (peers) {
      peers->expire(now.mono, [this](const dmux::sdk::PeerInfo& p) {
        LOG_WARN("peer %s is dead", p.endpoint.to_string().c_str());
        if (on_peer_change)
          on_peer_change(PeerState{Client{p.endpoint.addr, p.endpoint.port}, false});
      });
      if (now.mono >= next_heartbeat_) heartbeat();
    }
    if (metrics_ && now.mono >= next_metrics_) {
      metrics_->update(metric_samples());
      next_metrics_ = now.mono + std::chrono::seconds(1);
    }
  } catch (const std::exception& e) {
    LOG_ERROR("timer: %s", e.what());
  }
}

// An empty message to every configured peer, alive or not, so that peers learn we are up.
void Router::Impl::heartbeat() noexcept {
  if (!peers) return;
  for (const dmux::sdk::PeerInfo& p : peers->peers()) send_peer(p.endpoint, {});
  next_heartbeat_ = clock.now().mono + options.peer_heartbeat;
}

bool Router::Impl::send_peer(const dmux::net::Endpoint& to,
                             std::span<const std::byte> payload) noexcept {
  if (!peers) return false;
  const std::size_t n = peers->seal(tx_, payload, clock.now().unix_us);
  if (n == 0) return false;
  const sockaddr_in sa = to.to_sockaddr();
  if (::sendto(socket.get(), tx_.data(), n, 0, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) <
      0) {
    return false;
  }
  ++counters.peer_sent;
  return true;
}

std::size_t Router::Impl::send_peers(std::span<const std::byte> payload) noexcept {
  if (!peers) return 0;
  std::size_t sent = 0;
  for (const dmux::sdk::PeerInfo& p : peers->peers()) {
    if (p.alive && send_peer(p.endpoint, payload)) ++sent;
  }
  return sent;
}

}  // namespace v1
}  // namespace ipdmux::sdk

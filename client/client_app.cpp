#include "client/client_app.h"

#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <stdexcept>

#include "client/host_net.h"
#include "client/selector.h"
#include "client/status_json.h"
#include "common/net/udp_socket.h"
#include "common/util/log.h"
#include "common/util/wall_clock.h"
#include "common/wire/igmp_query.h"
#include "common/wire/protocols.h"

namespace dmux::client {
namespace {

constexpr int kSocketBufferBytes = 4 << 20;
constexpr std::size_t kTunReadsPerWakeup = 512;  // then the socket's turn
constexpr std::size_t kReceivesPerWakeup = 16;   // recvmmsg calls (of up to 32 GRO buffers)

using util::unix_time_s;

constexpr auto kHostAddressRefresh = std::chrono::seconds(2);

std::uint32_t random_tag() {
  std::uint32_t tag = 0;
  while (tag == 0) {
    if (::getrandom(&tag, sizeof tag, 0) != static_cast<ssize_t>(sizeof tag))
      throw std::runtime_error("getrandom failed");
  }
  return tag;
}

bool has_ipv6_selector(const ClientConfig& c) {
  return std::any_of(c.selectors.begin(), c.selectors.end(),
                     [](const Selector& s) { return s.kind == Selector::Kind::kIpv6; });
}

bool has_generic_selector(const ClientConfig& c) {
  return std::any_of(c.selectors.begin(), c.selectors.end(),
                     [](const Selector& s) { return s.kind == Selector::Kind::kGeneric; });
}

bool has_multicast_selector(const ClientConfig& c) {
  return std::any_of(c.selectors.begin(), c.selectors.end(),
                     [](const Selector& s) { return s.kind == Selector::Kind::kIpv4Multicast; });
}

// The general query dmux-client injects when the multicast token arrives: answered within 0.1 s;
// the interval is RFC 3376's default (the router's own queries set the host's view again).
constexpr std::uint8_t kLocalQueryResponseDs = 1;
constexpr std::uint32_t kLocalQueryIntervalS = 125;

// Whether IPv6 is to be captured now: an ipv6 selector, and no native IPv6 unless --phase-out off.
// Our own default route through the TUN device is not native (has_native_ipv6).
bool wants_ipv6(const ClientConfig& c) {
  return has_ipv6_selector(c) && (!c.phase_out || !has_native_ipv6(c.tun_name));
}

// The protocols that need return tokens: every selector's (an ipv6 selector's too while phased
// out, so that capture resumes at once when native IPv6 goes away).
std::vector<TokenProtocol> token_protocols(const ClientConfig& c) {
  std::vector<TokenProtocol> out;
  for (const Selector& s : c.selectors)
    out.push_back(TokenProtocol{.proto_id = s.proto_id, .provider_id = s.provider_id});
  return out;
}

std::string provider_text(std::uint32_t provider_id) {
  return provider_id == 0 ? "any provider" : "provider " + std::to_string(provider_id);
}

std::string binding_text(const Binding& b) { return net::Endpoint{b.ipv4, b.port}.to_string(); }

std::vector<Rule> all_rules(const ClientConfig& c) {
  std::vector<Rule> rules;
  for (std::size_t i = 0; i < c.selectors.size(); ++i) {
    const Selector& s = c.selectors[i];
    for (auto& r : selector_rules(s, c.fwmark + static_cast<std::uint32_t>(i), c.tun_mtu))
      rules.push_back(std::move(r));
  }
  if (has_ipv6_selector(c)) rules.push_back(ipv6_mss_rule(c.tun_name, c.tun_mtu));
  return rules;
}

}  // namespace

std::uint64_t ClientApp::RandomNonces::next_nonce() noexcept {
  std::uint64_t n = 0;
  if (::getrandom(&n, sizeof n, GRND_NONBLOCK) != static_cast<ssize_t>(sizeof n)) return 0;
  return n;
}

ClientApp::ClientApp(ClientConfig config)
    : config_(std::move(config)),
      ipv6_active_(false),
      start_time_(unix_time_s()),
      socket_(net::open_udp_socket(config_.bind,
                                   net::UdpSocketOptions{.reuse_port = false,
                                                         .nonblocking = true,
                                                         .rcvbuf_bytes = kSocketBufferBytes,
                                                         .sndbuf_bytes = kSocketBufferBytes})),
      gateway_(config_.gateway.to_sockaddr()),
      tun_(config_.tun_name, net::TunOptions{.mtu = config_.tun_mtu,
                                             .disable_gso = false,
                                             .vnet_hdr = true,
                                             .offload = config_.offload}),
      tokens_(ReturnTokensConfig{}, token_protocols(config_), nonces_, Clock::now()),
      due_(tokens_.size()),
      path_(CapturePathConfig{.selectors = config_.selectors,
                              .max_packet = static_cast<std::size_t>(config_.tun_mtu)},
            tokens_),
      offer_(AddressOfferConfig{.refresh = config_.solicit_interval}, random_tag()),
      timer_(loop_, [this] { on_timer(); }),
      host_timer_(loop_, [this] { refresh_host_addresses(); }) {
  if (has_ipv6_selector(config_) && config_.phase_out) {
    route_watch_ = std::make_unique<RouteWatch>();  // before the check: no change is missed
    route_watcher_ = std::make_unique<evloop::IoWatcher>(loop_, route_watch_->fd(),
                                                         [this] { on_routes_changed(); });
  }
  set_ipv6_active(wants_ipv6(config_));
  set_up_ipv4_capture();
  io_ = std::make_unique<TunnelIo>(TunnelIoConfig{.tun_fd = tun_.fd(),
                                                  .tun_uso = tun_.uso(),
                                                  .socket_fd = socket_.get(),
                                                  .gateway = config_.gateway,
                                                  .mtu = static_cast<std::size_t>(config_.tun_mtu),
                                                  .gso = config_.offload,
                                                  .gro = config_.offload},
                                   path_);
  tun_watcher_ = std::make_unique<evloop::IoWatcher>(
      loop_, tun_.fd(), [this] { io_->on_tun_readable(kTunReadsPerWakeup); });
  socket_watcher_ = std::make_unique<evloop::IoWatcher>(loop_, socket_.get(), [this] {
    io_->on_socket_readable(kReceivesPerWakeup, Clock::now(), *this);
  });
  signals_ = std::make_unique<app::StopSignals>(loop_, [this](int signo) {
    LOG_INFO("%s: removing rules and shutting down", app::signal_name(signo));
    loop_.stop();
  });
  control_ = app::control_socket(loop_, config_.control_socket, config_.control_group,
                                 [this](std::string_view cmd) { return handle_command(cmd); });
  if (config_.metrics_listen) {
    metrics_ = std::make_unique<MetricsExporter>(*config_.metrics_listen);
    metrics_timer_ = app::now_and_every_second(loop_, [this] { publish_metrics(); });
  }
}

// The generic selectors' routing table, 224.0.0.0/4 into the TUN device and the host's
// addresses mirrored onto it (ipv4-multicast), the host's addresses for the generic selectors'
// replies (both re-read every 2 s), then the iptables rules.
void ClientApp::set_up_ipv4_capture() {
  const bool generic = has_generic_selector(config_);
  if (generic)
    policy_ = std::make_unique<PolicyRoutes>(tun_.name(), config_.route_table, config_.route_table);
  if (has_multicast_selector(config_)) {
    enable_ipv4_multicast(tun_.name());
    mirror_ops_ = std::make_unique<IpAddressOps>(tun_.name(), tun_.ifindex());
    mirror_ = std::make_unique<AddressMirror>(tun_.name(), *mirror_ops_);
  }
  if (generic || mirror_) {
    refresh_host_addresses();
    host_timer_.start_periodic(kHostAddressRefresh);
  }
  firewall_ = std::make_unique<FirewallRules>(config_.chain, all_rules(config_));
}

void ClientApp::publish_metrics() noexcept {
  if (!metrics_) return;
  try {
    const ReturnTokenCounters& t = tokens_.counters();
    metrics_->update(MetricsSnapshot{.counters = path_.counters(),
                                     .solicitations = offer_.counters().solicitations,
                                     .address_changes = offer_.counters().changes,
                                     .token_requests = t.requests,
                                     .token_offers = t.offers,
                                     .binding_changes = t.binding_changes,
                                     .daemon = {.daemon = "dmux-client",
                                                .start_time_seconds = start_time_,
                                                .certificates = {},
                                                .reload = std::nullopt}});
  } catch (const std::exception& e) {
    LOG_WARN("metrics: %s", e.what());
  }
}

ClientApp::~ClientApp() = default;

const Selector* ClientApp::ipv6_selector() const noexcept {
  for (const auto& s : config_.selectors)
    if (s.kind == Selector::Kind::kIpv6) return &s;
  return nullptr;
}

void ClientApp::refresh_host_addresses() noexcept {
  try {
    std::vector<InterfaceAddress> host = interface_ipv4_addresses();
    if (mirror_) mirror_->update(host);
    if (!has_generic_selector(config_)) return;
    std::vector<std::uint32_t> addresses;
    for (const InterfaceAddress& a : host)
      if (a.dev != tun_.name()) addresses.push_back(a.address);  // not our mirrors
    path_.host_addresses().replace(addresses);
  } catch (const std::exception& e) {
    LOG_WARN("cannot read the host's addresses (keeping %zu): %s", path_.host_addresses().size(),
             e.what());
  }
}

// A general query injected into the TUN device: the host reports every group it joined on it at
// once (within 0.1 s), among them those whose reports were dropped before the token arrived.
void ClientApp::solicit_reports() noexcept {
  std::array<std::byte, wire::kQueryPacketLen> query{};
  if (wire::write_general_query(query, 0, kLocalQueryResponseDs, kLocalQueryIntervalS) !=
          query.size() ||
      !io_->write_packet(query)) {
    LOG_WARN(
        "cannot inject a membership query into %s: groups joined before the multicast "
        "token stay unknown to the router until they are joined again",
        tun_.name().c_str());
    return;
  }
  LOG_DEBUG("membership query injected into %s", tun_.name().c_str());
}

void ClientApp::run() {
  LOG_INFO(
      "dmux-client up: gateway %s, local %s, %s (mtu %d), %zu selector(s), chain %s, routing "
      "table %u; asking for return tokens%s",
      config_.gateway.to_string().c_str(), net::local_endpoint(socket_.get()).to_string().c_str(),
      tun_.name().c_str(), config_.tun_mtu, config_.selectors.size(), config_.chain.c_str(),
      config_.route_table, ipv6_active_ ? ", then an IPv6 address" : "");
  rearm_timer();
  loop_.run();
  const DataPathCounters& c = path_.counters();
  LOG_INFO("dmux-client stopped: %llu captured, %llu tunnelled, %llu injected",
           static_cast<unsigned long long>(c.captured),
           static_cast<unsigned long long>(c.tunnelled),
           static_cast<unsigned long long>(c.injected));
}

void ClientApp::on_routes_changed() noexcept {
  if (!route_watch_->drain()) return;
  bool wants = ipv6_active_;
  try {
    wants = wants_ipv6(config_);
  } catch (const std::exception& e) {
    LOG_WARN("cannot read the host's IPv6 routes: %s", e.what());
  }
  if (wants == ipv6_active_) return;
  LOG_INFO(wants ? "the host has no native IPv6 any more: capturing IPv6"
                 : "the host has native IPv6 (a default route through another device): not "
                   "capturing IPv6 (--phase-out off to capture anyway)");
  set_ipv6_active(wants);
}

// Routes into the TUN device are what selects IPv6: adding them starts capture, removing them
// stops it (the address stays, unused without them, and is refreshed by the next offer).
void ClientApp::set_ipv6_active(bool active) noexcept {
  if (!has_ipv6_selector(config_)) return;
  for (const auto& prefix : config_.ipv6_routes) {
    try {
      if (active) {
        add_route(tun_.name(), prefix);
      } else {
        remove_route(tun_.name(), prefix);
      }
    } catch (const std::exception& e) {
      LOG_ERROR("IPv6 route %s through %s: %s", prefix.c_str(), tun_.name().c_str(), e.what());
    }
  }
  if (active && !ipv6_active_ && tokens_.current(wire::kProtoIpv6))
    offer_.on_token(Clock::now());  // solicit at once: the address may be stale
  ipv6_active_ = active;
  rearm_timer();
}

void ClientApp::enable_routing_rule(std::uint16_t proto_id) noexcept {
  for (std::size_t i = 0; i < config_.selectors.size(); ++i) {
    const Selector& s = config_.selectors[i];
    if (s.proto_id != proto_id || s.kind != Selector::Kind::kGeneric || !policy_) continue;
    const std::uint32_t mark = config_.fwmark + static_cast<std::uint32_t>(i);
    if (policy_->enabled(mark)) return;
    try {
      policy_->enable(mark);
      LOG_INFO("capturing %s: packets marked %u are routed into %s", s.text.c_str(), mark,
               tun_.name().c_str());
    } catch (const std::exception& e) {
      LOG_ERROR("cannot add the routing rule for %s (its packets stay uncaptured): %s",
                s.text.c_str(), e.what());
    }
  }
}

void ClientApp::note_old_version(const net::Endpoint& from, Clock::time_point now) noexcept {
  ++old_versions_unlogged_;
  if (old_version_logged_ && now - *old_version_logged_ < std::chrono::minutes(1)) return;
  LOG_WARN(
      "dropped %llu datagram(s) of another protocol version, the newest from %s: a router "
      "that does not speak version 2? (docs/protocol.md 17)",
      static_cast<unsigned long long>(old_versions_unlogged_), from.to_string().c_str());
  old_versions_unlogged_ = 0;
  old_version_logged_ = now;
}

void ClientApp::on_other_return(CapturePath::ReturnKind kind, const ReturnResult& r,
                                const net::Endpoint& from, Clock::time_point now) noexcept {
  switch (kind) {
    case CapturePath::ReturnKind::kInject:  // TunnelIo's
      break;
    case CapturePath::ReturnKind::kAdvert:
      on_advert(r.advert, now);
      break;
    case CapturePath::ReturnKind::kToken:
      on_token_offer(r, now);
      break;
    case CapturePath::ReturnKind::kDrop:
      if (const std::uint64_t n = path_.counters().dropped(Drop::kUnsupportedVersion);
          n != old_versions_seen_) {
        old_versions_seen_ = n;
        note_old_version(from, now);
      }
      break;
  }
}

void ClientApp::on_token_offer(const ReturnResult& r, Clock::time_point now) noexcept {
  const std::string proto = wire::protocol_name(r.proto_id);
  if (r.token.binding_moved) {
    LOG_WARN("gateways now see us as %s (the NAT binding moved): asking for new return tokens",
             binding_text(r.token.binding).c_str());
  }
  if (r.token.token_changed) {
    LOG_INFO(
        "return token for %s from a router of provider %u (gateways see us as %s; refresh "
        "every %lld s)",
        proto.c_str(), r.provider_id, binding_text(r.token.binding).c_str(),
        static_cast<long long>(
            std::chrono::duration_cast<std::chrono::seconds>(r.token.refresh).count()));
    // The RS carries the ipv6 token: a new one (first, or the binding moved) solicits at once.
    if (r.proto_id == wire::kProtoIpv6 && ipv6_active_) offer_.on_token(now);
    enable_routing_rule(r.proto_id);
    if (r.proto_id == wire::kProtoIpv4Multicast) solicit_reports();
  }
  rearm_timer();
}

void ClientApp::on_advert(const Offer& offer, Clock::time_point now) noexcept {
  const std::optional<Ipv6Address> old = offer_.address();
  const auto change = offer_.on_advert(offer, now);
  // The /96 embeds the binding the router saw (protocol.md 11); another one than the token
  // offers named means the binding moved since: every token is stale.
  const Binding seen{offer.client_ipv4, offer.client_port};
  if (const auto& b = tokens_.binding(); b && *b != seen) {
    LOG_WARN(
        "the address offer names %s, the token offers %s: the NAT binding moved; asking "
        "for new return tokens",
        binding_text(seen).c_str(), binding_text(*b).c_str());
    tokens_.request_all(now);
  }
  rearm_timer();
  if (change == AddressOffer::Change::kNone) return;
  const Ipv6Address& now_addr = *offer_.address();
  try {
    add_address(tun_.name(), now_addr);
  } catch (const std::exception& e) {
    LOG_ERROR("cannot assign %s: %s", to_string(now_addr).c_str(), e.what());
    return;
  }
  if (old) remove_address(tun_.name(), *old);
  path_.set_address(now_addr);
  if (change == AddressOffer::Change::kChanged) {
    LOG_WARN("our address changed (NAT binding or local address moved): %s replaces %s",
             to_string(now_addr).c_str(), to_string(*old).c_str());
  } else {
    LOG_INFO("IPv6 address %s offered by the provider (mtu %u, valid %u s)",
             to_string(now_addr).c_str(), offer.mtu, offer.valid_lifetime_s);
  }
}

void ClientApp::send_control(const wire::ShimHeader& h,
                             std::span<const std::byte> payload) noexcept {
  std::array<std::byte, wire::kDataHeaderLen> header{};
  if (wire::write_shim(header, wire::MsgType::kData, h) != wire::kDataHeaderLen) return;
  std::array<iovec, 2> iov{iovec{header.data(), header.size()},
                           iovec{const_cast<std::byte*>(payload.data()), payload.size()}};
  msghdr m{};
  m.msg_name = &gateway_;
  m.msg_namelen = sizeof gateway_;
  m.msg_iov = iov.data();
  m.msg_iovlen = iov.size();
  if (::sendmsg(socket_.get(), &m, 0) < 0)
    LOG_DEBUG("sending to the gateway failed: %s", std::strerror(errno));
}

void ClientApp::send_token_request(const TokenRequest& r) noexcept {
  std::array<std::byte, wire::kTokenRequestLen> request{};
  if (wire::write_token_request(request) != request.size()) return;
  send_control(wire::ShimHeader{.flags = wire::kFlagControl,
                                .proto_id = wire::ProtoId{r.proto_id},
                                .provider_id = wire::ProviderId{r.provider_id},
                                .token = r.nonce},
               request);
}

void ClientApp::send_solicitation() noexcept {
  const std::optional<std::uint64_t> rt = tokens_.current(wire::kProtoIpv6);
  const Selector* s = ipv6_selector();
  std::array<std::byte, kSolicitationLen> rs{};
  if (!rt || s == nullptr || write_solicitation(rs) != kSolicitationLen) return;
  send_control(wire::ShimHeader{.flags = 0,
                                .proto_id = wire::ProtoId{wire::kProtoIpv6},
                                .provider_id = wire::ProviderId{s->provider_id},
                                .token = *rt},
               rs);
}

void ClientApp::warn_unanswered(const TokenRequest& r) const noexcept {
  if (r.unanswered != ReturnTokens::kWarnAfter + 1) return;
  if (r.proto_id == wire::kProtoIpv6 && !ipv6_active_) return;  // phased out: not needed now
  const std::string proto = wire::protocol_name(r.proto_id);
  if (r.have_token) {
    LOG_WARN(
        "%u refreshes of the %s return token went unanswered: its router may be gone; still "
        "using the last token",
        r.unanswered - 1, proto.c_str());
    return;
  }
  LOG_WARN(
      "no return token for %s after %u requests to gateway %s: no router of %s answers (none "
      "registered for %s at the gateway, or its answers do not reach %s); %s packets pass "
      "uncaptured until one does",
      proto.c_str(), r.unanswered - 1, config_.gateway.to_string().c_str(),
      provider_text(r.provider_id).c_str(), proto.c_str(),
      net::local_endpoint(socket_.get()).to_string().c_str(), proto.c_str());
}

void ClientApp::warn_no_address(AddressOffer::Warning w, Clock::time_point now) const noexcept {
  switch (w) {
    case AddressOffer::Warning::kNone:
      return;
    case AddressOffer::Warning::kNeverAssigned:
      LOG_WARN(
          "no IPv6 address offer after %u router solicitations, although a router answers "
          "ipv6 token requests: it does not answer solicitations (does its agent have a "
          "client prefix?)",
          offer_.unanswered() - 1);
      return;
    case AddressOffer::Warning::kExpired:
      LOG_WARN(
          "IPv6 address %s has expired: the provider has not answered %u router "
          "solicitations since its last offer %lld s ago",
          to_string(*offer_.address()).c_str(), offer_.unanswered() - 1,
          static_cast<long long>(
              std::chrono::duration_cast<std::chrono::seconds>(now - offer_.last_advert())
                  .count()));
      return;
  }
}

void ClientApp::on_timer() noexcept {
  const Clock::time_point now = Clock::now();
  const std::size_t n = tokens_.on_timer(now, due_);
  for (std::size_t i = 0; i < n; ++i) {
    send_token_request(due_[i]);
    warn_unanswered(due_[i]);
  }
  if (ipv6_active_ && offer_.on_timer(now)) {
    send_solicitation();
    warn_no_address(offer_.take_warning(now), now);
  }
  rearm_timer();
}

void ClientApp::rearm_timer() noexcept {
  Clock::time_point next = tokens_.next_deadline();
  if (ipv6_active_) next = std::min(next, offer_.next_deadline());
  if (next == Clock::time_point::max()) return;
  const auto wait = std::chrono::duration_cast<std::chrono::microseconds>(next - Clock::now());
  try {
    timer_.start_once(std::max(wait, std::chrono::microseconds(0)));
  } catch (const std::exception& e) {
    LOG_ERROR("cannot arm the token and solicitation timer: %s; stopping", e.what());
    loop_.stop();
  }
}

std::string ClientApp::handle_command(std::string_view command) {
  const StatusView v{.config = config_,
                     .tun_name = tun_.name(),
                     .local = net::local_endpoint(socket_.get()),
                     .ipv6_active = ipv6_active_,
                     .uptime_seconds = unix_time_s() - start_time_,
                     .now = Clock::now(),
                     .offer = offer_,
                     .tokens = tokens_,
                     .counters = path_.counters(),
                     .io = *io_,
                     .tun_offloads = tun_.offloads()};
  if (command == "status") return status_json(v);
  return R"({"error":"unknown command; try status"})";
}

}  // namespace dmux::client

#include "client-capture/client_app.h"

#include <linux/netfilter.h>
#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstring>
#include <ctime>
#include <stdexcept>

#include "client-capture/host_net.h"
#include "client-capture/selector.h"
#include "client-capture/status_json.h"
#include "common/net/udp_socket.h"
#include "common/util/log.h"
#include "common/util/wall_clock.h"
#include "common/wire/protocols.h"

namespace dmux::client {
namespace {

constexpr int kSocketBufferBytes = 4 << 20;
constexpr int kNetlinkBufferBytes = 16 << 20;
constexpr std::size_t kRxSlot = 4096;  // one RETURN (the TUN MTU plus headers fits easily)
constexpr int kBatchesPerWakeup = 8;

using util::unix_time_s;

std::uint32_t random_tag() {
  std::uint32_t tag = 0;
  while (tag == 0) {
    if (::getrandom(&tag, sizeof tag, 0) != static_cast<ssize_t>(sizeof tag))
      throw std::runtime_error("getrandom failed");
  }
  return tag;
}

bool phase_out_ipv6(const ClientConfig& c) {
  if (!c.phase_out || !has_native_ipv6(c.tun_name)) return false;
  LOG_INFO("the host has native IPv6 (a default route through another device): not capturing "
           "IPv6 (--phase-out off to capture anyway)");
  return true;
}

std::vector<Rule> all_rules(const ClientConfig& c, bool ipv6_active) {
  std::vector<Rule> rules;
  for (std::size_t i = 0; i < c.selectors.size(); ++i) {
    const Selector& s = c.selectors[i];
    if (s.kind == Selector::Kind::kIpv6 && !ipv6_active) continue;
    for (auto& r : selector_rules(s, static_cast<std::uint16_t>(c.queue_num + i), c.tun_name))
      rules.push_back(std::move(r));
  }
  return rules;
}

}  // namespace

ClientApp::ClientApp(ClientConfig config)
    : config_(std::move(config)),
      ipv6_active_(false),
      tag_(random_tag()),
      start_time_(unix_time_s()),
      socket_(net::open_udp_socket(config_.bind,
                                   net::UdpSocketOptions{.reuse_port = false,
                                                         .nonblocking = true,
                                                         .rcvbuf_bytes = kSocketBufferBytes,
                                                         .sndbuf_bytes = kSocketBufferBytes})),
      gateway_(config_.gateway.to_sockaddr()),
      tun_(config_.tun_name, net::TunOptions{.mtu = config_.tun_mtu, .disable_gso = true}),
      path_(CapturePathConfig{.selectors = config_.selectors,
                              .first_queue = config_.queue_num,
                              .max_packet = static_cast<std::size_t>(config_.tun_mtu)},
            tag_),
      offer_(AddressOfferConfig{.refresh = config_.solicit_interval}, tag_, Clock::now()),
      queue_(config_.queue_num, static_cast<std::uint16_t>(config_.selectors.size()),
             config_.queue_maxlen, kNetlinkBufferBytes),
      segment_headers_(kMaxSends * kMaxTcp6Headers),
      max_id_(config_.selectors.size()),
      seen_(config_.selectors.size()),
      rx_(kBatch * kRxSlot),
      timer_(loop_, [this] { on_timer(); }),
      metrics_timer_(loop_, [this] { publish_metrics(); }) {
  ipv6_active_ = ipv6_selector() != nullptr && !phase_out_ipv6(config_);
  if (ipv6_active_) {
    for (const auto& prefix : config_.ipv6_routes) add_route(tun_.name(), prefix);
  }
  if (std::any_of(config_.selectors.begin(), config_.selectors.end(), [](const Selector& s) {
        return s.kind == Selector::Kind::kIpv4Multicast;
      })) {
    enable_ipv4_multicast(tun_.name());
  }
  firewall_ = std::make_unique<FirewallRules>(config_.chain, all_rules(config_, ipv6_active_));
  for (std::size_t i = 0; i < kBatch; ++i) {
    rx_iov_[i] = iovec{rx_.data() + i * kRxSlot, kRxSlot};
    rx_msgs_[i].msg_hdr = msghdr{};
    rx_msgs_[i].msg_hdr.msg_iov = &rx_iov_[i];
    rx_msgs_[i].msg_hdr.msg_iovlen = 1;
  }
  queue_watcher_ =
      std::make_unique<evloop::IoWatcher>(loop_, queue_.fd(), [this] { on_queue_readable(); });
  socket_watcher_ =
      std::make_unique<evloop::IoWatcher>(loop_, socket_.get(), [this] { on_socket_readable(); });
  for (const int signo : {SIGTERM, SIGINT}) {
    signals_.push_back(std::make_unique<evloop::SignalWatcher>(loop_, signo, [this, signo] {
      LOG_INFO("%s: removing rules and shutting down", signo == SIGTERM ? "SIGTERM" : "SIGINT");
      loop_.stop();
    }));
  }
  if (!config_.control_socket.empty()) {
    control_ = std::make_unique<control::ControlServer>(
        loop_, config_.control_socket,
        [this](std::string_view cmd) { return handle_command(cmd); });
  }
  if (config_.metrics_listen) {
    metrics_ = std::make_unique<MetricsExporter>(*config_.metrics_listen);
    publish_metrics();
    metrics_timer_.start_periodic(std::chrono::seconds(1));
  }
}

void ClientApp::publish_metrics() noexcept {
  if (!metrics_) return;
  try {
    metrics_->update(MetricsSnapshot{path_.counters(), offer_.counters().solicitations,
                                     offer_.counters().changes});
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

void ClientApp::run() {
  LOG_INFO("dmux-client up: gateway %s, local %s, %s (mtu %d), %zu selector(s), queues %u-%zu, "
           "chain %s%s",
           config_.gateway.to_string().c_str(),
           net::local_endpoint(socket_.get()).to_string().c_str(), tun_.name().c_str(),
           config_.tun_mtu, config_.selectors.size(), config_.queue_num,
           config_.queue_num + config_.selectors.size() - 1, config_.chain.c_str(),
           ipv6_active_ ? "; soliciting an IPv6 address" : "");
  rearm_timer();
  loop_.run();
  const DataPathCounters& c = path_.counters();
  LOG_INFO("dmux-client stopped: %llu captured, %llu tunnelled, %llu injected",
           static_cast<unsigned long long>(c.captured),
           static_cast<unsigned long long>(c.tunnelled),
           static_cast<unsigned long long>(c.injected));
}

void ClientApp::on_queue_readable() noexcept {
  for (int round = 0; round < kBatchesPerWakeup; ++round) {
    const std::size_t n = queue_.receive(packets_);
    if (n == 0) break;
    std::fill(seen_.begin(), seen_.end(), false);
    for (std::size_t i = 0; i < n; ++i) {
      QueuedPacket& p = packets_[i];
      const std::size_t sel = static_cast<std::uint16_t>(p.queue - config_.queue_num);
      if (sel < seen_.size()) {
        seen_[sel] = true;
        max_id_[sel] = p.id;  // ids grow per queue; the last one is the highest
      }
      const auto kind = path_.on_captured(p.queue, p.payload, p.checksum_not_ready, headers_[i]);
      if (kind == CapturePath::CaptureKind::kSend) {
        queue_send(headers_[i], {}, p.payload);
      } else if (kind == CapturePath::CaptureKind::kSegment) {
        flush_sends();  // segment headers live in one storage area per flush
        const std::size_t k = segment_tcp6(p.payload, static_cast<std::size_t>(config_.tun_mtu),
                                           segment_headers_, segments_);
        if (k == 0) path_.failed(Drop::kOversize);
        for (std::size_t j = 0; j < k; ++j)
          queue_send(headers_[i], segments_[j].headers, segments_[j].payload);
        flush_sends();
      }
    }
    flush_sends();
    // Every captured packet has been sent by us (or dropped): one DROP verdict per queue covers
    // the whole batch.
    for (std::size_t sel = 0; sel < seen_.size(); ++sel) {
      if (seen_[sel])
        queue_.add_batch_verdict(static_cast<std::uint16_t>(config_.queue_num + sel),
                                 max_id_[sel], NF_DROP);
    }
    queue_.flush_verdicts();
  }
}

void ClientApp::queue_send(std::span<const std::byte> data_header,
                           std::span<const std::byte> headers,
                           std::span<const std::byte> payload) noexcept {
  if (send_count_ == kMaxSends) flush_sends();
  iovec* iov = &send_iov_[3 * send_count_];
  std::size_t n = 0;
  iov[n++] = iovec{const_cast<std::byte*>(data_header.data()), data_header.size()};
  if (!headers.empty()) iov[n++] = iovec{const_cast<std::byte*>(headers.data()), headers.size()};
  iov[n++] = iovec{const_cast<std::byte*>(payload.data()), payload.size()};
  msghdr& m = send_msgs_[send_count_].msg_hdr;
  m = msghdr{};
  m.msg_name = &gateway_;
  m.msg_namelen = sizeof gateway_;
  m.msg_iov = iov;
  m.msg_iovlen = n;
  send_sizes_[send_count_++] = headers.size() + payload.size();
}

void ClientApp::flush_sends() noexcept {
  std::size_t sent = 0;
  while (sent < send_count_) {
    const int r = ::sendmmsg(socket_.get(), send_msgs_.data() + sent,
                             static_cast<unsigned>(send_count_ - sent), 0);
    if (r <= 0) break;
    for (int k = 0; k < r; ++k) path_.tunnelled(send_sizes_[sent + static_cast<std::size_t>(k)]);
    sent += static_cast<std::size_t>(r);
  }
  for (; sent < send_count_; ++sent) path_.failed(Drop::kSendFailed);
  send_count_ = 0;
}

void ClientApp::on_socket_readable() noexcept {
  for (int round = 0; round < kBatchesPerWakeup; ++round) {
    const int n = ::recvmmsg(socket_.get(), rx_msgs_.data(), kBatch, MSG_DONTWAIT, nullptr);
    if (n <= 0) return;
    for (int i = 0; i < n; ++i) {
      const auto& m = rx_msgs_[static_cast<std::size_t>(i)];
      const std::span<const std::byte> datagram(rx_.data() + static_cast<std::size_t>(i) * kRxSlot,
                                                m.msg_len);
      if (m.msg_hdr.msg_flags & MSG_TRUNC) {
        path_.failed(Drop::kMalformed);
        continue;
      }
      std::span<const std::byte> packet;
      Offer offer;
      switch (path_.on_return(datagram, packet, offer)) {
        case CapturePath::ReturnKind::kInject:
          if (::write(tun_.fd(), packet.data(), packet.size()) ==
              static_cast<ssize_t>(packet.size())) {
            path_.injected(packet.size());
          } else {
            path_.failed(Drop::kTunWriteFailed);
          }
          break;
        case CapturePath::ReturnKind::kAdvert:
          on_offer(offer);
          break;
        case CapturePath::ReturnKind::kDrop:
          break;
      }
    }
    if (static_cast<std::size_t>(n) < kBatch) return;
  }
}

void ClientApp::on_offer(const Offer& offer) noexcept {
  const std::optional<Ipv6Address> old = offer_.address();
  const auto change = offer_.on_advert(offer, Clock::now());
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
    LOG_INFO("IPv6 address %s offered by the provider (mtu %u)", to_string(now_addr).c_str(),
             offer.mtu);
  }
}

void ClientApp::send_solicitation() noexcept {
  std::array<std::byte, wire::kDataHeaderLen + kSolicitationLen> msg{};
  const Selector* s = ipv6_selector();
  const wire::ShimHeader h{.flags = 0,
                           .proto_id = wire::kProtoIpv6,
                           .provider_id = s != nullptr ? s->provider_id : 0,
                           .token = offer_.token()};
  if (wire::write_shim(msg, wire::MsgType::kData, h) != wire::kDataHeaderLen ||
      write_solicitation(std::span(msg).subspan(wire::kDataHeaderLen)) != kSolicitationLen) {
    return;
  }
  if (::sendto(socket_.get(), msg.data(), msg.size(), 0,
               reinterpret_cast<const sockaddr*>(&gateway_), sizeof gateway_) < 0) {
    LOG_DEBUG("sending a router solicitation failed: %s", std::strerror(errno));
  }
}

void ClientApp::on_timer() noexcept {
  if (offer_.on_timer(Clock::now())) {
    send_solicitation();
    if (offer_.unanswered() == 4)
      LOG_WARN("no address offer after 3 solicitations; is a provider registered for ipv6?");
  }
  rearm_timer();
}

void ClientApp::rearm_timer() noexcept {
  if (!ipv6_active_) return;
  const auto wait = std::chrono::duration_cast<std::chrono::microseconds>(
      offer_.next_deadline() - Clock::now());
  try {
    timer_.start_once(std::max(wait, std::chrono::microseconds(0)));
  } catch (const std::exception& e) {
    LOG_ERROR("cannot arm the solicitation timer: %s; stopping", e.what());
    loop_.stop();
  }
}

std::string ClientApp::handle_command(std::string_view command) {
  const StatusView v{.config = config_,
                     .tun_name = tun_.name(),
                     .local = net::local_endpoint(socket_.get()),
                     .ipv6_active = ipv6_active_,
                     .uptime_seconds = unix_time_s() - start_time_,
                     .offer = offer_,
                     .counters = path_.counters(),
                     .queue = queue_.counters()};
  if (command == "status") return status_json(v);
  return R"({"error":"unknown command; try status"})";
}

}  // namespace dmux::client

#include "gateway/registration_server.h"

#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <set>

#include "common/net/udp_socket.h"
#include "common/util/log.h"

namespace dmux::gateway {
namespace {
constexpr auto kTick = std::chrono::milliseconds(100);  // expiry resolution
constexpr std::size_t kMaxPerWakeup = 1024;             // then the loop serves its other watchers
constexpr std::size_t kMaxPerTick = 65536;              // more than any receive buffer holds
constexpr std::size_t kDeferredCapacity = 128;

std::uint64_t ns_since(registry::TimePoint start) noexcept {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start)
          .count());
}
}  // namespace

RegistrationServer::RegistrationServer(evloop::EventLoop& loop, const RegistrationConfig& config,
                                       OnChange on_change, const util::Clock& clock)
    : config_(config),
      clock_(clock),
      on_change_(std::move(on_change)),
      verifier_(crypto::Certificate::load_pem(config.ca_cert_path)),
      registry_(config.registry),
      handler_(config.handler, verifier_, registry_, clock_.now().mono),
      tick_(loop, [this] { on_tick(); }),
      rx_(kBatch),
      deferred_(kDeferredCapacity) {
  for (const auto& ep : config_.listen) {
    fds_.push_back(net::open_udp_socket(
        ep,
        {.reuse_port = false, .nonblocking = true, .rcvbuf_bytes = config_.socket_buffer_bytes}));
    const int fd = fds_.back().get();
    watchers_.push_back(
        std::make_unique<evloop::IoWatcher>(loop, fd, [this, fd] { on_readable(fd); }));
  }
  if (config_.router_feedback) {
    registry::FeedbackConfig fc = config_.feedback;
    fc.gateway_id = config_.handler.gateway_id;
    feedback_ = std::make_unique<RouterFeedbackIo>(loop, fc, registry_, [this] {
      notify_if_changed();
      refresh_snapshot(true);
    });
    if (const auto why = feedback_->open()) {
      LOG_WARN(
          "registration: no ICMP feedback from routers (%s): dead routers are found by "
          "missed keepalives only",
          why->c_str());
    }
  }
  tick_.start_periodic(kTick);
  refresh_snapshot(true);
}

RegistrationServer::~RegistrationServer() = default;

void RegistrationServer::on_readable(int fd) noexcept {
  drain(fd, kMaxPerWakeup);
  refresh_snapshot(false);
}

// Reads first, expires second (docs/protocol.md 9.7).
void RegistrationServer::on_tick() noexcept {
  for (const auto& fd : fds_) drain(fd.get(), kMaxPerTick);
  if (feedback_) feedback_->drain();
  const auto now = clock_.now().mono;
  if (const auto n = registry_.expire(now); n > 0) {
    LOG_INFO("registration: %zu router(s) expired after %lld ms of silence", n,
             static_cast<long long>(config_.registry.hold_time.count()));
  }
  if (feedback_) {
    feedback_->probe_silent(registry_.take_silent(), now);
    feedback_->expire(now);
  }
  log_liveness();
  notify_if_changed();
  refresh_snapshot(true);
}

// Once a tick, what the liveness rules did since the previous one.
void RegistrationServer::log_liveness() noexcept {
  const registry::LivenessCounters before = logged_liveness_;
  const registry::LivenessCounters& now = registry_.liveness();
  logged_liveness_ = now;
  if (now.own_stalls != before.own_stalls) {
    LOG_WARN("registration: this gateway stalled for %llu ms; routers' silence during it forgiven",
             static_cast<unsigned long long>(now.stalled_ms - before.stalled_ms));
  }
  if (now.suspected != before.suspected) {
    LOG_INFO("registration: %llu router(s) suspect after %u missed keepalives (out of the table)",
             static_cast<unsigned long long>(now.suspected - before.suspected),
             config_.registry.suspect_after);
  }
  if (now.late_keepalives != before.late_keepalives) {
    LOG_INFO(
        "registration: %llu keepalive(s) after %u intervals of silence; tolerated (detect "
        "time adapts to each router's jitter)",
        static_cast<unsigned long long>(now.late_keepalives - before.late_keepalives),
        config_.registry.suspect_after);
  }
  if (now.recovered != before.recovered) {
    LOG_INFO("registration: %llu suspect router(s) heard again",
             static_cast<unsigned long long>(now.recovered - before.recovered));
  }
  log_liveness_events();
}

// One line per router that changed (bench/failover matches a suspicion with the same router
// heard again to count false ones).
void RegistrationServer::log_liveness_events() noexcept {
  using Kind = registry::LivenessEvent::Kind;
  std::size_t dropped = 0;
  const auto ms = [](registry::Duration d) {
    return static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
  };
  for (const auto& e : registry_.take_liveness_events(dropped)) {
    const char* what = e.kind == Kind::kSuspect     ? "suspect after"
                       : e.kind == Kind::kRecovered ? "heard again after"
                                                    : "expired after";
    LOG_INFO("registration: router %s %s %lld ms of silence (detect time %lld ms)",
             e.id.address.to_string().c_str(), what, ms(e.silent), ms(e.detect));
  }
  if (dropped != 0) LOG_INFO("registration: %zu more liveness change(s) not logged", dropped);
}

std::size_t RegistrationServer::drain(int fd, std::size_t max) noexcept {
  std::array<mmsghdr, kBatch> msgs{};
  std::array<iovec, kBatch> iov{};
  std::array<sockaddr_in, kBatch> from{};
  std::size_t total = 0;
  while (total < max) {
    const std::size_t want = std::min(kBatch, max - total);
    for (std::size_t i = 0; i < want; ++i) {
      iov[i] = {rx_[i].data(), rx_[i].size()};
      msgs[i].msg_hdr = msghdr{};
      msgs[i].msg_hdr.msg_name = &from[i];
      msgs[i].msg_hdr.msg_namelen = sizeof from[i];
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    const int n = ::recvmmsg(fd, msgs.data(), static_cast<unsigned>(want), MSG_DONTWAIT, nullptr);
    if (n <= 0) break;  // drained (or a transient error: the next wakeup retries)
    for (int i = 0; i < n; ++i) {
      // A datagram longer than the buffer arrives cut to kMaxDatagram + 1 bytes: too long for
      // any message, so the parsers refuse it.
      const std::size_t len = std::min<std::size_t>(msgs[i].msg_len, rx_[i].size());
      handle(fd, std::span(rx_[i].data(), len), net::Endpoint::from_sockaddr(from[i]));
    }
    finish_deferred();  // the batch's keepalives are answered; now its REGISTERs
    total += static_cast<std::size_t>(n);
    if (static_cast<std::size_t>(n) < want) break;
  }
  notify_if_changed();
  return total;
}

void RegistrationServer::handle(int fd, std::span<const std::byte> d,
                                const net::Endpoint& from) noexcept {
  const registry::Now now = clock_.now();
  registry::RegistrationHandler::Result r;
  try {
    r = handler_.on_datagram(d, from, now, reply_);
  } catch (const std::exception& e) {
    LOG_WARN("registration: error handling a datagram from %s: %s", from.to_string().c_str(),
             e.what());
    return;
  }
  const std::uint64_t ns = ns_since(now.mono);
  const auto type = wire::type_of<wire::MsgType>(d);
  if (type == wire::MsgType::kRegister) {
    ++register_count_;
    register_ns_ += ns;
  } else if (type == wire::MsgType::kKeepalive) {
    ++keepalive_count_;
    keepalive_ns_ += ns;
  }
  if (r.deferred) {
    if (deferred_count_ == deferred_.size()) finish_deferred();
    Deferred& q = deferred_[deferred_count_++];
    std::copy(d.begin(), d.end(), q.bytes.begin());
    q.len = d.size();
    q.from = from;
    q.fd = fd;
  }
  if (r.reply != 0) reply(fd, from, r.reply);
}

void RegistrationServer::finish_deferred() noexcept {
  for (std::size_t i = 0; i < deferred_count_; ++i) {
    const Deferred& q = deferred_[i];
    const registry::Now now = clock_.now();
    std::size_t n = 0;
    try {
      n = handler_.finish_register(std::span(q.bytes.data(), q.len), q.from, now, reply_);
    } catch (const std::exception& e) {
      LOG_WARN("registration: error handling a REGISTER from %s: %s", q.from.to_string().c_str(),
               e.what());
      continue;
    }
    const std::uint64_t ns = ns_since(now.mono);
    register_ns_ += ns;
    ++verified_count_;
    verified_ns_ += ns;
    if (n != 0) reply(q.fd, q.from, n);
  }
  deferred_count_ = 0;
}

void RegistrationServer::reply(int fd, const net::Endpoint& to, std::size_t len) noexcept {
  const sockaddr_in sa = to.to_sockaddr();
  ::sendto(fd, reply_.data(), len, MSG_DONTWAIT, reinterpret_cast<const sockaddr*>(&sa), sizeof sa);
}

void RegistrationServer::revoke(const std::vector<crypto::SerialNumber>& serials) {
  verifier_.set_revoked(serials);
  const std::set<crypto::SerialNumber> revoked(serials.begin(), serials.end());
  if (const auto n = registry_.withdraw_revoked(revoked, clock_.now().mono); n > 0) {
    LOG_WARN("registration: %zu router(s) withdrawn: their certificates are revoked", n);
  }
  notify_if_changed();
  refresh_snapshot(true);
}

RegistrationSnapshot RegistrationServer::snapshot() const {
  std::lock_guard lock(snapshot_mu_);
  return snapshot_;
}

void RegistrationServer::refresh_snapshot(bool routers) noexcept {
  try {
    std::vector<registry::RouterStatus> status;
    if (routers) status = registry_.status(clock_.now().mono);
    const registry::RegistrationCounters counters = handler_.counters();
    std::lock_guard lock(snapshot_mu_);
    if (routers) snapshot_.routers = std::move(status);
    snapshot_.counters = counters;
    snapshot_.register_count = register_count_;
    snapshot_.register_ns = register_ns_;
    snapshot_.verified_count = verified_count_;
    snapshot_.verified_ns = verified_ns_;
    snapshot_.keepalive_count = keepalive_count_;
    snapshot_.keepalive_ns = keepalive_ns_;
    snapshot_.liveness = registry_.liveness();
    snapshot_.router_feedback = feedback_ && feedback_->active();
    if (feedback_) snapshot_.feedback = feedback_->counters();
  } catch (const std::exception&) {
    // Out of memory building a status copy: keep the previous one.
  }
}

void RegistrationServer::notify_if_changed() noexcept {
  if (registry_.version() == published_version_ &&
      registry_.rtt_version() == published_rtt_version_) {
    return;
  }
  if (registry_.version() != published_version_) {
    LOG_INFO("registration: %zu router(s) registered", registry_.up_routers().size());
  }
  published_version_ = registry_.version();
  published_rtt_version_ = registry_.rtt_version();
  try {
    const auto changes = registry_.take_changes();
    if (!changes.empty()) on_change_(changes);
  } catch (const std::exception& e) {
    LOG_ERROR("registration: publishing the table failed: %s", e.what());
  }
  refresh_snapshot(true);
}

}  // namespace dmux::gateway

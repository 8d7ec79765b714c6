#include "gateway/registration_server.h"

#include <sys/socket.h>

#include <array>
#include <chrono>

#include "common/net/udp_socket.h"
#include "common/util/log.h"
#include "common/wire/registration.h"

namespace dmux::gateway {
namespace {
constexpr auto kTick = std::chrono::milliseconds(100);  // expiry resolution
constexpr int kMaxDatagramsPerWakeup = 64;
}  // namespace

RegistrationServer::RegistrationServer(evloop::EventLoop& loop, const RegistrationConfig& config,
                                       OnChange on_change)
    : config_(config),
      on_change_(std::move(on_change)),
      verifier_(crypto::Certificate::load_pem(config.ca_cert_path)),
      registry_(config.registry),
      handler_(config.handler, verifier_, registry_),
      tick_(loop, [this] { on_tick(); }) {
  for (const auto& ep : config_.listen) {
    fds_.push_back(net::open_udp_socket(ep, {.reuse_port = false, .nonblocking = true}));
    const int fd = fds_.back().get();
    watchers_.push_back(
        std::make_unique<evloop::IoWatcher>(loop, fd, [this, fd] { on_readable(fd); }));
  }
  tick_.start_periodic(kTick);
  refresh_snapshot();
}

RegistrationServer::~RegistrationServer() = default;

void RegistrationServer::on_readable(int fd) noexcept {
  std::array<std::byte, 4096> buf;
  std::array<std::byte, 256> reply;
  for (int i = 0; i < kMaxDatagramsPerWakeup; ++i) {
    sockaddr_in from{};
    socklen_t from_len = sizeof from;
    const ssize_t n = ::recvfrom(fd, buf.data(), buf.size(), MSG_DONTWAIT | MSG_TRUNC,
                                 reinterpret_cast<sockaddr*>(&from), &from_len);
    if (n < 0) break;  // drained
    const auto source = net::Endpoint::from_sockaddr(from);
    const std::size_t len = std::min(static_cast<std::size_t>(n), buf.size());
    const auto start = std::chrono::steady_clock::now();
    std::size_t out = 0;
    try {
      out = handler_.on_datagram(std::span(buf.data(), len), source, registry::system_now(), reply);
    } catch (const std::exception& e) {
      LOG_WARN("registration: error handling a datagram from %s: %s", source.to_string().c_str(),
               e.what());
      continue;
    }
    const auto ns = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                                   std::chrono::steady_clock::now() - start)
                                                   .count());
    const auto type = len >= 2 ? std::to_integer<std::uint8_t>(buf[1]) : 0;
    if (type == wire::kTypeRegister) {
      ++register_count_;
      register_ns_ += ns;
    } else if (type == wire::kTypeKeepalive) {
      ++keepalive_count_;
      keepalive_ns_ += ns;
    }
    if (out != 0) {
      ::sendto(fd, reply.data(), out, MSG_DONTWAIT, reinterpret_cast<const sockaddr*>(&from),
               sizeof from);
    }
    notify_if_changed();
  }
  refresh_snapshot();
}

void RegistrationServer::on_tick() noexcept {
  if (const auto n = registry_.expire(registry::system_now().mono); n > 0) {
    LOG_INFO("registration: %zu router(s) expired after %lld ms of silence", n,
             static_cast<long long>(config_.registry.hold_time.count()));
  }
  notify_if_changed();
  refresh_snapshot();
}

RegistrationSnapshot RegistrationServer::snapshot() const {
  std::lock_guard lock(snapshot_mu_);
  return snapshot_;
}

void RegistrationServer::refresh_snapshot() noexcept {
  try {
    RegistrationSnapshot s{registry_.status(registry::system_now().mono),
                           handler_.counters(),
                           register_count_,
                           register_ns_,
                           keepalive_count_,
                           keepalive_ns_};
    std::lock_guard lock(snapshot_mu_);
    snapshot_ = std::move(s);
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
    on_change_();
  } catch (const std::exception& e) {
    LOG_ERROR("registration: publishing the table failed: %s", e.what());
  }
}

}  // namespace dmux::gateway

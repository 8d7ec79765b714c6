#include "gateway/router_feedback_io.h"

#include <linux/icmp.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "common/crypto/crypto.h"
#include "common/net/udp_socket.h"
#include "common/util/log.h"

namespace dmux::gateway {
namespace {
constexpr int kMaxPerWakeup = 256;  // then the loop serves its other watchers

std::uint64_t random_u64() { return crypto::random_u64(); }
}  // namespace

RouterFeedbackIo::RouterFeedbackIo(evloop::EventLoop& loop, const registry::FeedbackConfig& config,
                                   registry::RouterRegistry& registry,
                                   std::function<void()> on_change)
    : loop_(loop),
      config_(config),
      feedback_(config, registry, random_u64),
      on_change_(std::move(on_change)) {}

RouterFeedbackIo::~RouterFeedbackIo() = default;

std::optional<std::string> RouterFeedbackIo::open() {
  if (config_.tunnel_source == 0) return "no --tunnel-source: ICMP could not be told apart";
  net::UniqueFd icmp(::socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMP));
  if (!icmp.valid()) return std::string("raw ICMP socket: ") + std::strerror(errno);
  // Only destination unreachable reaches us: the kernel drops every other type for this socket.
  icmp_filter filter{~(1U << ICMP_DEST_UNREACH)};
  if (::setsockopt(icmp.get(), SOL_RAW, ICMP_FILTER, &filter, sizeof filter) != 0) {
    return std::string("ICMP_FILTER: ") + std::strerror(errno);
  }
  try {
    probe_fd_ = net::open_udp_socket(net::Endpoint{config_.tunnel_source, 0}, {});
  } catch (const std::exception& e) {
    return std::string("probe socket: ") + e.what();
  }
  icmp_fd_ = std::move(icmp);
  watcher_ = std::make_unique<evloop::IoWatcher>(loop_, icmp_fd_.get(), [this] { drain(); });
  return std::nullopt;
}

void RouterFeedbackIo::send(const registry::RouterFeedback::Probe& probe) noexcept {
  const sockaddr_in to = probe.to.to_sockaddr();
  ::sendto(probe_fd_.get(), probe.bytes.data(), probe.bytes.size(), MSG_DONTWAIT,
           reinterpret_cast<const sockaddr*>(&to), sizeof to);
}

void RouterFeedbackIo::probe_silent(const std::vector<std::uint64_t>& sessions,
                                    registry::TimePoint now) noexcept {
  if (!icmp_fd_.valid()) return;
  for (const std::uint64_t id : sessions) {
    registry::RouterFeedback::Probe probe;
    if (feedback_.on_silent(id, now, probe) != registry::FeedbackResult::kProbe) continue;
    send(probe);
    LOG_DEBUG("router feedback: %s silent for 3 keepalive intervals; probing it",
              probe.to.to_string().c_str());
  }
}

void RouterFeedbackIo::drain() noexcept {
  if (!icmp_fd_.valid()) return;
  const auto before =
      feedback_.counters()
          .by_result[static_cast<std::size_t>(registry::FeedbackResult::kConfirmed)];
  for (int i = 0; i < kMaxPerWakeup; ++i) {
    const ssize_t n = ::recv(icmp_fd_.get(), rx_.data(), rx_.size(), MSG_DONTWAIT);
    if (n <= 0) break;
    registry::RouterFeedback::Probe probe;
    const auto now = std::chrono::steady_clock::now();
    const auto r =
        feedback_.on_icmp(std::span(rx_.data(), static_cast<std::size_t>(n)), now, probe);
    if (r == registry::FeedbackResult::kProbe) {
      send(probe);
      LOG_INFO("router feedback: %s refused a TUNNEL; probing it", probe.to.to_string().c_str());
    } else if (r == registry::FeedbackResult::kConfirmed) {
      LOG_WARN("router feedback: nothing listens at a registered router any more; withdrawn");
    }
  }
  if (feedback_.counters()
          .by_result[static_cast<std::size_t>(registry::FeedbackResult::kConfirmed)] != before) {
    on_change_();
  }
}

}  // namespace dmux::gateway

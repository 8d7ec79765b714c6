#include "tools/loadgen/pinger.h"

#include <sys/socket.h>

#include <cerrno>
#include <stdexcept>
#include <system_error>

#include "common/net/udp_socket.h"
#include "common/wire/shim.h"
#include "tools/loadgen/pacer.h"
#include "tools/loadgen/probe.h"
#include "tools/loadgen/stop_signal.h"

namespace dmux::loadgen {
namespace {

std::int64_t now_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

void set_receive_timeout(int fd, std::chrono::microseconds timeout) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1'000'000);
  tv.tv_usec = static_cast<suseconds_t>(timeout.count() % 1'000'000);
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0) {
    throw std::system_error(errno, std::generic_category(), "SO_RCVTIMEO");
  }
}

}  // namespace

Pinger::Pinger(const PingConfig& config)
    : config_(config),
      fd_(net::open_udp_socket(net::Endpoint{config.source_addr, 0},
                               {.reuse_port = false, .nonblocking = false})),
      tx_(config.datagram_bytes),
      rx_(config.datagram_bytes + wire::kMaxHeaderLen + 1),
      rtt_ns_(config.count) {
  if (!build_datagram(tx_, tx_.size(), config_.shim, ProbeStamp{}, stamp_offset_)) {
    throw std::invalid_argument("datagram size " + std::to_string(config_.datagram_bytes) +
                                " is below the minimum " +
                                std::to_string(min_datagram_bytes(config_.shim)));
  }
  set_receive_timeout(fd_.get(), config_.timeout);
}

bool Pinger::parse_reply(std::span<const std::byte> reply, std::uint64_t& seq) const noexcept {
  std::span<const std::byte> payload = reply;
  if (config_.shim.enabled) {
    wire::ShimHeader h;
    if (wire::parse_shim(reply, wire::MsgType::kReturn, h, payload) != wire::ParseStatus::kOk) {
      return false;
    }
  }
  ProbeStamp stamp;
  if (!read_stamp(payload, stamp)) return false;
  seq = stamp.seq;
  return true;
}

Pinger::Outcome Pinger::round_trip(std::uint64_t seq, std::int64_t& rtt_ns,
                                   PingReport& report) noexcept {
  const sockaddr_in to = config_.target.to_sockaddr();
  const std::int64_t t0 = now_ns();
  write_stamp(tx_, stamp_offset_, ProbeStamp{seq, t0});
  if (::sendto(fd_.get(), tx_.data(), tx_.size(), 0, reinterpret_cast<const sockaddr*>(&to),
               sizeof to) < 0) {
    return stop_requested() ? Outcome::kStopped : Outcome::kTimedOut;
  }
  for (;;) {
    const ssize_t n = ::recv(fd_.get(), rx_.data(), rx_.size(), 0);
    if (n < 0) {
      if (stop_requested()) return Outcome::kStopped;
      if (errno == EINTR) continue;
      return Outcome::kTimedOut;  // EAGAIN after SO_RCVTIMEO, or an ICMP error
    }
    const std::int64_t t1 = now_ns();
    std::uint64_t got = 0;
    if (!parse_reply(std::span<const std::byte>(rx_.data(), static_cast<std::size_t>(n)), got)) {
      ++report.invalid;
      continue;
    }
    if (got != seq) {
      ++report.stale;
      continue;
    }
    rtt_ns = t1 - t0;
    return Outcome::kAnswered;
  }
}

PingReport Pinger::run() noexcept {
  tighten_timer_slack();
  PingReport report;
  std::size_t samples = 0;
  unsigned lost_in_a_row = 0;
  const std::uint64_t rounds = std::uint64_t{config_.warmup} + config_.count;
  for (std::uint64_t seq = 0; seq < rounds && !stop_requested(); ++seq) {
    const bool measured = seq >= config_.warmup;
    std::int64_t rtt = 0;
    const auto outcome = round_trip(seq, rtt, report);
    if (outcome == Outcome::kStopped) break;
    lost_in_a_row = outcome == Outcome::kAnswered ? 0 : lost_in_a_row + 1;
    if (config_.give_up_after != 0 && lost_in_a_row >= config_.give_up_after) {
      report.gave_up = true;
      break;
    }
    if (measured) {
      ++report.sent;
      if (outcome == Outcome::kAnswered) {
        ++report.received;
        rtt_ns_[samples++] = rtt;
      } else {
        ++report.lost;
      }
    }
    if (config_.interval.count() > 0) sleep_until(Clock::now() + config_.interval);
  }
  report.rtt = summarize(std::span<std::int64_t>(rtt_ns_.data(), samples));
  return report;
}

}  // namespace dmux::loadgen

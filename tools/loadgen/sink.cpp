#include "tools/loadgen/sink.h"

#include <netinet/udp.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

#include "common/net/udp_socket.h"
#include "common/wire/tunnel_seal.h"
#include "tools/loadgen/pacer.h"
#include "tools/loadgen/probe.h"
#include "tools/loadgen/socket_buffers.h"
#include "tools/loadgen/stop_signal.h"

namespace dmux::loadgen {
namespace {

// With drain_interval 0: how often poll() returns to check the clock and the stop flag.
constexpr auto kPollTick = std::chrono::milliseconds(20);

}  // namespace

Sink::Sink(const SinkConfig& config)
    : config_(config),
      later_(config.tunnel_key ? config.check_later_bytes : 0),
      fd_(net::open_udp_socket(config.listen, {.reuse_port = false, .nonblocking = true})),
      batch_(config.gro ? std::max(1u, config.batch / 16) : config.batch,
             config.gro ? std::size_t{65536} : config.max_datagram_bytes, config.gro) {
  rcvbuf_granted_ = grow_receive_buffer(fd_.get(), config_.rcvbuf_bytes);
  if (config_.gro) {
    const int on = 1;
    if (::setsockopt(fd_.get(), SOL_UDP, UDP_GRO, &on, sizeof on) != 0) {
      throw std::system_error(errno, std::generic_category(), "UDP_GRO");
    }
  }
  if (config_.tunnel_key) key_ = std::make_unique<const crypto::TunnelKey>(*config_.tunnel_key);
}

void Sink::check_tunnel(std::span<std::byte> datagram, SinkReport& report) noexcept {
  wire::TunnelHeader h;
  std::span<const std::byte> payload;
  ProbeStamp stamp;
  if (wire::parse_tunnel(datagram, h, payload) != wire::ParseStatus::kOk ||
      !read_stamp(payload, stamp)) {
    ++report.invalid;
  } else if (key_ && !later_.add(datagram) && !wire::open_tunnel(datagram, h, *key_)) {
    ++report.bad_tag;
  }
}

void Sink::count_batch(unsigned received, SinkReport& report) noexcept {
  for (unsigned i = 0; i < received; ++i) {
    if (batch_.truncated(i)) {
      ++report.packets;
      ++report.truncated;
      continue;
    }
    // A coalesced receive (UDP_GRO) is a run of datagrams of segment_size bytes, the last one
    // possibly shorter.
    const std::span<std::byte> all = batch_.datagram(i);
    const std::size_t seg = batch_.segment_size(i);
    const std::size_t step = seg != 0 && seg < all.size() ? seg : all.size();
    for (std::size_t at = 0; at < all.size(); at += step) {
      const auto datagram = all.subspan(at, std::min(step, all.size() - at));
      if (datagram.size() > config_.max_datagram_bytes) {
        ++report.packets;
        ++report.truncated;
        continue;
      }
      ++report.packets;
      report.bytes += datagram.size();
      if (config_.expect == Expect::kTunnel) check_tunnel(datagram, report);
    }
  }
}

SinkReport Sink::run() noexcept {
  SinkReport report;
  report.rcvbuf_bytes = rcvbuf_granted_;
  const auto start = Clock::now();
  Clock::time_point first{};
  Clock::time_point last{};
  pollfd pfd{fd_.get(), POLLIN, 0};

  while (!stop_requested()) {
    if (config_.drain_interval.count() > 0) {
      sleep_until(Clock::now() + config_.drain_interval);
    } else {
      ::poll(&pfd, 1, static_cast<int>(kPollTick.count()));
    }
    for (;;) {
      batch_.reset();
      const int got = ::recvmmsg(fd_.get(), batch_.msgs(), batch_.size(), MSG_DONTWAIT, nullptr);
      if (got <= 0) break;
      last = Clock::now();
      if (report.packets == 0) first = last;
      count_batch(static_cast<unsigned>(got), report);
      if (static_cast<unsigned>(got) < batch_.size()) break;
    }
    const auto now = Clock::now();
    if (config_.duration.count() > 0 && now - start >= config_.duration) break;
    if (report.packets > 0 && now - last >= config_.idle) break;
  }

  report.elapsed_s = std::chrono::duration<double>(Clock::now() - start).count();
  report.active_s = std::chrono::duration<double>(last - first).count();
  if (key_) {
    report.tags_checked_later = later_.kept();
    report.bad_tag += later_.check_all(*key_);
  }
  return report;
}

}  // namespace dmux::loadgen

#include "bgp-glue/healthcheck/healthcheck_app.h"

#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>

#include "bgp-glue/route_netlink.h"
#include "common/util/log.h"
#include "common/wire/byte_reader.h"
#include "common/wire/byte_writer.h"
#include "common/wire/shim.h"
#include "common/wire/tunnel_seal.h"

namespace dmux::bgp_glue {
namespace {

using Clock = std::chrono::steady_clock;

void send_probe(int fd, const HealthcheckConfig& c, std::uint64_t seq) {
  std::array<std::byte, wire::kDataHeaderLen + 8> out{};
  const wire::ShimHeader h{.flags = 0,
                           .proto_id = wire::ProtoId{c.proto_id},
                           .provider_id = wire::ProviderId{c.provider_id},
                           .token = 0};
  if (wire::write_shim(out, wire::MsgType::kData, h) != wire::kDataHeaderLen) return;
  wire::ByteWriter w{std::span(out).subspan(wire::kDataHeaderLen)};
  w.u64(seq);
  const sockaddr_in to = c.data.to_sockaddr();
  ::sendto(fd, out.data(), out.size(), MSG_DONTWAIT, reinterpret_cast<const sockaddr*>(&to),
           sizeof to);
}

// The probe's sequence number if `d` is a TUNNEL of ours whose tag verifies; 0 otherwise.
std::uint64_t probe_seq(std::span<std::byte> d, const HealthcheckConfig& c,
                        const crypto::TunnelKey& key) {
  wire::TunnelHeader h;
  std::span<const std::byte> payload;
  if (wire::parse_tunnel(d, h, payload) != wire::ParseStatus::kOk ||
      h.proto_id != wire::ProtoId{c.proto_id} || payload.size() != 8 ||
      !wire::open_tunnel(d, h, key)) {
    return 0;
  }
  wire::ByteReader r(payload);
  std::uint64_t seq = 0;
  return r.read_u64(seq) ? seq : 0;
}

// When the datagram last received on `fd` arrived, from its kernel timestamp (CLOCK_REALTIME),
// on the steady clock; now if the kernel has none.
Clock::time_point arrival(int fd) {
  const auto now = Clock::now();
  timespec stamp{};
  if (::ioctl(fd, SIOCGSTAMPNS, &stamp) != 0) return now;
  const auto age = std::chrono::system_clock::now().time_since_epoch() -
                   (std::chrono::seconds(stamp.tv_sec) + std::chrono::nanoseconds(stamp.tv_nsec));
  return age > Clock::duration::zero() ? now - std::chrono::duration_cast<Clock::duration>(age)
                                       : now;
}

}  // namespace

HealthcheckApp::HealthcheckApp(HealthcheckConfig config, const crypto::TunnelKeyBytes& key)
    : config_(std::move(config)),
      key_(key),
      check_(config_.check),
      sock_(net::open_udp_socket(config_.listen, {})) {}

void HealthcheckApp::run() {
  replies_ = std::make_unique<evloop::IoWatcher>(loop_, sock_.get(), [this] { step(); });
  timer_ = std::make_unique<evloop::Timer>(loop_, [this] { step(); });
  signals_ = std::make_unique<app::StopSignals>(loop_, [this](int signo) {
    LOG_INFO("healthcheck: %s, exiting", app::signal_name(signo));
    loop_.stop();
  });
  LOG_INFO("healthcheck: probing %s every %lld ms, back at %s; %u missed in a row take %s down",
           config_.data.to_string().c_str(), static_cast<long long>(config_.check.interval.count()),
           config_.listen.to_string().c_str(), config_.check.fall, config_.device.c_str());
  step();
  loop_.run();
}

void HealthcheckApp::step() {
  read_replies();
  const auto now = Clock::now();
  act(check_.on_timer(now));
  if (now >= check_.next_probe()) send_probe(sock_.get(), config_, check_.on_send(now));
  const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::min(check_.next_probe(), now + config_.check.timeout) - Clock::now());
  timer_->start_once(std::chrono::milliseconds(std::max<long long>(1, wait.count() + 1)));
}

// Every reply queued on the socket, passed to the check with the time it arrived (a reply that
// came in time while this process was stalled is in time).
void HealthcheckApp::read_replies() {
  for (;;) {
    const ssize_t n = ::recv(sock_.get(), rx_.data(), rx_.size(), MSG_DONTWAIT);
    if (n <= 0) return;
    const std::uint64_t seq =
        probe_seq(std::span(rx_).first(static_cast<std::size_t>(n)), config_, key_);
    if (seq != 0) act(check_.on_reply(seq, arrival(sock_.get())));
  }
}

void HealthcheckApp::act(DataPathCheck::Change change) {
  using Change = DataPathCheck::Change;
  if (change == Change::kBecameDead) {
    const bool ok = set_device_up(config_.device, false);
    LOG_WARN("healthcheck: dmuxd forwarded none of the last %u probes: %s %s", config_.check.fall,
             ok ? "withdrawn, device down:" : "could not take down", config_.device.c_str());
  } else if (change == Change::kBecameAlive) {
    LOG_INFO("healthcheck: dmuxd forwards (%llu of %llu probes answered); it re-announces itself",
             static_cast<unsigned long long>(check_.answered()),
             static_cast<unsigned long long>(check_.sent()));
  }
}

}  // namespace dmux::bgp_glue

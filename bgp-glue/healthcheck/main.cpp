// dmux-healthcheck: a data-path watchdog beside dmuxd, for hangs that fate-sharing cannot see (a
// SIGSTOPped or deadlocked dmuxd keeps its TUN device, hence its route). Every --interval-ms it
// sends dmuxd one DATA probe; dmuxd tunnels it back to this process (a --static-router of the
// health protocol points here). After --fall probes missed in a row it takes dmuxd's announcement
// device down, so the kernel deletes the route and FRR withdraws the prefix; dmuxd, when it runs
// again, notices (bgp-glue/announcer.h), brings the device up and re-announces after its own rise.
// A separate process on purpose: a frozen process runs none of its threads.
#include <linux/sockios.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <exception>
#include <memory>

#include "bgp-glue/data_path_check.h"
#include "bgp-glue/healthcheck/options.h"
#include "bgp-glue/route_netlink.h"
#include "common/crypto/data_path_mac.h"
#include "common/net/udp_socket.h"
#include "common/util/hex_key_file.h"
#include "common/util/log.h"
#include "common/wire/byte_reader.h"
#include "common/wire/byte_writer.h"
#include "common/wire/shim.h"
#include "common/wire/tunnel_seal.h"

using namespace dmux;
using Clock = std::chrono::steady_clock;

namespace {

void send_probe(int fd, const bgp_glue::HealthcheckConfig& c, std::uint64_t seq) {
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
std::uint64_t probe_seq(std::span<std::byte> d, const bgp_glue::HealthcheckConfig& c,
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

void act(bgp_glue::DataPathCheck::Change change, const bgp_glue::HealthcheckConfig& c,
         const bgp_glue::DataPathCheck& check) {
  using Change = bgp_glue::DataPathCheck::Change;
  if (change == Change::kBecameDead) {
    const bool ok = bgp_glue::set_device_up(c.device, false);
    LOG_WARN("healthcheck: dmuxd forwarded none of the last %u probes: %s %s", c.check.fall,
             ok ? "withdrawn, device down:" : "could not take down", c.device.c_str());
  } else if (change == Change::kBecameAlive) {
    LOG_INFO("healthcheck: dmuxd forwards (%llu of %llu probes answered); it re-announces itself",
             static_cast<unsigned long long>(check.answered()),
             static_cast<unsigned long long>(check.sent()));
  }
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

// Every reply queued on the socket, passed to the check with the time it arrived (a reply that
// came in time while this process was stalled is in time).
void read_replies(int fd, std::span<std::byte> rx, const bgp_glue::HealthcheckConfig& c,
                  const crypto::TunnelKey& key, bgp_glue::DataPathCheck& check) {
  for (;;) {
    const ssize_t n = ::recv(fd, rx.data(), rx.size(), MSG_DONTWAIT);
    if (n <= 0) return;
    const std::uint64_t seq = probe_seq(rx.first(static_cast<std::size_t>(n)), c, key);
    if (seq != 0) act(check.on_reply(seq, arrival(fd)), c, check);
  }
}

int run(const bgp_glue::HealthcheckConfig& c) {
  crypto::TunnelKeyBytes key_bytes{};
  if (const auto err = util::read_hex_key_file(c.key_file, key_bytes); !err.empty()) {
    std::fprintf(stderr, "dmux-healthcheck: --key: %s\n", err.c_str());
    return 2;
  }
  const crypto::TunnelKey key(key_bytes);
  const net::UniqueFd sock = net::open_udp_socket(c.listen, {});
  bgp_glue::DataPathCheck check(c.check);
  std::array<std::byte, 2048> rx{};
  LOG_INFO("healthcheck: probing %s every %lld ms, back at %s; %u missed in a row take %s down",
           c.data.to_string().c_str(), static_cast<long long>(c.check.interval.count()),
           c.listen.to_string().c_str(), c.check.fall, c.device.c_str());
  for (;;) {
    // Read first, judge second: after a stall of this process, replies already queued count
    // (the checker's own delay is not dmuxd's).
    read_replies(sock.get(), rx, c, key, check);
    const auto now = Clock::now();
    act(check.on_timer(now), c, check);
    if (now >= check.next_probe()) send_probe(sock.get(), c, check.on_send(now));
    const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::min(check.next_probe(), now + c.check.timeout) - Clock::now());
    pollfd p{sock.get(), POLLIN, 0};
    (void)::poll(&p, 1, static_cast<int>(std::max<long long>(1, wait.count() + 1)));
  }
}
}  // namespace

int main(int argc, char** argv) {
  try {
    const auto config = bgp_glue::parse_healthcheck_options(argc, argv);
    return config ? run(*config) : 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dmux-healthcheck: %s\n", e.what());
    return 2;
  }
}

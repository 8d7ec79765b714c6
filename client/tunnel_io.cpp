#include "client/tunnel_io.h"

#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <array>

#include "common/net/tso.h"
#include "common/net/virtio_hdr.h"
#include "common/wire/shim.h"

namespace dmux::client {
namespace {

constexpr std::size_t kHeadroom = wire::kDataHeaderLen;  // each segment's DATA header
constexpr std::size_t kMaxHeaders = 120;                 // IPv4 (60) or IPv6 (40) + TCP (60)
constexpr std::size_t kMaxSegments = 64;                 // per read; a 64 KiB TSO packet: ~50
constexpr std::size_t kReceiveBatch = 32;

}  // namespace

TunnelIo::TunnelIo(const TunnelIoConfig& config, CapturePath& path)
    : config_(config),
      path_(path),
      tun_buffer_(net::kVirtioNetHdrLen + 65535),
      sends_(config.socket_fd, net::UdpSendBatchConfig{.max_bytes = 1 << 20,
                                                       .max_datagrams = 1024,
                                                       .max_segments = kMaxSegments,
                                                       .max_gso_bytes = 65000,
                                                       .gso = config.gso}),
      receiver_(config.socket_fd, net::UdpReceiveConfig{.batch = kReceiveBatch,
                                                        .buffer_bytes = 65536,
                                                        .max_datagrams = kReceiveBatch * 64,
                                                        .gro = config.gro}),
      gro_(net::GroConfig{.max_packets = kReceiveBatch * 64,
                          .max_super_len = 65535,
                          .max_segments = 64,
                          .coalesce_udp = config.tun_uso}) {}

void TunnelIo::on_tun_readable(std::size_t max_packets) noexcept {
  const std::uint64_t failures = sends_.counters().send_failures;
  for (std::size_t n = 0; n < max_packets; ++n) {
    const ssize_t len = ::read(config_.tun_fd, tun_buffer_.data(), tun_buffer_.size());
    if (len <= 0) break;  // EAGAIN: drained
    capture(std::span<const std::byte>(tun_buffer_.data(), static_cast<std::size_t>(len)));
  }
  sends_.flush();
  path_.failed(Drop::kSendFailed, sends_.counters().send_failures - failures);
}

// One read: cut into segments right behind their DATA headers, queued as one GSO run. The
// segments share their headers, so the path passes all of them or (at the first) none.
void TunnelIo::capture(std::span<const std::byte> read) noexcept {
  ++counters_.tun_reads;
  net::VirtioNetHdr vh;
  if (net::parse_virtio_hdr(read, vh) != net::VirtioStatus::kOk) {
    ++counters_.bad_reads;
    path_.failed(Drop::kBadPacket);
    return;
  }
  const std::span<const std::byte> packet = read.subspan(net::kVirtioNetHdrLen);
  std::size_t segments = 1;
  if (vh.is_gso() && config_.mtu > kMaxHeaders) {
    // Each segment carries at least this much payload: an upper bound of their number.
    const std::size_t least = std::min<std::size_t>(vh.gso_size, config_.mtu - kMaxHeaders);
    segments = packet.size() / std::max<std::size_t>(least, 1) + 1;
  }
  const std::span<std::byte> room =
      segments > kMaxSegments
          ? std::span<std::byte>{}
          : sends_.reserve(net::segment_room(packet.size(), kMaxHeaders, segments, kHeadroom),
                           segments);
  net::SegmentLayout layout;
  if (room.empty() || net::segment_packet(vh, packet, config_.mtu, kHeadroom, room, layout) !=
                          net::TsoStatus::kOk) {
    ++counters_.bad_reads;
    path_.failed(Drop::kBadPacket);
    return;
  }
  if (layout.count > 1) ++counters_.super_packets;
  for (std::size_t i = 0; i < layout.count; ++i) {
    const auto header = room.subspan(i * layout.datagram_len).first<wire::kDataHeaderLen>();
    if (path_.on_captured(layout.packet(room, kHeadroom, i), header) !=
        CapturePath::CaptureKind::kSend)
      return;  // counted; nothing of this read is queued
  }
  sends_.commit(config_.gateway, layout.count, layout.datagram_len, layout.last_len);
  for (std::size_t i = 0; i < layout.count; ++i)
    path_.tunnelled(layout.packet(room, kHeadroom, i).size());
}

void TunnelIo::on_socket_readable(std::size_t max_bursts, Clock::time_point now,
                                  ReturnHandler& handler) noexcept {
  for (std::size_t burst = 0; burst < max_bursts; ++burst) {
    const std::size_t n = receiver_.receive();
    if (n == 0) return;
    for (std::size_t i = 0; i < n; ++i) {
      ReturnResult r;
      const CapturePath::ReturnKind kind = path_.on_return(receiver_.datagram(i), now, r);
      if (kind != CapturePath::ReturnKind::kInject) {
        handler.on_other_return(kind, r, receiver_.from(i), now);
        continue;
      }
      if (!gro_.add(r.packet)) {
        write_coalesced();  // full
        if (!gro_.add(r.packet)) {
          path_.failed(Drop::kTunWriteFailed);
          continue;
        }
      }
      path_.injected(r.packet.size());
    }
    write_coalesced();                // before the next receive(): the batch refers to its buffers
    if (receiver_.drained()) return;  // no recvmmsg just to learn EAGAIN
  }
}

bool TunnelIo::write_packet(std::span<const std::byte> packet) noexcept {
  std::array<std::byte, net::kVirtioNetHdrLen> vh{};  // no offload: a plain packet
  std::array<iovec, 2> iov{iovec{vh.data(), vh.size()},
                           iovec{const_cast<std::byte*>(packet.data()), packet.size()}};
  if (::writev(config_.tun_fd, iov.data(), static_cast<int>(iov.size())) ==
      static_cast<ssize_t>(vh.size() + packet.size())) {
    ++counters_.tun_writes;
    return true;
  }
  ++counters_.tun_write_failures;
  return false;
}

void TunnelIo::write_coalesced() noexcept {
  for (const net::GroWrite& w : gro_.flush()) {
    if (::writev(config_.tun_fd, w.pieces.data(), static_cast<int>(w.pieces.size())) ==
        static_cast<ssize_t>(w.size)) {
      ++counters_.tun_writes;
    } else {
      ++counters_.tun_write_failures;
      for (std::uint32_t k = 0; k < w.packets; ++k) path_.failed(Drop::kTunWriteFailed);
    }
  }
}

}  // namespace dmux::client

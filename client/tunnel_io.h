// The data path's system calls, with the kernel's offloads: TUN reads (a virtio_net_hdr and up to
// 64 KiB: TCP, and with USO UDP, super-packets) cut into segments of at most the MTU right behind
// their DATA headers (software TSO, net/tso.h) and sent as UDP GSO runs (net/udp_gso.h); RETURNs
// received with UDP GRO (net/udp_gro.h), the packets to inject coalesced into few TUN writes
// (software GRO, net/gro.h). The decisions (what is captured, what is injected) are CapturePath's.
//
// Single-threaded (the event loop's). Buffers are allocated in the constructor (which throws
// std::bad_alloc or std::invalid_argument); the handlers never allocate, block or throw. The TUN
// descriptor and the socket are the caller's and non-blocking.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "client/capture_path.h"
#include "common/net/endpoint.h"
#include "common/net/gro.h"
#include "common/net/udp_gro.h"
#include "common/net/udp_gso.h"

namespace dmux::client {

struct TunnelIoConfig {
  int tun_fd = -1;
  bool tun_uso = false;  // the TUN device takes UDP super-packets (TUN_F_USO4/6): coalesce UDP too
  int socket_fd = -1;
  net::Endpoint gateway;   // where DATA goes
  std::size_t mtu = 1400;  // largest IP packet in one DATA
  bool gso = true;         // UDP_SEGMENT sends (false: one datagram per message)
  bool gro = true;         // UDP_GRO on the socket
};

// What the socket side hands back: RETURNs that are not packets to inject.
class ReturnHandler {
 public:
  virtual void on_other_return(CapturePath::ReturnKind kind, const ReturnResult& r,
                               const net::Endpoint& from, Clock::time_point now) noexcept = 0;

 protected:
  virtual ~ReturnHandler() = default;
};

struct TunnelIoCounters {
  std::uint64_t tun_reads = 0;      // packets (super-packets counted once) read
  std::uint64_t super_packets = 0;  // reads that were cut into more than one segment
  std::uint64_t bad_reads = 0;      // reads whose virtio_net_hdr or packet could not be cut
  std::uint64_t tun_writes = 0;     // TUN writes (a coalesced super-packet counted once)
  std::uint64_t tun_write_failures = 0;
};

class TunnelIo {
 public:
  TunnelIo(const TunnelIoConfig& config, CapturePath& path);

  // Reads the TUN device dry (at most `max_packets` reads) and sends what the path tunnels.
  void on_tun_readable(std::size_t max_packets) noexcept;
  // Receives RETURNs (at most `max_bursts` recvmmsg calls); injects, or hands to `handler`.
  void on_socket_readable(std::size_t max_bursts, Clock::time_point now,
                          ReturnHandler& handler) noexcept;

  // Writes one packet of our own into the TUN device (the host receives it); false if the write
  // failed (counted).
  bool write_packet(std::span<const std::byte> packet) noexcept;

  [[nodiscard]] const TunnelIoCounters& counters() const noexcept { return counters_; }
  [[nodiscard]] const net::UdpSendCounters& send_counters() const noexcept {
    return sends_.counters();
  }
  [[nodiscard]] const net::UdpReceiveCounters& receive_counters() const noexcept {
    return receiver_.counters();
  }
  [[nodiscard]] const net::GroCounters& gro_counters() const noexcept { return gro_.counters(); }
  [[nodiscard]] bool gso_enabled() const noexcept { return sends_.gso_enabled(); }
  [[nodiscard]] bool gro_enabled() const noexcept { return receiver_.gro_enabled(); }

 private:
  void capture(std::span<const std::byte> read) noexcept;
  void write_coalesced() noexcept;

  TunnelIoConfig config_;
  CapturePath& path_;
  std::vector<std::byte> tun_buffer_;  // one read: virtio_net_hdr + the largest IP packet
  net::UdpSendBatch sends_;
  net::UdpBatchReceiver receiver_;
  net::GroBatch gro_;
  TunnelIoCounters counters_;
};

}  // namespace dmux::client

// Receiving many UDP datagrams with few system calls: one recvmmsg fills up to `batch` buffers,
// and with UDP_GRO on the socket each buffer may hold several datagrams of one sender, all of the
// size the UDP_GRO control message names except a shorter last; receive() splits them again, so
// the caller sees one span per datagram, exactly as sent.
//
// fd: a non-blocking UDP (IPv4) socket owned by the caller. Received bytes are untrusted; the
// split trusts only the kernel's segment size and the byte count. Memory is allocated in the
// constructor only; receive() never allocates or throws. Single-threaded.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "common/net/endpoint.h"

namespace dmux::net {

// Turns on UDP_GRO (Linux 5.0+). False if the kernel refuses (then datagrams arrive one by one).
bool enable_udp_gro(int fd) noexcept;

// Splits a buffer of `bytes` received with GRO segment size `segment` (0: no GRO, one datagram)
// into datagram views, written to `out`. Returns how many; stops when `out` is full (the rest is
// lost, and counted by the caller as the difference).
std::size_t split_gro_buffer(std::span<std::byte> bytes, std::size_t segment,
                             std::span<std::span<std::byte>> out) noexcept;

struct UdpReceiveConfig {
  std::size_t batch = 32;               // buffers per recvmmsg
  std::size_t buffer_bytes = 65536;     // per buffer: a whole GRO train or the largest datagram
  std::size_t max_datagrams = 32 * 64;  // views after splitting
  bool gro = true;                      // try UDP_GRO on the socket
  // Free bytes kept in front of every buffer. A caller that grows each datagram's header in place
  // (dmuxd: DATA -> TUNNEL) may then use the `headroom` bytes before any view: free bytes for the
  // first datagram of a buffer, the tail of the datagrams before it in the same buffer for the
  // others (which it must put back before it uses those).
  std::size_t headroom = 0;
};

struct UdpReceiveCounters {
  std::uint64_t syscalls = 0;
  std::uint64_t buffers = 0;      // what recvmmsg returned
  std::uint64_t datagrams = 0;    // after splitting
  std::uint64_t gro_buffers = 0;  // buffers that held more than one datagram
  std::uint64_t truncated = 0;    // buffers the kernel truncated (MSG_TRUNC), dropped
};

class UdpBatchReceiver {
 public:
  // Turns on GRO if asked. Throws std::invalid_argument for an unusable config, std::bad_alloc.
  UdpBatchReceiver(int fd, const UdpReceiveConfig& config);
  // Its message headers point into its own buffers: neither copied nor moved.
  UdpBatchReceiver(const UdpBatchReceiver&) = delete;
  UdpBatchReceiver& operator=(const UdpBatchReceiver&) = delete;

  // One recvmmsg without waiting. Returns the datagrams now available through datagram() and
  // from(); 0 if none (EAGAIN) or an error. Views stay valid until the next receive().
  std::size_t receive() noexcept;
  // Whether the last receive() found the socket empty: it filled fewer buffers than the batch (or
  // none). A caller that drains a socket stops here instead of paying a recvmmsg for EAGAIN; a
  // datagram that arrived since leaves the socket readable for the next wake-up.
  [[nodiscard]] bool drained() const noexcept { return drained_; }
  [[nodiscard]] std::span<std::byte> datagram(std::size_t i) const noexcept { return views_[i]; }
  [[nodiscard]] const Endpoint& from(std::size_t i) const noexcept { return senders_[i]; }

  [[nodiscard]] bool gro_enabled() const noexcept { return gro_; }
  [[nodiscard]] const UdpReceiveCounters& counters() const noexcept { return counters_; }

 private:
  int fd_;
  UdpReceiveConfig config_;
  bool gro_ = false;
  bool drained_ = true;
  [[nodiscard]] std::byte* buffer(std::size_t i) noexcept {
    return buffers_.data() + i * (config_.headroom + config_.buffer_bytes) + config_.headroom;
  }

  std::vector<std::byte> buffers_;   // batch * (headroom + buffer_bytes)
  std::vector<std::byte> controls_;  // batch * kControlBytes
  std::vector<sockaddr_in> names_;
  std::vector<iovec> iovs_;
  std::vector<mmsghdr> headers_;
  std::vector<std::span<std::byte>> views_;
  std::vector<Endpoint> senders_;
  UdpReceiveCounters counters_;
};

}  // namespace dmux::net

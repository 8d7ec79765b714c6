// Sending many UDP datagrams with few system calls: datagrams are queued into one preallocated
// buffer, and flush() sends each run of consecutive datagrams to one destination with the same
// length (the run's last may be shorter) as one sendmsg with UDP_SEGMENT (the kernel cuts it),
// all runs in one sendmmsg. The kernel may refuse GSO (no support, a segment larger than the
// route MTU, a device without checksum offload): the refused run is sent again datagram by
// datagram, and after kMaxGsoRefusals refusals in a row the batch stops trying GSO for good.
//
// For the agents' RETURNs and the client's DATA. fd: a non-blocking UDP (IPv4) socket owned by
// the caller. Memory is allocated in the constructor only; the rest never allocates or throws.
// Single-threaded.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "common/net/endpoint.h"

namespace dmux::net {

struct UdpSendBatchConfig {
  std::size_t max_bytes = 1 << 20;    // bytes queued before flush() must be called
  std::size_t max_datagrams = 1024;   // datagrams queued
  std::size_t max_segments = 64;      // datagrams in one GSO send (UDP_MAX_SEGMENTS is 64+)
  std::size_t max_gso_bytes = 65000;  // bytes of one GSO send (a 64 KiB IP datagram at most)
  bool gso = true;                    // false: never try UDP_SEGMENT
};

struct UdpSendCounters {
  std::uint64_t datagrams_sent = 0;  // accepted by the kernel
  std::uint64_t send_failures = 0;   // datagrams the kernel refused (counted, dropped)
  std::uint64_t gso_sends = 0;       // UDP_SEGMENT messages accepted
  std::uint64_t gso_refusals = 0;    // UDP_SEGMENT messages refused and resent one by one
  std::uint64_t syscalls = 0;
};

inline constexpr int kMaxGsoRefusals = 8;

class UdpSendBatch {
 public:
  // Throws std::invalid_argument for an unusable config, std::bad_alloc.
  UdpSendBatch(int fd, const UdpSendBatchConfig& config);

  // Writable room for `bytes` (up to `datagrams` datagrams) at the end of the queue, flushing
  // first if the queue has less free. Empty if `bytes` exceeds max_bytes or `datagrams`
  // max_datagrams. Write datagrams there, then commit().
  std::span<std::byte> reserve(std::size_t bytes, std::size_t datagrams = 64) noexcept;
  // Queues `count` datagrams written back to back at the start of the last reserve()d room, each
  // `datagram_len` bytes but the last, which has `last_len` (segment_packet()'s SegmentLayout).
  void commit(const Endpoint& to, std::size_t count, std::size_t datagram_len,
              std::size_t last_len) noexcept;
  // Copies one datagram made of `header` then `payload` into the queue. False if it cannot fit.
  bool add(const Endpoint& to, std::span<const std::byte> header,
           std::span<const std::byte> payload) noexcept;

  [[nodiscard]] bool empty() const noexcept { return queued_ == 0; }
  // Sends everything queued; the queue is empty after. Returns the datagrams the kernel accepted;
  // the rest is counted in send_failures (EAGAIN included: UDP has no backpressure to wait for).
  std::size_t flush() noexcept;

  [[nodiscard]] bool gso_enabled() const noexcept { return gso_; }
  [[nodiscard]] const UdpSendCounters& counters() const noexcept { return counters_; }

 private:
  struct Run {
    Endpoint to;
    std::size_t offset = 0;   // in buffer_
    std::size_t count = 0;    // datagrams
    std::size_t segment = 0;  // length of each but the last
    std::size_t last = 0;     // length of the last
  };
  void append(const Endpoint& to, std::size_t offset, std::size_t len) noexcept;
  std::size_t prepare(const Run& run, std::size_t m) noexcept;  // msghdrs for a run, from m
  void set_message(std::size_t m, const Endpoint& to, std::size_t offset, std::size_t len,
                   std::size_t segment) noexcept;
  std::size_t send_one_by_one(const Run& run) noexcept;

  int fd_;
  UdpSendBatchConfig config_;
  bool gso_;
  int refusals_in_a_row_ = 0;
  std::vector<std::byte> buffer_;
  std::size_t used_ = 0;
  std::size_t reserved_at_ = 0;
  std::vector<Run> runs_;  // max_datagrams
  std::size_t run_count_ = 0;
  std::vector<mmsghdr> messages_;         // max_datagrams, built by flush()
  std::vector<std::size_t> message_run_;  // the run of each message
  std::vector<iovec> iovs_;
  std::vector<sockaddr_in> names_;
  std::vector<std::byte> controls_;  // a UDP_SEGMENT cmsg per message
  std::size_t queued_ = 0;
  UdpSendCounters counters_;
};

}  // namespace dmux::net

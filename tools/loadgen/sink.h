// `dmux-loadgen sink`: receives and counts datagrams, optionally checking that each is a
// well-formed TUNNEL carrying a loadgen stamp. It drains the socket with recvmmsg every
// drain_interval (sleeping in between, see SinkConfig), so it measures without taxing the path.
// Received bytes are untrusted; they are only read through wire::parse_tunnel and read_stamp.
//
// Threading: one thread, the caller's. run() never allocates.
#pragma once

#include <cstdint>

#include "common/net/unique_fd.h"
#include "tools/loadgen/config.h"
#include "tools/loadgen/recv_batch.h"

namespace dmux::loadgen {

struct SinkReport {
  std::uint64_t packets = 0;    // every datagram received
  std::uint64_t bytes = 0;      // their UDP payload bytes
  std::uint64_t invalid = 0;    // with Expect::kTunnel: not a TUNNEL, or no loadgen stamp
  std::uint64_t truncated = 0;  // longer than max_datagram_bytes
  double active_s = 0;          // first to last datagram
  double elapsed_s = 0;         // start to stop
  int rcvbuf_bytes = 0;         // the receive buffer the kernel granted
};

class Sink {
 public:
  // Binds the socket. Throws std::system_error.
  explicit Sink(const SinkConfig& config);

  // Receives until the duration ends, the sender has been idle for `idle`, or SIGINT/SIGTERM.
  SinkReport run() noexcept;

 private:
  void count_batch(unsigned received, SinkReport& report) noexcept;

  SinkConfig config_;
  net::UniqueFd fd_;
  RecvBatch batch_;
  int rcvbuf_granted_ = 0;
};

}  // namespace dmux::loadgen

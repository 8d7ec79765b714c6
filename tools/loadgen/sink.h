// `dmux-loadgen sink`: receives and counts datagrams, optionally checking that each is a
// well-formed TUNNEL carrying a loadgen stamp, and that its tag is right under the router's key.
// It drains the socket with recvmmsg every drain_interval (sleeping in between, see SinkConfig),
// so it measures without taxing the path.
// Received bytes are untrusted; they are only read through wire::parse_tunnel, wire::open_tunnel
// and read_stamp.
//
// Threading: one thread, the caller's. run() never allocates.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "common/crypto/data_path_mac.h"
#include "common/net/unique_fd.h"
#include "tools/loadgen/config.h"
#include "tools/loadgen/deferred_tag_check.h"
#include "tools/loadgen/recv_batch.h"

namespace dmux::loadgen {

struct SinkReport {
  std::uint64_t packets = 0;  // every datagram received
  std::uint64_t bytes = 0;    // their UDP payload bytes
  std::uint64_t invalid = 0;  // with Expect::kTunnel: not a TUNNEL, or no loadgen stamp
  std::uint64_t bad_tag = 0;  // with a tunnel key: a TUNNEL whose tag is wrong (fails the run)
  std::uint64_t tags_checked_later = 0;  // of the TUNNELs, checked after the run (check_later)
  std::uint64_t truncated = 0;           // longer than max_datagram_bytes
  double active_s = 0;                   // first to last datagram
  double elapsed_s = 0;                  // start to stop
  int rcvbuf_bytes = 0;                  // the receive buffer the kernel granted
};

class Sink {
 public:
  // Binds the socket. Throws std::system_error.
  explicit Sink(const SinkConfig& config);

  // Receives until the duration ends, the sender has been idle for `idle`, or SIGINT/SIGTERM.
  SinkReport run() noexcept;

 private:
  void count_batch(unsigned received, SinkReport& report) noexcept;
  void check_tunnel(std::span<std::byte> datagram, SinkReport& report) noexcept;

  SinkConfig config_;
  DeferredTagCheck later_;  // empty unless check_later_bytes; filled before the socket is bound
  net::UniqueFd fd_;
  RecvBatch batch_;
  std::unique_ptr<const crypto::TunnelKey> key_;  // set if tags are checked
  int rcvbuf_granted_ = 0;
};

}  // namespace dmux::loadgen

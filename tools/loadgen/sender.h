// `dmux-loadgen send`: UDP datagrams at a target rate over several flows, in sendmmsg batches.
//
// Every datagram is the same bytes (built once in the constructor); each batch goes out on the
// next flow in turn. Threading: one thread, the caller's. run() never allocates.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <vector>

#include "common/net/unique_fd.h"
#include "tools/loadgen/config.h"

namespace dmux::loadgen {

struct SendReport {
  std::uint64_t packets = 0;      // datagrams the kernel accepted
  std::uint64_t bytes = 0;        // their UDP payload bytes
  std::uint64_t send_errors = 0;  // failed sendmmsg calls (e.g. ECONNREFUSED after an ICMP error)
  double elapsed_s = 0;           // from the first send to the end of the run
  double achieved_pps = 0;        // packets / elapsed_s
};

class Sender {
 public:
  // Opens the flow sockets and builds the datagram. Throws std::system_error or
  // std::invalid_argument (datagram too small for the header and stamp).
  explicit Sender(const SendConfig& config);

  // Sends until the duration ends or SIGINT/SIGTERM.
  SendReport run() noexcept;

  [[nodiscard]] const SendConfig& config() const noexcept { return config_; }

 private:
  SendConfig config_;
  std::vector<net::UniqueFd> flows_;
  std::vector<std::byte> datagram_;
  iovec iov_{};
  std::vector<mmsghdr> msgs_;  // `batch` entries, all pointing at iov_
};

}  // namespace dmux::loadgen

// `dmux-loadgen ping`: round-trip latency with exactly one datagram in flight.
//
// Each round stamps a sequence number and the send time into the datagram, sends it (as DATA to a
// gateway, or raw), and blocks until the echo comes back or the timeout passes. Replies are
// untrusted bytes: RETURN headers go through wire::parse_shim, stamps through read_stamp, and a
// reply whose sequence number is not the one in flight is counted and ignored.
//
// Threading: one thread, the caller's. Blocking receives on purpose: pinned to one CPU with the
// echo side, a spinning pinger would steal the CPU the packet needs. run() never allocates.
#pragma once

#include <cstdint>
#include <vector>

#include "common/net/unique_fd.h"
#include "tools/loadgen/config.h"
#include "tools/loadgen/latency_summary.h"

namespace dmux::loadgen {

struct PingReport {
  std::uint64_t sent = 0;      // measured rounds started (warm-up excluded)
  std::uint64_t received = 0;  // measured rounds answered in time
  std::uint64_t lost = 0;      // measured rounds that timed out
  std::uint64_t stale = 0;     // replies for an earlier round (arrived after its timeout)
  std::uint64_t invalid = 0;   // replies that were not a RETURN/raw datagram with a stamp
  bool gave_up = false;        // stopped early: give_up_after losses in a row
  LatencySummary rtt;
};

class Pinger {
 public:
  // Binds the socket and builds the datagram. Throws std::system_error or std::invalid_argument.
  explicit Pinger(const PingConfig& config);

  PingReport run() noexcept;

 private:
  enum class Outcome { kAnswered, kTimedOut, kStopped };
  // Sends round `seq` and waits for its echo; on kAnswered sets rtt_ns.
  Outcome round_trip(std::uint64_t seq, std::int64_t& rtt_ns, PingReport& report) noexcept;
  // Extracts the stamp from a reply; false if the reply is not one of ours.
  bool parse_reply(std::span<const std::byte> reply, std::uint64_t& seq) const noexcept;

  PingConfig config_;
  net::UniqueFd fd_;
  std::vector<std::byte> tx_;
  std::size_t stamp_offset_ = 0;
  std::vector<std::byte> rx_;
  std::vector<std::int64_t> rtt_ns_;  // `count` slots, filled in order
};

}  // namespace dmux::loadgen

// Sends one receive batch's worth of TUNNEL datagrams with as few system calls as possible.
//
// Packets are queued in arrival order, then flush() coalesces each run of equal-size datagrams to
// the same router into one UDP GSO send (one or two iovecs per datagram; UDP_SEGMENT: the kernel
// splits the concatenation back into the original datagrams), and sends all runs with one sendmmsg.
// Order per router is kept. A GSO send the kernel refuses is resent datagram by datagram; after
// kMaxGsoFailures refusals in a row the batch stops using GSO for good.
//
// Threading: owned and used by one worker thread. All storage is sized in the constructor; queue()
// and flush() never allocate, block or throw.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "common/net/endpoint.h"
#include "common/wire/ids.h"
#include "gateway/dataplane/counters.h"

namespace dmux::gateway {

// One datagram in the caller's buffers, valid until flush(): `head` alone (the worker's receive
// slot: the TUNNEL header written in front of the payload), or `head` then `body` (a TUNNEL
// header of its own, then the payload where GRO received it), sent as one or two iovecs.
struct OutPacket {
  std::span<const std::byte> head;
  std::span<const std::byte> body;  // empty: `head` is the whole datagram
  net::Endpoint dest;
  wire::ProtoId proto_id;
  [[nodiscard]] std::size_t size() const noexcept { return head.size() + body.size(); }
  [[nodiscard]] unsigned iovecs() const noexcept { return body.empty() ? 1 : 2; }
};

struct SendGroup {
  net::Endpoint dest;
  std::size_t segment_size = 0;  // size of every datagram but possibly the last
  std::size_t bytes = 0;
  unsigned count = 0;
  bool closed = false;  // a shorter last datagram ends a group
};

struct GsoLimits {
  unsigned max_segments = 64;     // UDP_MAX_SEGMENTS in Linux
  std::size_t max_bytes = 65000;  // one GSO send must fit a 64 KiB IP datagram
  // Segments must fit the path MTU unfragmented (the kernel refuses GSO otherwise): 1500 - 28.
  std::size_t max_segment_size = 1472;
};

// Assigns each packet (in order) to a group: same destination, equal sizes, the last one may be
// shorter. Writes the group of packet i to group_of[i]; returns the number of groups. Pure.
std::size_t plan_send_groups(std::span<const OutPacket> packets, std::span<SendGroup> groups,
                             std::span<std::uint32_t> group_of, const GsoLimits& limits) noexcept;

class EgressBatch {
 public:
  EgressBatch(unsigned capacity, bool use_gso);

  void queue(const OutPacket& p) noexcept { packets_[queued_++] = p; }
  [[nodiscard]] unsigned queued() const noexcept { return queued_; }

  // Sends everything queued on `fd`, counts sent packets and send failures, and empties the batch.
  void flush(int fd, DataPathCounters& counters) noexcept;

  [[nodiscard]] bool gso_enabled() const noexcept { return use_gso_; }

 private:
  std::size_t build_messages(std::size_t groups) noexcept;
  void send_one_by_one(int fd, std::size_t group, DataPathCounters& counters) noexcept;
  void count_results(DataPathCounters& counters) noexcept;

  enum class Result : std::uint8_t { kSent, kFailed, kCountedAlready };

  static constexpr int kMaxGsoFailures = 3;
  bool use_gso_;
  int gso_failures_ = 0;
  unsigned queued_ = 0;
  std::vector<OutPacket> packets_;
  std::vector<SendGroup> groups_;
  std::vector<std::uint32_t> group_of_;
  std::vector<std::uint32_t> first_iov_;  // per group: index of its first iovec
  std::vector<std::uint32_t> iov_count_;  // per group: its iovecs
  std::vector<iovec> iov_;                // 1 or 2 per packet, grouped
  std::vector<sockaddr_in> addr_;         // per group
  std::vector<mmsghdr> msgs_;             // per group
  std::vector<Result> group_result_;      // per group, set by flush()
  std::vector<std::byte> control_;        // per group: one UDP_SEGMENT cmsg
};

}  // namespace dmux::gateway

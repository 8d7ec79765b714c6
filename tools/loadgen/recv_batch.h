// Preallocated receive slots for recvmmsg: one buffer and iovec per slot. Source addresses are not
// asked for (the kernel then spares copying one per datagram). Built once; reset() re-arms the
// per-call fields without allocating.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>
#include <span>
#include <vector>

namespace dmux::loadgen {

class RecvBatch {
 public:
  // `gro`: slots also get room for the UDP_GRO control message (the segment size of a
  // coalesced receive, read with segment_size()).
  RecvBatch(unsigned slots, std::size_t slot_bytes, bool gro = false);

  // Prepares every slot for the next recvmmsg call.
  void reset() noexcept;

  [[nodiscard]] mmsghdr* msgs() noexcept { return msgs_.data(); }
  [[nodiscard]] unsigned size() const noexcept { return static_cast<unsigned>(msgs_.size()); }

  // The bytes received in slot i (after recvmmsg filled msg_len), clipped to the slot.
  [[nodiscard]] std::span<const std::byte> datagram(unsigned i) const noexcept;
  // The same bytes, writable (e.g. to check a TUNNEL's tag, which zeroes and restores its field).
  [[nodiscard]] std::span<std::byte> datagram(unsigned i) noexcept;
  // True if slot i's datagram was longer than the slot (MSG_TRUNC).
  [[nodiscard]] bool truncated(unsigned i) const noexcept;
  // With gro: the size of each datagram coalesced into slot i (0: one datagram, not coalesced).
  [[nodiscard]] std::size_t segment_size(unsigned i) const noexcept;

 private:
  std::size_t slot_bytes_;
  std::vector<std::byte> storage_;
  std::vector<iovec> iov_;
  std::vector<mmsghdr> msgs_;
  std::vector<std::byte> control_;  // gro only: one cmsg slot per message
  std::size_t control_bytes_ = 0;
};

}  // namespace dmux::loadgen

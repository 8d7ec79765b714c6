// Preallocated receive slots for recvmmsg: one buffer, source address and iovec per slot.
// Built once; reset() re-arms the per-call fields without allocating.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>
#include <span>
#include <vector>

namespace dmux::loadgen {

class RecvBatch {
 public:
  RecvBatch(unsigned slots, std::size_t slot_bytes);

  // Prepares every slot for the next recvmmsg call.
  void reset() noexcept;

  [[nodiscard]] mmsghdr* msgs() noexcept { return msgs_.data(); }
  [[nodiscard]] unsigned size() const noexcept { return static_cast<unsigned>(msgs_.size()); }

  // The bytes received in slot i (after recvmmsg filled msg_len), clipped to the slot.
  [[nodiscard]] std::span<const std::byte> datagram(unsigned i) const noexcept;
  // True if slot i's datagram was longer than the slot (MSG_TRUNC).
  [[nodiscard]] bool truncated(unsigned i) const noexcept;
  [[nodiscard]] const sockaddr_in& source(unsigned i) const noexcept { return addrs_[i]; }

 private:
  std::size_t slot_bytes_;
  std::vector<std::byte> storage_;
  std::vector<iovec> iov_;
  std::vector<sockaddr_in> addrs_;
  std::vector<mmsghdr> msgs_;
};

}  // namespace dmux::loadgen

#include "tools/loadgen/recv_batch.h"

#include <algorithm>

namespace dmux::loadgen {

RecvBatch::RecvBatch(unsigned slots, std::size_t slot_bytes)
    : slot_bytes_(slot_bytes),
      storage_(static_cast<std::size_t>(slots) * slot_bytes),
      iov_(slots),
      msgs_(slots) {
  for (unsigned i = 0; i < slots; ++i) {
    iov_[i] = iovec{storage_.data() + static_cast<std::size_t>(i) * slot_bytes_, slot_bytes_};
    msgs_[i].msg_hdr.msg_iov = &iov_[i];
    msgs_[i].msg_hdr.msg_iovlen = 1;
  }
  reset();
}

void RecvBatch::reset() noexcept {
  for (auto& m : msgs_) {
    m.msg_hdr.msg_flags = 0;
    m.msg_len = 0;
  }
}

std::span<const std::byte> RecvBatch::datagram(unsigned i) const noexcept {
  return std::span<const std::byte>(storage_.data() + static_cast<std::size_t>(i) * slot_bytes_,
                                    std::min<std::size_t>(msgs_[i].msg_len, slot_bytes_));
}

std::span<std::byte> RecvBatch::datagram(unsigned i) noexcept {
  return std::span<std::byte>(storage_.data() + static_cast<std::size_t>(i) * slot_bytes_,
                              std::min<std::size_t>(msgs_[i].msg_len, slot_bytes_));
}

bool RecvBatch::truncated(unsigned i) const noexcept {
  return (msgs_[i].msg_hdr.msg_flags & MSG_TRUNC) != 0;
}

}  // namespace dmux::loadgen

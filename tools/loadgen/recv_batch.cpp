#include "tools/loadgen/recv_batch.h"

#include <netinet/udp.h>

#include <algorithm>
#include <cstring>

namespace dmux::loadgen {

RecvBatch::RecvBatch(unsigned slots, std::size_t slot_bytes, bool gro)
    : slot_bytes_(slot_bytes),
      storage_(static_cast<std::size_t>(slots) * slot_bytes),
      iov_(slots),
      msgs_(slots),
      control_bytes_(gro ? CMSG_SPACE(sizeof(int)) : 0) {
  control_.resize(control_bytes_ * slots);
  for (unsigned i = 0; i < slots; ++i) {
    iov_[i] = iovec{storage_.data() + static_cast<std::size_t>(i) * slot_bytes_, slot_bytes_};
    msgs_[i].msg_hdr.msg_iov = &iov_[i];
    msgs_[i].msg_hdr.msg_iovlen = 1;
  }
  reset();
}

void RecvBatch::reset() noexcept {
  for (std::size_t i = 0; i < msgs_.size(); ++i) {
    auto& m = msgs_[i];
    m.msg_hdr.msg_flags = 0;
    m.msg_len = 0;
    m.msg_hdr.msg_control = control_bytes_ != 0 ? control_.data() + i * control_bytes_ : nullptr;
    m.msg_hdr.msg_controllen = control_bytes_;
  }
}

std::size_t RecvBatch::segment_size(unsigned i) const noexcept {
  if (control_bytes_ == 0) return 0;
  const msghdr& h = msgs_[i].msg_hdr;
  for (const cmsghdr* c = CMSG_FIRSTHDR(&h); c != nullptr;
       c = CMSG_NXTHDR(const_cast<msghdr*>(&h), const_cast<cmsghdr*>(c))) {
    if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
      int size = 0;
      std::memcpy(&size, CMSG_DATA(c), sizeof size);
      return size > 0 ? static_cast<std::size_t>(size) : 0;
    }
  }
  return 0;
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

#include "tools/loadgen/deferred_tag_check.h"

#include "common/wire/byte_reader.h"
#include "common/wire/byte_writer.h"
#include "common/wire/tunnel_seal.h"

namespace dmux::loadgen {

DeferredTagCheck::DeferredTagCheck(std::size_t capacity_bytes) : log_(capacity_bytes) {}

bool DeferredTagCheck::add(std::span<const std::byte> datagram) noexcept {
  if (datagram.size() > 0xffff || datagram.size() + kLengthBytes > log_.size() - used_) {
    return false;
  }
  wire::ByteWriter w(std::span<std::byte>(log_).subspan(used_));
  w.u16(static_cast<std::uint16_t>(datagram.size()));
  w.bytes(datagram);
  used_ += w.size();
  ++kept_;
  return true;
}

std::uint64_t DeferredTagCheck::check_all(const crypto::TunnelKey& key) noexcept {
  std::uint64_t bad = 0;
  wire::ByteReader r(std::span<const std::byte>(log_).first(used_));
  std::uint16_t len = 0;
  while (r.read_u16(len)) {
    const std::size_t at = r.position();
    if (!r.skip(len)) break;  // cannot happen: add() wrote whole entries
    const auto datagram = std::span(log_).subspan(at, len);
    wire::TunnelHeader h;
    std::span<const std::byte> payload;
    if (wire::parse_tunnel(datagram, h, payload) != wire::ParseStatus::kOk ||
        !wire::open_tunnel(datagram, h, key)) {
      ++bad;
    }
  }
  used_ = 0;
  return bad;
}

}  // namespace dmux::loadgen

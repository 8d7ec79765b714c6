// Sealing and opening TUNNEL datagrams (docs/protocol.md 5.2). The tag is the TunnelKey tag of the
// whole datagram, header and payload, with the 16-byte tag field set to zero, under the nonce
// gateway_id || counter taken from the header. Data path: noexcept, no allocation.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <span>

#include "common/crypto/data_path_mac.h"
#include "common/wire/shim.h"

namespace dmux::wire {

// `datagram` is a TUNNEL written by write_tunnel (tag field zero) followed by its payload, in one
// buffer. Writes the tag into the header.
inline void seal_tunnel(std::span<std::byte> datagram, GatewayId gateway_id, std::uint64_t counter,
                        const crypto::TunnelKey& key) noexcept {
  const crypto::TunnelTag tag = key.tag(gateway_id.value(), counter, datagram);
  std::copy(tag.begin(), tag.end(), datagram.begin() + kTunnelTagOffset);
}

// True if the tag of a received, parsed TUNNEL (`h` from parse_tunnel over `datagram`) is right.
// Zeroes the tag field to compute and puts it back, so `datagram` must be writable.
inline bool open_tunnel(std::span<std::byte> datagram, const TunnelHeader& h,
                        const crypto::TunnelKey& key) noexcept {
  if (datagram.size() < kTunnelHeaderLen) return false;
  const auto field = datagram.subspan(kTunnelTagOffset, kTunnelTagLen);
  std::fill(field.begin(), field.end(), std::byte{0});
  const bool ok = key.verify(h.gateway_id.value(), h.counter, datagram,
                             std::span<const std::byte, kTunnelTagLen>(h.tag));
  std::copy(h.tag.begin(), h.tag.end(), field.begin());
  return ok;
}

}  // namespace dmux::wire

// The loadgen's datagram layout: an optional DATA shim header, then a probe stamp (magic, sequence
// number, send time), then zero padding up to the requested size.
//
// Building is start-up or per-ping work into caller-owned buffers; reading takes untrusted bytes
// (whatever arrives on the socket) through the bounds-checked wire::ByteReader. Neither allocates.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "tools/loadgen/config.h"

namespace dmux::loadgen {

inline constexpr std::uint32_t kProbeMagic = 0x444d4c47;  // "DMLG"
inline constexpr std::size_t kProbeStampLen = 20;         // magic u32, seq u64, send_ns u64

struct ProbeStamp {
  std::uint64_t seq = 0;
  std::int64_t send_ns = 0;  // steady clock, nanoseconds since its epoch
};

// Smallest datagram that holds the header (if any) and a stamp.
std::size_t min_datagram_bytes(const ShimSpec& shim) noexcept;

// Writes header (if shim.enabled), stamp and zero padding into the first `len` bytes of `out` and
// sets `stamp_offset`. False if `len` is below min_datagram_bytes or `out` is too small.
bool build_datagram(std::span<std::byte> out, std::size_t len, const ShimSpec& shim,
                    const ProbeStamp& stamp, std::size_t& stamp_offset) noexcept;

// Overwrites the stamp at `offset` (as set by build_datagram). False if it does not fit.
bool write_stamp(std::span<std::byte> datagram, std::size_t offset,
                 const ProbeStamp& stamp) noexcept;

// Reads a stamp at the start of `payload`; false if too short or the magic is wrong.
bool read_stamp(std::span<const std::byte> payload, ProbeStamp& out) noexcept;

}  // namespace dmux::loadgen

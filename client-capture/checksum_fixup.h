// Completing the transport checksum of a packet NFQUEUE delivered with NFQA_SKB_CSUMNOTREADY
// (we ask for NFQA_CFG_F_GSO, so the kernel leaves checksum offload to us). Handles TCP, UDP and
// ICMPv6 directly after an IPv6 header, and TCP and UDP after an IPv4 header; other packets are
// left as they are. Bounds-checked; never allocates or throws.
#pragma once

#include <cstddef>
#include <span>

namespace dmux::client {

// Returns true if a checksum was written.
bool finish_checksum(std::span<std::byte> packet) noexcept;

}  // namespace dmux::client

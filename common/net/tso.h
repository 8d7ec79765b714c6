// Software TSO/USO: cuts what one read from an IFF_VNET_HDR TUN device gave (a virtio_net_hdr and
// one IP packet, possibly a TCP or UDP super-packet with a partial checksum) into ordinary IP
// packets with finished checksums, laid out back to back in the caller's buffer with `headroom`
// bytes free before each, so that header + segment pairs form one UDP GSO send (udp_gso.h)
// without another copy.
//
// TCP segments get the original headers with their own sequence number, IPv4 id (+1 each),
// lengths and flags (FIN, PSH only on the last, CWR only on the first); UDP segments their own
// length. A packet that is not GSO is copied as one segment, its checksum finished if NEEDS_CSUM.
//
// Input is untrusted (parsed with l4_packet.h). Pure; never allocates or throws.
#pragma once

#include <cstddef>
#include <span>

#include "common/net/virtio_hdr.h"

namespace dmux::net {

struct SegmentLayout {
  std::size_t count = 0;         // datagrams written (headroom + one IP packet each)
  std::size_t datagram_len = 0;  // bytes of each datagram but the last (headroom included)
  std::size_t last_len = 0;      // bytes of the last datagram (<= datagram_len)
  [[nodiscard]] std::size_t bytes() const noexcept {
    return count == 0 ? 0 : (count - 1) * datagram_len + last_len;
  }
  // The i-th IP packet (after its headroom) inside the buffer given to segment_packet().
  [[nodiscard]] std::span<std::byte> packet(std::span<std::byte> out, std::size_t headroom,
                                            std::size_t i) const noexcept {
    const std::size_t len = i + 1 == count ? last_len : datagram_len;
    return out.subspan(i * datagram_len + headroom, len - headroom);
  }
};

enum class TsoStatus : std::uint8_t {
  kOk,
  kTruncated,    // the packet is shorter than its headers
  kMalformed,    // bad IP/TCP/UDP header, checksum offsets outside the packet
  kUnsupported,  // GSO of a kind or packet shape we do not cut (see l4_packet.h)
  kNoRoom,       // `out` cannot hold every segment
};

// Cuts `packet` (the bytes after the virtio_net_hdr `vh`) into segments of at most `max_ip_len`
// bytes of IP packet each (0: as gso_size says; otherwise the smaller of the two) and writes them
// into `out`, each after `headroom` bytes the caller fills. On kOk `layout` says where they are;
// otherwise nothing useful was written.
[[nodiscard]] TsoStatus segment_packet(const VirtioNetHdr& vh, std::span<const std::byte> packet,
                                       std::size_t max_ip_len, std::size_t headroom,
                                       std::span<std::byte> out, SegmentLayout& layout) noexcept;

// Bytes `out` needs for segment_packet() of a packet of `packet_len` bytes with headers of
// `headers_len` and `segments` segments: an upper bound callers size buffers with.
[[nodiscard]] constexpr std::size_t segment_room(std::size_t packet_len, std::size_t headers_len,
                                                 std::size_t segments,
                                                 std::size_t headroom) noexcept {
  return packet_len + segments * (headers_len + headroom);
}

}  // namespace dmux::net

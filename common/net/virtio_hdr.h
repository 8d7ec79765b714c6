// struct virtio_net_hdr (include/uapi/linux/virtio_net.h): the 10 bytes in front of every packet
// read from or written to a TUN device opened with IFF_VNET_HDR. They say whether the packet is a
// GSO super-packet (TCP or UDP, to be cut into gso_size payloads) and whether its transport
// checksum is still partial (F_NEEDS_CSUM: only the pseudo-header sum is in the checksum field).
//
// Byte order: the device's native one (little-endian here; TUN's default on little-endian hosts,
// checked at compile time). Read from untrusted bytes only through wire::ByteReader. Pure
// functions; never allocate, never throw.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <span>

namespace dmux::net {

static_assert(std::endian::native == std::endian::little,
              "virtio_net_hdr is read as little-endian (TUN's default on this host)");

inline constexpr std::size_t kVirtioNetHdrLen = 10;

enum class GsoType : std::uint8_t {
  kNone = 0,   // VIRTIO_NET_HDR_GSO_NONE: one ordinary packet
  kTcpV4 = 1,  // VIRTIO_NET_HDR_GSO_TCPV4
  kUdp = 3,    // VIRTIO_NET_HDR_GSO_UDP (UFO, IP fragmentation): never accepted
  kTcpV6 = 4,  // VIRTIO_NET_HDR_GSO_TCPV6
  kUdpL4 = 5,  // VIRTIO_NET_HDR_GSO_UDP_L4 (USO, Linux 6.2+)
};

inline constexpr std::uint8_t kVirtioFlagNeedsCsum = 1;  // VIRTIO_NET_HDR_F_NEEDS_CSUM
inline constexpr std::uint8_t kVirtioFlagDataValid = 2;  // VIRTIO_NET_HDR_F_DATA_VALID
inline constexpr std::uint8_t kVirtioGsoEcn = 0x80;      // VIRTIO_NET_HDR_GSO_ECN (in gso_type)

struct VirtioNetHdr {
  std::uint8_t flags = 0;             // kVirtioFlag*
  GsoType gso_type = GsoType::kNone;  // without the ECN bit
  bool gso_ecn = false;               // the ECN bit of gso_type
  std::uint16_t hdr_len = 0;          // IP + transport header bytes (a hint; never trusted)
  std::uint16_t gso_size = 0;         // transport payload bytes per segment
  std::uint16_t csum_start = 0;       // offset of the transport header (NEEDS_CSUM)
  std::uint16_t csum_offset = 0;      // offset of the checksum field from csum_start

  [[nodiscard]] bool needs_csum() const noexcept { return (flags & kVirtioFlagNeedsCsum) != 0; }
  [[nodiscard]] bool is_gso() const noexcept { return gso_type != GsoType::kNone; }
  friend bool operator==(const VirtioNetHdr&, const VirtioNetHdr&) = default;
};

enum class VirtioStatus : std::uint8_t {
  kOk,
  kTruncated,    // fewer than kVirtioNetHdrLen bytes
  kUnsupported,  // a gso_type we do not handle (kUdp, unknown values)
  kMalformed,    // GSO with gso_size 0
};

// Parses the header at the front of `bytes`; the packet follows at kVirtioNetHdrLen.
[[nodiscard]] VirtioStatus parse_virtio_hdr(std::span<const std::byte> bytes,
                                            VirtioNetHdr& out) noexcept;

// Writes `h` into the first kVirtioNetHdrLen bytes of `out`. Returns kVirtioNetHdrLen, or 0 if
// `out` is shorter.
std::size_t write_virtio_hdr(std::span<std::byte> out, const VirtioNetHdr& h) noexcept;

}  // namespace dmux::net

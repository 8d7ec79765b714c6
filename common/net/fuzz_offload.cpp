// libFuzzer target for the offload library's parsers of untrusted bytes: virtio_net_hdr, software
// TSO/USO (a super-packet read from a TUN device) and GRO coalescing (packets from the tunnel).
// MSS clamping (a SYN from either side). Input: a virtio_net_hdr, then packets each preceded by a
// 2-byte big-endian length. Checks that nothing reads or writes out of bounds, and that every
// segment TSO writes of a TCP/UDP packet carries checksums that verify.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/net/gro.h"
#include "common/net/mss_clamp.h"
#include "common/net/test_packets.h"
#include "common/net/tso.h"
#include "common/net/virtio_hdr.h"

using namespace dmux::net;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> in(reinterpret_cast<const std::byte*>(data), size);
  static GroBatch gro(GroConfig{.max_packets = 32, .coalesce_udp = true});
  static std::vector<std::byte> out(200000);
  VirtioNetHdr vh;
  const bool have_vh = parse_virtio_hdr(in, vh) == VirtioStatus::kOk;
  std::size_t at = kVirtioNetHdrLen;
  while (at + 2 <= size) {
    const std::size_t len = (std::size_t{data[at]} << 8) | data[at + 1];
    at += 2;
    const std::span<const std::byte> packet = in.subspan(at, std::min(len, size - at));
    at += packet.size();
    if (have_vh) {
      SegmentLayout l;
      const std::size_t limit = vh.hdr_len;  // any value: 0 and too small included
      if (segment_packet(vh, packet, limit, 20, out, l) == TsoStatus::kOk && vh.is_gso()) {
        for (std::size_t i = 0; i < l.count; ++i) {
          if (!testing::checksums_ok(l.packet(out, 20, i))) __builtin_trap();
        }
      }
    }
    std::vector<std::byte> copy(packet.begin(), packet.end());
    const bool clamped = clamp_tcp_mss(copy, 1280);
    if (clamped && !testing::checksums_ok(copy)) {
      std::vector<std::byte> orig(packet.begin(), packet.end());
      if (testing::checksums_ok(orig)) __builtin_trap();  // a right checksum made wrong
    }
    if (!gro.add(packet)) {
      gro.flush();
      (void)gro.add(packet);
    }
  }
  for (const GroWrite& w : gro.flush()) {
    std::size_t bytes = 0;
    for (const iovec& v : w.pieces) bytes += v.iov_len;
    const std::span<const std::byte> first(static_cast<const std::byte*>(w.pieces[0].iov_base),
                                           w.pieces[0].iov_len);
    VirtioNetHdr back;
    if (bytes != w.size || parse_virtio_hdr(first, back) != VirtioStatus::kOk) __builtin_trap();
  }
  return 0;
}

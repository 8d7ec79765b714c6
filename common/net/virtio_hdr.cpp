#include "common/net/virtio_hdr.h"

#include "common/wire/byte_reader.h"

namespace dmux::net {
namespace {

bool read_le16(wire::ByteReader& r, std::uint16_t& out) noexcept {
  std::uint16_t be = 0;
  if (!r.read_u16(be)) return false;
  out = static_cast<std::uint16_t>((be >> 8) | (be << 8));
  return true;
}

void put_le16(std::span<std::byte> out, std::size_t at, std::uint16_t v) noexcept {
  out[at] = static_cast<std::byte>(v & 0xff);
  out[at + 1] = static_cast<std::byte>(v >> 8);
}

}  // namespace

VirtioStatus parse_virtio_hdr(std::span<const std::byte> bytes, VirtioNetHdr& out) noexcept {
  wire::ByteReader r(bytes);
  std::uint8_t flags = 0;
  std::uint8_t type = 0;
  VirtioNetHdr h;
  if (!r.read_u8(flags) || !r.read_u8(type) || !read_le16(r, h.hdr_len) ||
      !read_le16(r, h.gso_size) || !read_le16(r, h.csum_start) || !read_le16(r, h.csum_offset)) {
    return VirtioStatus::kTruncated;
  }
  h.flags = flags;
  h.gso_ecn = (type & kVirtioGsoEcn) != 0;
  switch (type & ~kVirtioGsoEcn) {
    case 0:
      h.gso_type = GsoType::kNone;
      break;
    case 1:
      h.gso_type = GsoType::kTcpV4;
      break;
    case 4:
      h.gso_type = GsoType::kTcpV6;
      break;
    case 5:
      h.gso_type = GsoType::kUdpL4;
      break;
    default:
      return VirtioStatus::kUnsupported;
  }
  if (h.is_gso() && h.gso_size == 0) return VirtioStatus::kMalformed;
  out = h;
  return VirtioStatus::kOk;
}

std::size_t write_virtio_hdr(std::span<std::byte> out, const VirtioNetHdr& h) noexcept {
  if (out.size() < kVirtioNetHdrLen) return 0;
  out[0] = static_cast<std::byte>(h.flags);
  out[1] = static_cast<std::byte>(static_cast<std::uint8_t>(h.gso_type) |
                                  (h.gso_ecn ? kVirtioGsoEcn : 0));
  put_le16(out, 2, h.hdr_len);
  put_le16(out, 4, h.gso_size);
  put_le16(out, 6, h.csum_start);
  put_le16(out, 8, h.csum_offset);
  return kVirtioNetHdrLen;
}

}  // namespace dmux::net

#include "provider/ipv6_header.h"

#include <algorithm>

#include "common/wire/byte_reader.h"

namespace dmux::provider {
namespace {

bool read_address(wire::ByteReader& r, Ipv6Address& out) noexcept {
  std::span<const std::byte> s;
  if (!r.read_bytes(out.size(), s)) return false;
  std::copy(s.begin(), s.end(), out.begin());
  return true;
}

}  // namespace

bool parse_ipv6_header(std::span<const std::byte> packet, Ipv6Header& out) noexcept {
  wire::ByteReader r(packet);
  std::uint32_t version_class_flow = 0;
  std::uint16_t payload_len = 0;
  std::uint8_t next_header = 0, hop_limit = 0;
  if (!r.read_u32(version_class_flow) || !r.read_u16(payload_len) || !r.read_u8(next_header) ||
      !r.read_u8(hop_limit)) {
    return false;
  }
  if ((version_class_flow >> 28) != 6) return false;
  if (packet.size() != kIpv6HeaderLen + payload_len) return false;
  return read_address(r, out.source) && read_address(r, out.destination);
}

}  // namespace dmux::provider

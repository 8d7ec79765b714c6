#include "common/wire/igmp_query.h"

#include <algorithm>

#include "common/wire/byte_writer.h"
#include "common/wire/inet_checksum.h"

namespace dmux::wire {
namespace {

constexpr std::uint8_t kIpProtoIgmp = 2;
constexpr std::uint8_t kIgmpQuery = 0x11;

}  // namespace

std::size_t write_general_query(std::span<std::byte> out, std::uint32_t src,
                                std::uint8_t max_resp_ds, std::uint32_t qqi_s) noexcept {
  if (out.size() < kQueryPacketLen) return 0;
  const std::span<std::byte> p = out.first(kQueryPacketLen);
  ByteWriter w(p);
  w.u8(0x46);  // version 4, 24-byte header (Router Alert)
  w.u8(0xc0);  // DSCP CS6, as routers send IGMP
  w.u16(static_cast<std::uint16_t>(kQueryPacketLen));
  w.u16(0);       // id
  w.u16(0x4000);  // DF
  w.u8(1);        // TTL
  w.u8(kIpProtoIgmp);
  w.u16(0);  // header checksum, below
  w.u32(src);
  w.u32(0xe0000001u);  // 224.0.0.1, all systems
  w.u32(0x94040000u);  // Router Alert (RFC 2113)
  w.u8(kIgmpQuery);
  w.u8(std::clamp<std::uint8_t>(max_resp_ds, 1, 127));
  w.u16(0);  // IGMP checksum, below
  w.u32(0);  // group 0: general query
  w.u8(2);   // S = 0, QRV = 2
  w.u8(static_cast<std::uint8_t>(std::clamp<std::uint32_t>(qqi_s, 1, 127)));
  w.u16(0);  // no sources
  if (!w.ok()) return 0;
  const std::uint16_t ip_sum = checksum_finish(checksum_add(p.first(24)));
  p[10] = static_cast<std::byte>(ip_sum >> 8);
  p[11] = static_cast<std::byte>(ip_sum & 0xff);
  const std::uint16_t igmp_sum = checksum_finish(checksum_add(p.subspan(24)));
  p[26] = static_cast<std::byte>(igmp_sum >> 8);
  p[27] = static_cast<std::byte>(igmp_sum & 0xff);
  return kQueryPacketLen;
}

}  // namespace dmux::wire

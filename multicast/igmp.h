// IGMP as a multicast router hears it from its clients (RFC 2236 IGMPv2, RFC 3376 IGMPv3), and
// the general query it sends them. Untrusted bytes, read only through common/wire/byte_reader.h;
// never allocates, never throws.
//
// Simplified source filtering (docs/multicast.md): a member receives every source of a group it
// joined. IGMPv3 records map to joins and leaves as follows:
//   MODE_IS_EXCLUDE, CHANGE_TO_EXCLUDE (any source list; EXCLUDE {} is the ordinary join)  -> join
//   MODE_IS_INCLUDE, CHANGE_TO_INCLUDE with sources, ALLOW_NEW_SOURCES with sources         -> join
//   MODE_IS_INCLUDE, CHANGE_TO_INCLUDE with no source (INCLUDE {} is the ordinary leave)     ->
//   leave BLOCK_OLD_SOURCES, ALLOW_NEW_SOURCES without sources -> nothing
// IGMPv1/v2 reports are joins, IGMPv2 Leave Group a leave. Queries from clients are ignored.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "common/wire/igmp_query.h"

namespace dmux::multicast {

inline constexpr std::uint8_t kIgmpQuery = 0x11;
inline constexpr std::uint8_t kIgmpV1Report = 0x12;
inline constexpr std::uint8_t kIgmpV2Report = 0x16;
inline constexpr std::uint8_t kIgmpV2Leave = 0x17;
inline constexpr std::uint8_t kIgmpV3Report = 0x22;

enum class IgmpStatus : std::uint8_t {
  kOk = 0,
  kTruncated,  // shorter than the message or a record claims
  kMalformed,  // bad checksum, unknown record type, bytes after the last record
  kIgnored,    // a valid message a router does not act on (a query, an unknown type)
};

struct GroupChange {
  std::uint32_t group = 0;  // host order; the caller checks it is a routable group
  bool join = false;        // false: leave
};

// Parses one IGMP message (the IPv4 payload, checksum included). Writes at most out.size()
// changes and sets `count`; a report with more records than that is kMalformed (IGMPv3 reports
// from a 1500-byte packet carry at most 183 records, so 256 slots never truncate a real one).
IgmpStatus parse_igmp(std::span<const std::byte> message, std::span<GroupChange> out,
                      std::size_t& count) noexcept;

// The general query dmux-mcast sends (common/wire/igmp_query.h).
using wire::kQueryPacketLen;
using wire::write_general_query;

}  // namespace dmux::multicast

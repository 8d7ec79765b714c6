// The exchange between a multicast provider's routers (docs/protocol.md section 14): SUMMARY
// (which clients are members of which groups at the sender) and GROUP_DATA (one group packet,
// forwarded once). Every message ends in a 16-byte HMAC-SHA256 under the provider's shared peer
// key. Parsing checks, cheapest first: length and header, then the MAC in constant time; the
// caller then checks the sender is a configured peer, freshness and replay. Untrusted bytes are
// read only through common/wire/byte_reader.h. Parsing never allocates or throws.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "common/crypto/crypto.h"
#include "common/crypto/trailing_mac.h"
#include "common/wire/ids.h"
#include "common/wire/msg_types.h"
#include "multicast/member.h"

namespace dmux::multicast {

inline constexpr std::size_t kPeerHeaderLen = 32;
inline constexpr std::size_t kPeerMacLen = crypto::kTrailingMacLen;
inline constexpr std::size_t kSummaryFixedLen = kPeerHeaderLen + 8;     // + entries + MAC
inline constexpr std::size_t kGroupDataFixedLen = kPeerHeaderLen + 16;  // + packet + MAC
inline constexpr std::size_t kSummaryEntryLen = 20;                     // + 4 per group
inline constexpr std::size_t kMaxSummaryParts = 255;

using PeerKey = crypto::Digest;

// The peer key: HMAC-SHA256(key = the shared secret, "ipdmux-v2-mcast-peer").
PeerKey derive_peer_key(std::span<const std::byte> secret) noexcept;

struct PeerHeader {
  wire::PeerType type{};
  std::uint32_t router_ipv4 = 0;  // the sender: its listen address and port
  std::uint16_t router_port = 0;
  std::uint8_t part = 0;   // SUMMARY: this part's index, 0-based; 0 in GROUP_DATA
  std::uint8_t parts = 0;  // SUMMARY: number of parts (1-255); 0 in GROUP_DATA
  wire::ProviderId provider_id{};
  std::uint64_t seq = 0;      // per sender, +1 per message; starts at the start time in Unix us
                              // (so it grows across restarts); part i of a summary has base + i
  std::uint64_t sent_us = 0;  // sender's wall clock, Unix microseconds
};

enum class PeerParse : std::uint8_t {
  kOk = 0,
  kTruncated,
  kMalformed,
  kUnsupportedVersion,
  kUnexpectedType,
  kBadMac,
};
std::string_view to_string(PeerParse p) noexcept;

// Checks the common header, the minimum length of the type and the header fields, without the
// MAC (so a caller can drop datagrams from unknown senders before any hashing). On kOk, `body`
// views the bytes between the 32-byte header and the MAC.
PeerParse parse_peer_header(std::span<const std::byte> datagram, PeerHeader& out,
                            std::span<const std::byte>& body) noexcept;
// The MAC check of a datagram parse_peer_header accepted, in constant time.
[[nodiscard]] bool peer_mac_ok(std::span<const std::byte> datagram, const PeerKey& key) noexcept;

// A SUMMARY body, entry by entry. init() validates the whole body (every declared count capped by
// the bytes present, no trailing bytes) so next() cannot fail afterwards.
struct SummaryEntry {
  Member client;
  std::uint32_t age_ms = 0;  // since the client's last report at the sender
  std::uint16_t group_count = 0;
  std::span<const std::byte> groups;  // group_count big-endian u32
  [[nodiscard]] std::uint32_t group(std::size_t i) const noexcept;
};
class SummaryReader {
 public:
  PeerParse init(std::span<const std::byte> body) noexcept;
  bool next(SummaryEntry& out) noexcept;
  [[nodiscard]] std::uint32_t interval_ms() const noexcept { return interval_ms_; }
  [[nodiscard]] std::uint16_t count() const noexcept { return count_; }

 private:
  std::span<const std::byte> entries_;
  std::size_t pos_ = 0;
  std::uint16_t count_ = 0;
  std::uint16_t read_ = 0;
  std::uint32_t interval_ms_ = 0;
};

// A GROUP_DATA body: the client that sent the packet to the group, and the packet.
PeerParse parse_group_data(std::span<const std::byte> body, Member& origin,
                           std::span<const std::byte>& packet) noexcept;

// Writers. write_peer_header writes the 32-byte header; seal() appends the MAC over out[0, len)
// and returns len + 16, or 0 if it does not fit.
std::size_t write_peer_header(std::span<std::byte> out, const PeerHeader& h) noexcept;
std::size_t seal(std::span<std::byte> out, std::size_t len, const PeerKey& key) noexcept;

}  // namespace dmux::multicast

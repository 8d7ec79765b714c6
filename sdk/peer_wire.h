// The SDK's router <-> router message (docs/protocol.md 18, type 34): a 32-byte header naming the
// sender, its protocol and provider, a per-sender sequence number and its clock; the program's
// payload (empty: a heartbeat); a 16-byte HMAC-SHA256 under the provider's peer key. Untrusted
// bytes are read only through common/wire/byte_reader.h; parsing never allocates or throws.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "common/crypto/crypto.h"
#include "common/crypto/trailing_mac.h"
#include "common/wire/ids.h"
#include "common/wire/msg_types.h"

namespace dmux::sdk {

inline constexpr std::size_t kPeerHeaderLen = 32;
inline constexpr std::size_t kPeerMacLen = crypto::kTrailingMacLen;
inline constexpr std::size_t kMaxPeerPayload = 8192;
inline constexpr std::size_t kMaxPeerMessage = kPeerHeaderLen + kMaxPeerPayload + kPeerMacLen;

using PeerKey = crypto::Digest;

// P = HMAC-SHA256(key = the shared secret, "ipdmux-v2-sdk-peer").
PeerKey derive_peer_key(std::span<const std::byte> secret) noexcept;

struct PeerHeader {
  std::uint32_t router_ipv4 = 0;  // the sender's listen endpoint: its identity
  std::uint16_t router_port = 0;
  dmux::wire::ProtoId proto_id{};        // the protocol the sender serves
  dmux::wire::ProviderId provider_id{};  // the sender's provider
  std::uint64_t seq = 0;      // +1 per message; starts at the sender's start time in Unix us
  std::uint64_t sent_us = 0;  // the sender's wall clock, Unix us
};

enum class PeerParse : std::uint8_t {
  kOk = 0,
  kTruncated,
  kMalformed,
  kUnsupportedVersion,
  kUnexpectedType,
};
std::string_view to_string(PeerParse p) noexcept;

// Length, common header and header fields, without the MAC (so datagrams from unknown senders are
// dropped before any hashing). On kOk, `payload` views the bytes between header and MAC.
PeerParse parse_peer_message(std::span<const std::byte> datagram, PeerHeader& out,
                             std::span<const std::byte>& payload) noexcept;
// The MAC of a datagram parse_peer_message accepted, compared in constant time.
[[nodiscard]] bool peer_mac_ok(std::span<const std::byte> datagram, const PeerKey& key) noexcept;

// Writes header, payload and MAC into `out`; returns the length, 0 if it does not fit or the
// payload is larger than kMaxPeerPayload.
std::size_t write_peer_message(std::span<std::byte> out, const PeerHeader& h,
                               std::span<const std::byte> payload, const PeerKey& key) noexcept;

}  // namespace dmux::sdk

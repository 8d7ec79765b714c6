// The registration session's keys and MACs (docs/protocol.md 9.3-9.5), shared by gateway and agent:
//   K   = HMAC-SHA256(key = S, "ipdmux-v2-session" || session_id || timestamp_us)
//   K_t = HMAC-SHA256(key = S, "ipdmux-v2-tunnel"  || session_id || timestamp_us)
//   MAC = HMAC-SHA256(K, leading bytes of the message)[0:16]
// S is the raw X25519 output of KeyAgreement::derive; integers are big-endian. K authenticates the
// session's control messages, K_t is the router's tunnel key (docs/protocol.md 5.4). Control
// plane only.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "common/crypto/crypto.h"

namespace dmux::crypto {

using SessionMac = std::array<std::byte, 16>;  // truncated HMAC-SHA256

Digest derive_session_key(const Digest& shared_secret, std::uint64_t session_id,
                          std::uint64_t timestamp_us) noexcept;

TunnelKeyBytes derive_tunnel_key(const Digest& shared_secret, std::uint64_t session_id,
                                 std::uint64_t timestamp_us) noexcept;

SessionMac session_mac(const Digest& key, std::span<const std::byte> covered) noexcept;

// Constant-time check of `mac` against the MAC of `covered`.
bool session_mac_ok(const Digest& key, std::span<const std::byte> covered,
                    const SessionMac& mac) noexcept;

}  // namespace dmux::crypto

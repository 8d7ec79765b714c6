// The registration session key and MACs (docs/protocol.md 9.2-9.4), shared by gateway and agent:
//   K   = HMAC-SHA256(key = X25519 shared secret, "ipdmux-v1-session" || session_id ||
//   timestamp_us) MAC = HMAC-SHA256(K, leading bytes of the message)[0:16]
// Control plane only.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "common/crypto/crypto.h"

namespace dmux::crypto {

using SessionMac = std::array<std::byte, 16>;  // truncated HMAC-SHA256

Digest derive_session_key(const Digest& shared_secret, std::uint64_t session_id,
                          std::uint64_t timestamp_us) noexcept;

SessionMac session_mac(const Digest& key, std::span<const std::byte> covered) noexcept;

// Constant-time check of `mac` against the MAC of `covered`.
bool session_mac_ok(const Digest& key, std::span<const std::byte> covered,
                    const SessionMac& mac) noexcept;

}  // namespace dmux::crypto

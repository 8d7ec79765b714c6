// Datagrams that end in a 16-byte tag: the first 16 bytes of HMAC-SHA256(key, every byte before
// the tag). The router <-> router messages of dmux-mcast (docs/protocol.md 14.2) and of the SDK
// (18) use it, each with its own key derived from the provider's shared secret and a label.
#pragma once

#include <algorithm>
#include <cstddef>
#include <span>
#include <string_view>

#include "common/crypto/crypto.h"

namespace dmux::crypto {

inline constexpr std::size_t kTrailingMacLen = 16;

// HMAC-SHA256(key = secret, label): one key per use of the same secret.
inline Digest derive_labelled_key(std::span<const std::byte> secret,
                                  std::string_view label) noexcept {
  return hmac_sha256(secret, std::as_bytes(std::span(label.data(), label.size())));
}

// Whether the datagram's last 16 bytes are the tag of the rest, compared in constant time.
inline bool trailing_mac_ok(std::span<const std::byte> datagram, const Digest& key) noexcept {
  if (datagram.size() < kTrailingMacLen) return false;
  const std::size_t covered = datagram.size() - kTrailingMacLen;
  const Digest mac = hmac_sha256(key, datagram.first(covered));
  return equal_constant_time(std::span(mac).first(kTrailingMacLen), datagram.subspan(covered));
}

// Writes the tag of out[0, len) at out[len]; the sealed length, or 0 if it does not fit.
inline std::size_t seal_trailing_mac(std::span<std::byte> out, std::size_t len,
                                     const Digest& key) noexcept {
  if (len > out.size() || out.size() - len < kTrailingMacLen) return 0;
  const Digest mac = hmac_sha256(key, out.first(len));
  std::copy_n(mac.begin(), kTrailingMacLen, out.begin() + static_cast<std::ptrdiff_t>(len));
  return len + kTrailingMacLen;
}

}  // namespace dmux::crypto

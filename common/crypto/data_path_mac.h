// The data path's cryptography (docs/protocol.md sections 5.2 and 6.2), fenced here like the rest
// of common/crypto: only data_path_mac.cpp includes libsodium.
//
//  - TunnelKey: the key a gateway and a router share for TUNNEL. The tag is AES-256-GCM with an
//    empty plaintext (that is, GMAC) over the whole datagram with its tag field zeroed, under the
//    96-bit nonce gateway_id || counter. Chosen by measured cost (bench/forwarding/README.md):
//    ~0.1 us for a 64-byte payload and ~0.4 us for 1400 bytes with AES-NI.
//  - Return tokens: SipHash-2-4 under a provider-wide key over (proto, provider, client address),
//    the proof a RETURN comes from one of the provider's routers (and that a client received one).
//  - keyed_hash128: SipHash-2-4 with a 128-bit output, for cookies that need no interoperability.
//
// Contract: everything here is noexcept and never allocates once a key is constructed; a
// TunnelKey may be used by many threads at once. With AES-NI a key's tags come from OpenSSL's GCM
// context of the key (one thread at a time: a try-lock) or, for a thread that finds it taken, from
// libsodium; without AES-NI (libsodium refuses) from OpenSSL's EVP with one cipher context per
// thread. Tags are identical either way.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

namespace dmux::crypto {

inline constexpr std::size_t kTunnelKeyLen = 32;
inline constexpr std::size_t kTunnelTagLen = 16;
using TunnelKeyBytes = std::array<std::byte, kTunnelKeyLen>;
using TunnelTag = std::array<std::byte, kTunnelTagLen>;

class TunnelKey {
 public:
  explicit TunnelKey(const TunnelKeyBytes& key);  // throws std::bad_alloc only
  ~TunnelKey();                                   // wipes the key
  TunnelKey(const TunnelKey&) = delete;
  TunnelKey& operator=(const TunnelKey&) = delete;

  // The tag of `message` (the whole TUNNEL datagram, tag field already zero) under the nonce
  // gateway_id || counter (both big-endian).
  [[nodiscard]] TunnelTag tag(std::uint32_t gateway_id, std::uint64_t counter,
                              std::span<const std::byte> message) const noexcept;
  // Constant-time check of `expected` against tag(gateway_id, counter, message).
  [[nodiscard]] bool verify(std::uint32_t gateway_id, std::uint64_t counter,
                            std::span<const std::byte> message,
                            std::span<const std::byte, kTunnelTagLen> expected) const noexcept;

  // True with AES-NI: tags from OpenSSL's GCM and libsodium (false: the OpenSSL EVP fallback).
  [[nodiscard]] static bool accelerated() noexcept;
  // The same tag computed by the OpenSSL path whatever the CPU: tests check both agree.
  [[nodiscard]] static TunnelTag reference_tag(const TunnelKeyBytes& key, std::uint32_t gateway_id,
                                               std::uint64_t counter,
                                               std::span<const std::byte> message) noexcept;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// The provider-wide key of return tokens (docs/protocol.md 6.2):
// K_r = HMAC-SHA256(key = seed, "ipdmux-v2-return-key")[0:16].
// The seed is the provider's Ed25519 private key (every router of a provider holds it), or the
// contents of a provider-wide secret file.
using ReturnKey = std::array<std::byte, 16>;
ReturnKey derive_return_key(std::span<const std::byte> seed) noexcept;
// (derive_return_key(const SigningKey&), for the provider's key, is in crypto.h.)

// rt = SipHash-2-4(K_r, proto_id || client_port || client_ipv4 || provider_id), the message being
// those 12 bytes big-endian and rt the 64-bit SipHash result (little-endian output read as an
// integer); it travels big-endian in the token field like any token.
std::uint64_t return_token(const ReturnKey& key, std::uint16_t proto_id, std::uint32_t provider_id,
                           std::uint32_t client_ipv4, std::uint16_t client_port) noexcept;

// SipHash-2-4 with a 128-bit output (SipHashX), keyed with 16 bytes.
using Hash128 = std::array<std::byte, 16>;
Hash128 keyed_hash128(std::span<const std::byte, 16> key,
                      std::span<const std::byte> message) noexcept;

// Constant-time equality of two 64-bit values (tokens).
[[nodiscard]] inline bool equal_u64_constant_time(std::uint64_t a, std::uint64_t b) noexcept {
  std::uint64_t d = a ^ b;
  d |= d >> 32;
  d |= d >> 16;
  d |= d >> 8;
  return (d & 0xff) == 0;
}

}  // namespace dmux::crypto

// X25519 key agreement, SHA-256, HMAC-SHA256, constant-time comparison and randomness.
#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <sodium.h>

#include <algorithm>
#include <array>
#include <climits>

#include "common/crypto/impl.h"

namespace dmux::crypto {

// X25519 through libsodium: about four times faster than OpenSSL's EVP here, and a REGISTER costs
// the gateway one key generation and one agreement (docs/protocol.md 9.3).
struct KeyAgreement::Impl {
  std::array<unsigned char, crypto_scalarmult_SCALARBYTES> secret{};
  PublicKeyBytes public_key{};
  ~Impl() { sodium_memzero(secret.data(), secret.size()); }
};

KeyAgreement::KeyAgreement() : impl_(std::make_unique<Impl>()) {
  if (sodium_init() < 0) throw CryptoError("libsodium initialisation failed");
  randombytes_buf(impl_->secret.data(), impl_->secret.size());
  if (crypto_scalarmult_base(reinterpret_cast<unsigned char*>(impl_->public_key.data()),
                             impl_->secret.data()) != 0) {
    throw CryptoError("X25519 key generation");
  }
}

KeyAgreement::~KeyAgreement() = default;

PublicKeyBytes KeyAgreement::public_key() const { return impl_->public_key; }

bool KeyAgreement::derive(const PublicKeyBytes& peer, Digest& shared_secret) const noexcept {
  // libsodium refuses an all-zero result (a small-order peer key) with -1.
  if (crypto_scalarmult(reinterpret_cast<unsigned char*>(shared_secret.data()),
                        impl_->secret.data(),
                        reinterpret_cast<const unsigned char*>(peer.data())) != 0) {
    sodium_memzero(shared_secret.data(), shared_secret.size());
    return false;
  }
  return true;
}

Digest sha256(std::span<const std::byte> data) noexcept {
  Digest out{};
  unsigned int len = 0;
  if (EVP_Digest(detail::bytes_of(data.data()), data.size(),
                 reinterpret_cast<unsigned char*>(out.data()), &len, EVP_sha256(), nullptr) != 1 ||
      len != out.size()) {
    detail::fatal("SHA-256");
  }
  return out;
}

Digest hmac_sha256(std::span<const std::byte> key, std::span<const std::byte> data) noexcept {
  // HMAC itself replaces a key longer than the hash block by its hash; do that here for keys too
  // long for OpenSSL's int length.
  if (key.size() > INT_MAX) {
    const Digest short_key = sha256(key);
    return hmac_sha256(short_key, data);
  }
  Digest out{};
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), detail::bytes_of(key.data()), static_cast<int>(key.size()),
           detail::bytes_of(data.data()), data.size(), reinterpret_cast<unsigned char*>(out.data()),
           &len) == nullptr ||
      len != out.size()) {
    detail::fatal("HMAC-SHA256");
  }
  return out;
}

bool equal_constant_time(std::span<const std::byte> a, std::span<const std::byte> b) noexcept {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

void random_bytes(std::span<std::byte> out) {
  while (!out.empty()) {
    const std::size_t n = std::min<std::size_t>(out.size(), INT_MAX);
    if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
      detail::throw_openssl("random bytes");
    }
    out = out.subspan(n);
  }
}

std::uint64_t random_u64() {
  std::array<std::byte, 8> b{};
  random_bytes(b);
  std::uint64_t v = 0;
  for (const std::byte x : b) v = (v << 8) | static_cast<std::uint64_t>(x);
  return v;
}

}  // namespace dmux::crypto

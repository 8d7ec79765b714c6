// X25519 key agreement, SHA-256, HMAC-SHA256, constant-time comparison and randomness.
#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <algorithm>
#include <climits>

#include "common/crypto/impl.h"

namespace dmux::crypto {

struct KeyAgreement::Impl {
  detail::PkeyPtr pkey;  // an X25519 private key, never null
};

KeyAgreement::KeyAgreement() : impl_(std::make_unique<Impl>()) {
  impl_->pkey.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "X25519"));
  if (!impl_->pkey) detail::throw_openssl("X25519 key generation");
}

KeyAgreement::~KeyAgreement() = default;

PublicKeyBytes KeyAgreement::public_key() const {
  PublicKeyBytes out{};
  std::size_t len = out.size();
  if (EVP_PKEY_get_raw_public_key(impl_->pkey.get(), reinterpret_cast<unsigned char*>(out.data()),
                                  &len) != 1 ||
      len != out.size()) {
    detail::throw_openssl("X25519 public key");
  }
  return out;
}

bool KeyAgreement::derive(const PublicKeyBytes& peer, Digest& shared_secret) const noexcept {
  shared_secret.fill(std::byte{0});
  detail::PkeyPtr peer_key(EVP_PKEY_new_raw_public_key(
      EVP_PKEY_X25519, nullptr, reinterpret_cast<const unsigned char*>(peer.data()), peer.size()));
  detail::PkeyCtxPtr ctx(EVP_PKEY_CTX_new(impl_->pkey.get(), nullptr));
  std::size_t len = shared_secret.size();
  const bool derived =
      peer_key && ctx && EVP_PKEY_derive_init(ctx.get()) == 1 &&
      EVP_PKEY_derive_set_peer(ctx.get(), peer_key.get()) == 1 &&
      EVP_PKEY_derive(ctx.get(), reinterpret_cast<unsigned char*>(shared_secret.data()), &len) ==
          1 &&
      len == shared_secret.size();
  // OpenSSL already refuses an all-zero result (a small-order peer key); check again, without
  // branching on secret bytes.
  unsigned char any = 0;
  for (const std::byte b : shared_secret) any |= static_cast<unsigned char>(b);
  if (!derived || any == 0) {
    detail::clear_errors();
    OPENSSL_cleanse(shared_secret.data(), shared_secret.size());
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

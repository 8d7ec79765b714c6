// The data path's cryptography. AES-256-GCM tags: OpenSSL's GCM (its aggregated GHASH is about a
// quarter faster than libsodium 1.0.18's over 1400 bytes) for one caller of a key at a time, and
// libsodium's (AES-NI) for a caller that finds the key's OpenSSL context in use by another thread;
// EVP alone on CPUs without AES-NI. All three give the same tags. SipHash from libsodium.
#include "common/crypto/data_path_mac.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/modes.h>
#include <sodium.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string_view>

namespace dmux::crypto {
namespace {

constexpr std::string_view kReturnKeyLabel = "ipdmux-v2-return-key";
constexpr std::size_t kNonceLen = 12;
using Nonce = std::array<unsigned char, kNonceLen>;

[[noreturn]] void fatal(const char* what) noexcept {
  std::fprintf(stderr, "fatal: %s\n", what);
  std::abort();
}

bool sodium_ready() noexcept {
  static const bool ok = sodium_init() >= 0;
  return ok;
}

bool use_sodium_aes() noexcept {
  static const bool ok = sodium_ready() && crypto_aead_aes256gcm_is_available() == 1;
  return ok;
}

Nonce make_nonce(std::uint32_t gateway_id, std::uint64_t counter) noexcept {
  Nonce n{};
  for (int i = 0; i < 4; ++i) n[i] = static_cast<unsigned char>(gateway_id >> (24 - 8 * i));
  for (int i = 0; i < 8; ++i) n[4 + i] = static_cast<unsigned char>(counter >> (56 - 8 * i));
  return n;
}

const unsigned char* uc(const std::byte* p) noexcept {
  return reinterpret_cast<const unsigned char*>(p);
}

// One OpenSSL AES-256-GCM context per thread, re-keyed per call (the fallback only).
EVP_CIPHER_CTX* thread_cipher_context() noexcept {
  struct Holder {
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    ~Holder() { EVP_CIPHER_CTX_free(ctx); }
  };
  thread_local Holder holder;
  if (holder.ctx == nullptr) fatal("EVP_CIPHER_CTX_new");
  return holder.ctx;
}

TunnelTag openssl_gmac(const TunnelKeyBytes& key, const Nonce& nonce,
                       std::span<const std::byte> message) noexcept {
  EVP_CIPHER_CTX* ctx = thread_cipher_context();
  TunnelTag tag{};
  int len = 0;
  if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, uc(key.data()), nonce.data()) != 1 ||
      (!message.empty() && EVP_EncryptUpdate(ctx, nullptr, &len, uc(message.data()),
                                             static_cast<int>(message.size())) != 1) ||
      EVP_EncryptFinal_ex(ctx, nullptr, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, static_cast<int>(tag.size()), tag.data()) !=
          1) {
    fatal("AES-256-GCM (OpenSSL)");
  }
  return tag;
}

// From this many bytes on OpenSSL's GCM is the faster (bench_mac_cost on a 2-core AVX2 VM: 1456
// bytes 330-390 ns against libsodium's 430-500; 120 bytes: ~145 against ~130).
constexpr std::size_t kOpensslGcmFrom = 256;

// AES-256 of one block for OpenSSL's GCM (its H and each nonce's first counter block), through
// an ECB context that holds the expanded key.
void aes_block(const unsigned char in[16], unsigned char out[16], const void* ecb) {
  int len = 0;
  if (EVP_EncryptUpdate(static_cast<EVP_CIPHER_CTX*>(const_cast<void*>(ecb)), out, &len, in, 16) !=
          1 ||
      len != 16) {
    fatal("AES-256-ECB (OpenSSL)");
  }
}

}  // namespace

struct TunnelKey::State {
  crypto_aead_aes256gcm_state sodium;  // expanded key (libsodium's AES-NI path)
  TunnelKeyBytes raw{};                // the key itself (the EVP path without AES-NI)
  // OpenSSL's GCM under this key, for one thread at a time (`busy`); null without AES-NI.
  EVP_CIPHER_CTX* ecb = nullptr;
  GCM128_CONTEXT* gcm = nullptr;
  mutable std::atomic_flag busy;

  State() = default;
  State(const State&) = delete;
  State& operator=(const State&) = delete;
  ~State() {
    CRYPTO_gcm128_release(gcm);  // wipes it
    EVP_CIPHER_CTX_free(ecb);    // wipes the expanded key
    sodium_memzero(&sodium, sizeof sodium);
    sodium_memzero(raw.data(), raw.size());
  }

  // The tag through OpenSSL's GCM, if the message is long enough for it to be the faster one and
  // no other thread is using it.
  bool fast_tag(const Nonce& nonce, std::span<const std::byte> message,
                TunnelTag& tag) const noexcept {
    if (gcm == nullptr || message.size() < kOpensslGcmFrom ||
        busy.test_and_set(std::memory_order_acquire)) {
      return false;
    }
    CRYPTO_gcm128_setiv(gcm, nonce.data(), nonce.size());
    const bool ok = CRYPTO_gcm128_aad(gcm, uc(message.data()), message.size()) == 0;
    if (ok) CRYPTO_gcm128_tag(gcm, reinterpret_cast<unsigned char*>(tag.data()), tag.size());
    busy.clear(std::memory_order_release);
    return ok;  // false only past GCM's 2^61-byte limit on associated data
  }
};

TunnelKey::TunnelKey(const TunnelKeyBytes& key) : state_(std::make_unique<State>()) {
  state_->raw = key;
  if (!use_sodium_aes()) return;
  crypto_aead_aes256gcm_beforenm(&state_->sodium, uc(key.data()));
  state_->ecb = EVP_CIPHER_CTX_new();
  if (state_->ecb == nullptr ||
      EVP_EncryptInit_ex(state_->ecb, EVP_aes_256_ecb(), nullptr, uc(key.data()), nullptr) != 1 ||
      EVP_CIPHER_CTX_set_padding(state_->ecb, 0) != 1) {
    fatal("AES-256-ECB (OpenSSL)");
  }
  state_->gcm = CRYPTO_gcm128_new(state_->ecb, aes_block);
  if (state_->gcm == nullptr) throw std::bad_alloc();
}

TunnelKey::~TunnelKey() = default;  // State's destructor wipes the key

bool TunnelKey::accelerated() noexcept { return use_sodium_aes(); }

TunnelTag TunnelKey::reference_tag(const TunnelKeyBytes& key, std::uint32_t gateway_id,
                                   std::uint64_t counter,
                                   std::span<const std::byte> message) noexcept {
  return openssl_gmac(key, make_nonce(gateway_id, counter), message);
}

TunnelTag TunnelKey::tag(std::uint32_t gateway_id, std::uint64_t counter,
                         std::span<const std::byte> message) const noexcept {
  const Nonce nonce = make_nonce(gateway_id, counter);
  if (!use_sodium_aes()) return openssl_gmac(state_->raw, nonce, message);
  TunnelTag tag{};
  if (state_->fast_tag(nonce, message, tag)) return tag;
  unsigned long long tag_len = 0;
  unsigned char no_ciphertext = 0;  // libsodium wants a pointer even for an empty plaintext
  crypto_aead_aes256gcm_encrypt_detached_afternm(
      &no_ciphertext, reinterpret_cast<unsigned char*>(tag.data()), &tag_len, nullptr, 0,
      uc(message.data()), message.size(), nullptr, nonce.data(), &state_->sodium);
  return tag;
}

bool TunnelKey::verify(std::uint32_t gateway_id, std::uint64_t counter,
                       std::span<const std::byte> message,
                       std::span<const std::byte, kTunnelTagLen> expected) const noexcept {
  const Nonce nonce = make_nonce(gateway_id, counter);
  TunnelTag want{};
  if (!use_sodium_aes()) {
    want = openssl_gmac(state_->raw, nonce, message);
  } else if (!state_->fast_tag(nonce, message, want)) {
    unsigned char no_ciphertext = 0;
    return crypto_aead_aes256gcm_decrypt_detached_afternm(
               nullptr, nullptr, &no_ciphertext, 0, uc(expected.data()), uc(message.data()),
               message.size(), nonce.data(), &state_->sodium) == 0;
  }
  return CRYPTO_memcmp(want.data(), expected.data(), want.size()) == 0;
}

ReturnKey derive_return_key(std::span<const std::byte> seed) noexcept {
  if (!sodium_ready()) fatal("sodium_init");
  crypto_auth_hmacsha256_state st;
  unsigned char d[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_init(&st, uc(seed.data()), seed.size());
  crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(kReturnKeyLabel.data()),
                                kReturnKeyLabel.size());
  crypto_auth_hmacsha256_final(&st, d);
  ReturnKey k{};
  std::memcpy(k.data(), d, k.size());
  sodium_memzero(d, sizeof d);
  sodium_memzero(&st, sizeof st);
  return k;
}

std::uint64_t return_token(const ReturnKey& key, std::uint16_t proto_id, std::uint32_t provider_id,
                           std::uint32_t client_ipv4, std::uint16_t client_port) noexcept {
  if (!sodium_ready()) fatal("sodium_init");
  const unsigned char m[12] = {
      static_cast<unsigned char>(proto_id >> 8),     static_cast<unsigned char>(proto_id),
      static_cast<unsigned char>(client_port >> 8),  static_cast<unsigned char>(client_port),
      static_cast<unsigned char>(client_ipv4 >> 24), static_cast<unsigned char>(client_ipv4 >> 16),
      static_cast<unsigned char>(client_ipv4 >> 8),  static_cast<unsigned char>(client_ipv4),
      static_cast<unsigned char>(provider_id >> 24), static_cast<unsigned char>(provider_id >> 16),
      static_cast<unsigned char>(provider_id >> 8),  static_cast<unsigned char>(provider_id)};
  unsigned char out[crypto_shorthash_siphash24_BYTES];
  crypto_shorthash_siphash24(out, m, sizeof m, uc(key.data()));
  std::uint64_t rt = 0;
  for (int i = 7; i >= 0; --i) rt = (rt << 8) | out[i];  // SipHash's output is little-endian
  return rt;
}

Hash128 keyed_hash128(std::span<const std::byte, 16> key,
                      std::span<const std::byte> message) noexcept {
  if (!sodium_ready()) fatal("sodium_init");
  Hash128 out{};
  crypto_shorthash_siphashx24(reinterpret_cast<unsigned char*>(out.data()), uc(message.data()),
                              message.size(), uc(key.data()));
  return out;
}

}  // namespace dmux::crypto

// OpenSSL, wrapped once: Ed25519 keys and signatures, X.509 certificates that bind a key to an
// IPdmux role and scope, X25519 key agreement and HMAC for session keys, and randomness.
//
// Only this folder includes OpenSSL headers. Control plane only: functions may allocate; they
// report expected failures (bad input) through return values and throw CryptoError only for
// start-up problems (unreadable key file, OpenSSL out of memory).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/crypto/data_path_mac.h"
#include "common/util/enum_count.h"

namespace dmux::crypto {

class CryptoError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

using PublicKeyBytes = std::array<std::byte, 32>;  // raw Ed25519 or X25519 public key
using Signature = std::array<std::byte, 64>;       // raw Ed25519 signature
using Digest = std::array<std::byte, 32>;          // SHA-256 / HMAC-SHA256 output

// An Ed25519 private key.
class SigningKey {
 public:
  static SigningKey generate();
  static SigningKey load_pem(const std::string& path);  // throws CryptoError naming the path
  void save_pem(const std::string& path) const;         // mode 0600
  [[nodiscard]] PublicKeyBytes public_key() const;
  [[nodiscard]] Signature sign(std::span<const std::byte> message) const;

  struct Impl;
  [[nodiscard]] const Impl& impl() const { return *impl_; }
  ~SigningKey();
  SigningKey(SigningKey&&) noexcept;
  SigningKey& operator=(SigningKey&&) noexcept;

 private:
  explicit SigningKey(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The provider-wide return key (docs/protocol.md 6.2) of a provider's Ed25519 key: the same at
// every router that holds the provider's credentials.
ReturnKey derive_return_key(const SigningKey& provider_key);

// Verifies an Ed25519 signature with a raw public key. False on any failure.
bool verify_signature(const PublicKeyBytes& public_key, std::span<const std::byte> message,
                      const Signature& signature) noexcept;

enum class Role : std::uint8_t { kCa, kProvider, kGateway };

// What an IPdmux certificate says. Carried in a non-critical X.509 extension (OID
// 2.25.283635129742297453410364526633519858945, docs/protocol.md "Credentials") whose value is a
// DER UTF8String such as "role=provider;provider=7;protocols=1,2" or
// "role=gateway;gateway=3323068417".
struct CertInfo {
  Role role = Role::kProvider;
  std::uint32_t provider_id = 0;         // providers only
  std::vector<std::uint16_t> protocols;  // providers only: proto_ids it may serve
  std::uint32_t gateway_id = 0;          // gateways only
  std::string common_name;
  std::time_t not_before = 0;
  std::time_t not_after = 0;
  PublicKeyBytes public_key{};  // the subject's Ed25519 key
  // The certificate's serial number: its magnitude, big-endian, without leading zero bytes (what
  // BN_bn2bin gives for the serial; a CRL entry names a certificate by the same value).
  std::vector<std::byte> serial;
};

class Certificate {
 public:
  static Certificate from_der(std::span<const std::byte> der);  // throws CryptoError
  static Certificate load_pem(const std::string& path);         // throws CryptoError naming path
  void save_pem(const std::string& path) const;
  [[nodiscard]] std::vector<std::byte> der() const;
  // Parses the IPdmux extension and validity; does not verify anything. Throws CryptoError if the
  // certificate carries no valid IPdmux extension (a CA certificate has role=ca).
  [[nodiscard]] CertInfo info() const;

  struct Impl;
  [[nodiscard]] const Impl& impl() const { return *impl_; }
  ~Certificate();
  Certificate(Certificate&&) noexcept;
  Certificate& operator=(Certificate&&) noexcept;

 private:
  explicit Certificate(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// What the operator's CA signs. Validity is [now + not_before_offset, now + not_after_offset].
struct IssueRequest {
  CertInfo info;                 // role, scope and common_name; times and key ignored
  PublicKeyBytes subject_key{};  // Ed25519 public key of the subject
  std::int64_t not_before_offset_s = -60;
  std::int64_t not_after_offset_s = 365LL * 24 * 3600;
};

// A self-signed CA certificate (role=ca, basicConstraints CA:TRUE, keyCertSign).
Certificate make_ca(const SigningKey& ca_key, const std::string& common_name,
                    std::int64_t valid_days);
// A leaf certificate signed by the CA (basicConstraints CA:FALSE, digitalSignature).
Certificate issue(const Certificate& ca_cert, const SigningKey& ca_key,
                  const IssueRequest& request);

enum class VerifyResult : std::uint8_t {
  kOk = 0,
  kBadEncoding,  // not DER X.509, or no/invalid IPdmux extension
  kUntrusted,    // not signed by our CA (another CA, self-signed, tampered)
  kExpired,
  kNotYetValid,
  kWrongRole,  // e.g. a gateway certificate used to register a router
  kRevoked,    // genuine, but its serial number is in the revoked set (docs/protocol.md 10.1)
  kCount_,
};
inline constexpr std::size_t kVerifyResults = util::kCount<VerifyResult>;  // for counter arrays
const char* to_string(VerifyResult r) noexcept;

using SerialNumber = std::vector<std::byte>;  // as in CertInfo::serial

// Verifies leaf certificates against one CA, and remembers every verdict by SHA-256 of the DER: a
// genuine certificate (up to `cache_size`) costs a hash, a time, role and revocation check the next
// time; a refused one (up to `cache_size` more, kept apart so refusals never push genuine
// certificates out) costs a hash. A genuine certificate refused only for its validity period is
// remembered as genuine, so it is accepted once it becomes valid.
// `der` is untrusted. `out` is written only on kOk. The CA's own certificate is never accepted as a
// leaf (kWrongRole, whatever `expected_role`). Not thread-safe (the caches): one per thread.
class CertVerifier {
 public:
  explicit CertVerifier(const Certificate& ca, std::size_t cache_size = 4096);
  ~CertVerifier();
  VerifyResult verify(std::span<const std::byte> der, Role expected_role, std::time_t now,
                      CertInfo& out);
  // Replaces the set of revoked serial numbers (from a CRL the caller has verified); from now on
  // verify() returns kRevoked for them, cached or not.
  void set_revoked(std::vector<SerialNumber> serials);

  struct Stats {
    std::uint64_t hits = 0;          // answered from the cache of genuine certificates
    std::uint64_t refused_hits = 0;  // answered from the cache of refused certificates
    std::uint64_t misses = 0;        // parsed and verified against the CA
  };
  [[nodiscard]] Stats stats() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// X25519 key agreement for session keys.
class KeyAgreement {
 public:
  KeyAgreement();  // fresh ephemeral key pair
  ~KeyAgreement();
  [[nodiscard]] PublicKeyBytes public_key() const;
  // The shared secret with the peer's public key; false if the peer key is invalid (all-zero
  // output, small-order point). This is the raw X25519 output: derive keys from it with
  // hmac_sha256 (docs/protocol.md 9.2), never use it directly.
  bool derive(const PublicKeyBytes& peer, Digest& shared_secret) const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// These two abort if OpenSSL fails (it cannot short of a broken library), rather than return a
// digest a caller might trust.
Digest sha256(std::span<const std::byte> data) noexcept;
Digest hmac_sha256(std::span<const std::byte> key, std::span<const std::byte> data) noexcept;
// Constant-time comparison (CRYPTO_memcmp); false if sizes differ.
bool equal_constant_time(std::span<const std::byte> a, std::span<const std::byte> b) noexcept;
void random_bytes(std::span<std::byte> out);  // throws CryptoError if the CSPRNG fails
std::uint64_t random_u64();

}  // namespace dmux::crypto

// Certificate revocation lists (docs/protocol.md 10.1): X.509 v2 CRLs signed by the operator's CA
// with Ed25519, carrying a cRLNumber that grows with each one the CA issues. dmux-ca makes them;
// gateways load them (--crl), check the CA's signature, and pass them around the mesh, where the
// higher number wins. Control plane only; parsing takes untrusted bytes and never throws past
// from_der's documented CryptoError.
#pragma once

#include <cstdint>
#include <ctime>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/crypto/crypto.h"

namespace dmux::crypto {

class Crl {
 public:
  static Crl from_der(std::span<const std::byte> der);  // throws CryptoError if not a CRL
  // PEM or DER, whichever the file holds; throws CryptoError naming the path.
  static Crl load(const std::string& path);
  void save_pem(const std::string& path) const;
  void save_der(const std::string& path) const;

  // True if the CA signed it (and it names the CA as its issuer).
  [[nodiscard]] bool signed_by(const Certificate& ca) const noexcept;
  [[nodiscard]] std::uint64_t number() const noexcept;      // cRLNumber; 0 if absent
  [[nodiscard]] std::vector<SerialNumber> revoked() const;  // as in CertInfo::serial
  [[nodiscard]] std::time_t last_update() const noexcept;
  [[nodiscard]] std::time_t next_update() const noexcept;  // 0 if absent
  [[nodiscard]] std::vector<std::byte> der() const;

  struct Impl;
  ~Crl();
  Crl(Crl&&) noexcept;
  Crl& operator=(Crl&&) noexcept;
  [[nodiscard]] Crl copy() const;

 private:
  explicit Crl(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// A CRL from the CA listing `revoked`, numbered `number`, valid for `valid_days`.
Crl make_crl(const Certificate& ca, const SigningKey& ca_key, std::span<const SerialNumber> revoked,
             std::uint64_t number, std::int64_t valid_days);

}  // namespace dmux::crypto

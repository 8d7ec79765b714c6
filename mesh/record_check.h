// What a gateway checks in a router record learnt over the mesh (docs/protocol.md 12.8), and the
// two memories that make it cheap: the provider certificates a link has sent (verified once, kept
// by SHA-256) and the signatures that verified (kept by the hash of the bytes they cover, so a
// re-announced record costs a hash, not an Ed25519 verification).
//
// Control thread only. Records come from an authenticated gateway but are untrusted: a gateway
// may lie about any router, so only what the provider signed is believed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <list>
#include <memory>
#include <set>
#include <span>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/crypto/crypto.h"
#include "common/wire/mesh.h"

namespace dmux::mesh {

// A provider certificate a peer sent in a CERTIFICATE frame, as verified on arrival.
struct CertEntry {
  std::shared_ptr<const std::vector<std::byte>> der;
  crypto::VerifyResult verdict = crypto::VerifyResult::kBadEncoding;
  crypto::CertInfo info;  // valid when verdict is kOk
};

struct HashOf32 {
  std::size_t operator()(const std::array<std::byte, 32>& d) const noexcept;
};

// The certificates one link has sent. Bounded: a peer that sends more than `capacity` is
// misbehaving (the caller closes its link).
class CertificateStore {
 public:
  explicit CertificateStore(std::size_t capacity) : capacity_(capacity) {}
  // Verifies `der` (role provider) and remembers it. False if the store is full.
  bool add(std::span<const std::byte> der, crypto::CertVerifier& verifier, std::time_t now);
  // Nullptr if this link never sent the certificate.
  [[nodiscard]] std::shared_ptr<const CertEntry> find(const wire::mesh::CertHash& hash) const;
  [[nodiscard]] std::size_t size() const noexcept { return by_hash_.size(); }

 private:
  std::size_t capacity_;
  std::unordered_map<wire::mesh::CertHash, std::shared_ptr<const CertEntry>, HashOf32> by_hash_;
};

// Signatures already verified, by SHA-256 of the signed bytes. LRU, bounded.
class SignatureCache {
 public:
  explicit SignatureCache(std::size_t capacity) : capacity_(capacity) {}
  [[nodiscard]] bool contains(const crypto::Digest& signed_hash) noexcept;  // refreshes the entry
  void insert(const crypto::Digest& signed_hash);
  [[nodiscard]] std::size_t size() const noexcept { return index_.size(); }

 private:
  std::size_t capacity_;
  std::list<crypto::Digest> order_;  // most recent first
  std::unordered_map<crypto::Digest, std::list<crypto::Digest>::iterator, HashOf32> index_;
};

// Why a record was refused; counted per reason (records_refused.<reason>).
enum class RecordVerdict : std::uint8_t {
  kOk = 0,
  kCap,           // more records than an origin or a provider may have
  kCertificate,   // the certificate it names never arrived, or was refused
  kScope,         // provider or protocol not in the certificate
  kWrongGateway,  // signed for another gateway than the origin
  kSignature,     // the provider's signature does not verify
  kCount_,
};
inline constexpr std::size_t kRecordVerdicts = static_cast<std::size_t>(RecordVerdict::kCount_);
std::string_view to_string(RecordVerdict v) noexcept;

// Serial numbers revoked by the newest CRL (docs/protocol.md 10.1).
using RevokedSerials = std::set<crypto::SerialNumber>;

// Steps 3-6 of docs/protocol.md 12.8 for one record from `origin` (step 1 is the frame's, step 2
// the table's). `cert` is what the record's cert_hash names on its link (may be null).
RecordVerdict check_record(const wire::mesh::Router& record, std::uint32_t origin,
                           const CertEntry* cert, SignatureCache& signatures,
                           const RevokedSerials& revoked);

}  // namespace dmux::mesh

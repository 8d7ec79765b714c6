#include "mesh/record_check.h"

#include <algorithm>
#include <cstring>

namespace dmux::mesh {

std::size_t HashOf32::operator()(const std::array<std::byte, 32>& d) const noexcept {
  std::size_t h = 0;
  std::memcpy(&h, d.data(), sizeof h);  // a SHA-256 prefix is already uniform
  return h;
}

bool CertificateStore::add(std::span<const std::byte> der, crypto::CertVerifier& verifier,
                           std::time_t now) {
  const crypto::Digest hash = crypto::sha256(der);
  if (by_hash_.contains(hash)) return true;
  if (by_hash_.size() >= capacity_) return false;
  auto entry = std::make_shared<CertEntry>();
  entry->der = std::make_shared<const std::vector<std::byte>>(der.begin(), der.end());
  entry->verdict = verifier.verify(der, crypto::Role::kProvider, now, entry->info);
  by_hash_.emplace(hash, std::move(entry));
  return true;
}

std::shared_ptr<const CertEntry> CertificateStore::find(const wire::mesh::CertHash& hash) const {
  auto it = by_hash_.find(hash);
  return it == by_hash_.end() ? nullptr : it->second;
}

bool SignatureCache::contains(const crypto::Digest& signed_hash) noexcept {
  auto it = index_.find(signed_hash);
  if (it == index_.end()) return false;
  order_.splice(order_.begin(), order_, it->second);
  return true;
}

void SignatureCache::insert(const crypto::Digest& signed_hash) {
  if (contains(signed_hash) || capacity_ == 0) return;
  order_.push_front(signed_hash);
  index_.emplace(signed_hash, order_.begin());
  if (index_.size() > capacity_) {
    index_.erase(order_.back());
    order_.pop_back();
  }
}

std::string_view to_string(RecordVerdict v) noexcept {
  switch (v) {
    case RecordVerdict::kOk:
      return "ok";
    case RecordVerdict::kCap:
      return "cap";
    case RecordVerdict::kCertificate:
      return "certificate";
    case RecordVerdict::kScope:
      return "scope";
    case RecordVerdict::kWrongGateway:
      return "wrong_gateway";
    case RecordVerdict::kSignature:
      return "signature";
    case RecordVerdict::kCount_:
      break;
  }
  return "unknown";
}

RecordVerdict check_record(const wire::mesh::Router& r, std::uint32_t origin, const CertEntry* cert,
                           SignatureCache& signatures, const RevokedSerials& revoked) {
  if (cert == nullptr || cert->verdict != crypto::VerifyResult::kOk ||
      revoked.contains(cert->info.serial)) {
    return RecordVerdict::kCertificate;
  }
  const crypto::CertInfo& info = cert->info;
  if (info.provider_id != r.id.provider.value() ||
      std::find(info.protocols.begin(), info.protocols.end(), r.id.proto.value()) ==
          info.protocols.end()) {
    return RecordVerdict::kScope;
  }
  if (r.proof.gateway_id != wire::GatewayId{origin}) return RecordVerdict::kWrongGateway;
  std::vector<std::byte> signed_bytes(wire::kRegisterFixedLen + cert->der->size());
  const std::size_t n = wire::mesh::signed_register_bytes(r, *cert->der, signed_bytes);
  if (n == 0) return RecordVerdict::kCertificate;
  signed_bytes.resize(n);
  // The cache key covers the signature too, so a record with a wrong signature over cached bytes
  // is never taken for verified.
  signed_bytes.insert(signed_bytes.end(), r.proof.signature.begin(), r.proof.signature.end());
  const crypto::Digest key = crypto::sha256(signed_bytes);
  if (signatures.contains(key)) return RecordVerdict::kOk;
  crypto::Signature sig;
  std::copy(r.proof.signature.begin(), r.proof.signature.end(), sig.begin());
  if (!crypto::verify_signature(info.public_key, std::span(signed_bytes).first(n), sig)) {
    return RecordVerdict::kSignature;
  }
  signatures.insert(key);
  return RecordVerdict::kOk;
}

}  // namespace dmux::mesh

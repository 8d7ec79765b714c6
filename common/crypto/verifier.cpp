// CertVerifier: chain verification against the one CA, with bounded caches of the verdicts.
#include <algorithm>
#include <cstring>
#include <set>
#include <unordered_map>

#include "common/crypto/impl.h"

namespace dmux::crypto {
namespace {

struct DigestHash {
  std::size_t operator()(const Digest& d) const noexcept {
    std::size_t h = 0;
    std::memcpy(&h, d.data(), sizeof h);  // a SHA-256 prefix is already uniform
    return h;
  }
};

// A certificate the CA signed, whatever its role and validity.
struct GenuineCert {
  CertInfo info;
  // The window in which the chain is valid: the leaf's validity cut to the CA's.
  std::time_t valid_from = 0;
  std::time_t valid_until = 0;
};

// A map that never holds more than `limit` entries: when full, an arbitrary entry makes room.
template <typename V>
void put_bounded(std::unordered_map<Digest, V, DigestHash>& m, std::size_t limit, const Digest& k,
                 V v) {
  if (limit == 0) return;
  if (m.size() >= limit) m.erase(m.begin());
  m.emplace(k, std::move(v));
}

}  // namespace

const char* to_string(VerifyResult r) noexcept {
  switch (r) {
    case VerifyResult::kOk:
      return "ok";
    case VerifyResult::kBadEncoding:
      return "bad-encoding";
    case VerifyResult::kUntrusted:
      return "untrusted";
    case VerifyResult::kExpired:
      return "expired";
    case VerifyResult::kNotYetValid:
      return "not-yet-valid";
    case VerifyResult::kWrongRole:
      return "wrong-role";
    case VerifyResult::kRevoked:
      return "revoked";
    case VerifyResult::kCount_:
      break;
  }
  return "unknown";
}

struct CertVerifier::Impl {
  detail::X509StorePtr store;
  std::time_t ca_not_before = 0;
  std::time_t ca_not_after = 0;
  std::size_t cache_size = 0;
  std::unordered_map<Digest, GenuineCert, DigestHash> genuine;
  std::unordered_map<Digest, VerifyResult, DigestHash> refused;
  std::set<SerialNumber> revoked;
  Stats stats;

  // Whether the CA signed `leaf` (validity periods are judged separately, by the caller).
  [[nodiscard]] bool signed_by_ca(X509* leaf) const;
  VerifyResult judge(const GenuineCert& c, Role expected_role, std::time_t now,
                     CertInfo& out) const;
};

CertVerifier::CertVerifier(const Certificate& ca, std::size_t cache_size)
    : impl_(std::make_unique<Impl>()) {
  const CertInfo ca_info = ca.info();
  if (ca_info.role != Role::kCa)
    throw CryptoError("the trust anchor is not an IPdmux CA certificate");
  impl_->ca_not_before = ca_info.not_before;
  impl_->ca_not_after = ca_info.not_after;
  impl_->cache_size = cache_size;
  impl_->store.reset(X509_STORE_new());
  // X509_STORE_add_cert takes its own reference to the certificate.
  if (!impl_->store || X509_STORE_add_cert(impl_->store.get(), ca.impl().x509.get()) != 1) {
    detail::throw_openssl("certificate store");
  }
}

CertVerifier::~CertVerifier() = default;

bool CertVerifier::Impl::signed_by_ca(X509* leaf) const {
  const detail::X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!ctx || X509_STORE_CTX_init(ctx.get(), store.get(), leaf, nullptr) != 1) {
    detail::clear_errors();
    return false;  // out of memory: refuse, never accept
  }
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_NO_CHECK_TIME);
  X509_VERIFY_PARAM_set_depth(param, 0);  // the leaf must be signed by the anchor itself
  const bool ok = X509_verify_cert(ctx.get()) == 1;
  detail::clear_errors();
  return ok;
}

// Only a genuine certificate gets here, so kWrongRole means "ours, but for something else". The
// CA's own certificate is never accepted as a leaf.
VerifyResult CertVerifier::Impl::judge(const GenuineCert& c, Role expected_role, std::time_t now,
                                       CertInfo& out) const {
  if (now < c.valid_from) return VerifyResult::kNotYetValid;
  if (now >= c.valid_until) return VerifyResult::kExpired;
  if (c.info.role == Role::kCa || c.info.role != expected_role) return VerifyResult::kWrongRole;
  if (revoked.contains(c.info.serial)) return VerifyResult::kRevoked;
  out = c.info;
  return VerifyResult::kOk;
}

VerifyResult CertVerifier::verify(std::span<const std::byte> der, Role expected_role,
                                  std::time_t now, CertInfo& out) {
  Impl& m = *impl_;
  const Digest key = sha256(der);
  if (const auto it = m.genuine.find(key); it != m.genuine.end()) {
    ++m.stats.hits;
    return m.judge(it->second, expected_role, now, out);
  }
  if (const auto it = m.refused.find(key); it != m.refused.end()) {
    ++m.stats.refused_hits;
    return it->second;
  }
  ++m.stats.misses;

  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  const detail::X509Ptr leaf(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  CertInfo info;
  if (!leaf || p != reinterpret_cast<const unsigned char*>(der.data()) + der.size() ||
      !detail::read_cert_info(leaf.get(), info)) {
    detail::clear_errors();
    put_bounded(m.refused, m.cache_size, key, VerifyResult::kBadEncoding);
    return VerifyResult::kBadEncoding;
  }
  if (!m.signed_by_ca(leaf.get())) {  // another CA, self-signed, tampered
    put_bounded(m.refused, m.cache_size, key, VerifyResult::kUntrusted);
    return VerifyResult::kUntrusted;
  }
  GenuineCert c{std::move(info), 0, 0};
  c.valid_from = std::max(c.info.not_before, m.ca_not_before);
  c.valid_until = std::min(c.info.not_after, m.ca_not_after);
  const VerifyResult r = m.judge(c, expected_role, now, out);
  put_bounded(m.genuine, m.cache_size, key, std::move(c));
  return r;
}

void CertVerifier::set_revoked(std::vector<SerialNumber> serials) {
  impl_->revoked = std::set<SerialNumber>(std::make_move_iterator(serials.begin()),
                                          std::make_move_iterator(serials.end()));
}

CertVerifier::Stats CertVerifier::stats() const noexcept { return impl_->stats; }

}  // namespace dmux::crypto

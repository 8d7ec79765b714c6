// CertVerifier: chain verification against the one CA, with a cache of certificates that passed.
#include <algorithm>
#include <cstring>
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

struct CachedCert {
  CertInfo info;
  // The window in which the chain is valid: the leaf's validity cut to the CA's.
  std::time_t valid_from = 0;
  std::time_t valid_until = 0;
};

VerifyResult map_x509_error(int error) {
  switch (error) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
      return VerifyResult::kExpired;
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return VerifyResult::kNotYetValid;
    default:  // unknown issuer, self-signed, bad signature, ...
      return VerifyResult::kUntrusted;
  }
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
  }
  return "unknown";
}

struct CertVerifier::Impl {
  detail::X509StorePtr store;
  std::time_t ca_not_before = 0;
  std::time_t ca_not_after = 0;
  std::size_t cache_size = 0;
  std::unordered_map<Digest, CachedCert, DigestHash> cache;

  VerifyResult verify_chain(X509* leaf, std::time_t now);
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

VerifyResult CertVerifier::Impl::verify_chain(X509* leaf, std::time_t now) {
  const detail::X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!ctx || X509_STORE_CTX_init(ctx.get(), store.get(), leaf, nullptr) != 1) {
    detail::clear_errors();
    return VerifyResult::kUntrusted;  // out of memory: refuse, never accept
  }
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_time(param, now);  // also sets X509_V_FLAG_USE_CHECK_TIME
  X509_VERIFY_PARAM_set_depth(param, 0);   // the leaf must be signed by the anchor itself
  const int rc = X509_verify_cert(ctx.get());
  const VerifyResult result =
      rc == 1 ? VerifyResult::kOk : map_x509_error(X509_STORE_CTX_get_error(ctx.get()));
  detail::clear_errors();
  return result;
}

VerifyResult CertVerifier::verify(std::span<const std::byte> der, Role expected_role,
                                  std::time_t now, CertInfo& out) {
  const Digest key = sha256(der);
  if (const auto it = impl_->cache.find(key); it != impl_->cache.end()) {
    const CachedCert& c = it->second;
    if (now < c.valid_from) return VerifyResult::kNotYetValid;
    if (now >= c.valid_until) return VerifyResult::kExpired;
    if (c.info.role != expected_role) return VerifyResult::kWrongRole;
    out = c.info;
    return VerifyResult::kOk;
  }

  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  const detail::X509Ptr leaf(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  CertInfo info;
  if (!leaf || p != reinterpret_cast<const unsigned char*>(der.data()) + der.size() ||
      !detail::read_cert_info(leaf.get(), info)) {
    detail::clear_errors();
    return VerifyResult::kBadEncoding;
  }
  const VerifyResult chain = impl_->verify_chain(leaf.get(), now);
  if (chain != VerifyResult::kOk) return chain;
  // Only a genuine certificate gets here, so kWrongRole means "ours, but for something else". The
  // CA's own certificate is never accepted as a leaf.
  if (info.role == Role::kCa || info.role != expected_role) return VerifyResult::kWrongRole;

  if (impl_->cache_size > 0) {
    if (impl_->cache.size() >= impl_->cache_size) impl_->cache.clear();  // simple and bounded
    impl_->cache.emplace(key, CachedCert{info, std::max(info.not_before, impl_->ca_not_before),
                                         std::min(info.not_after, impl_->ca_not_after)});
  }
  out = std::move(info);
  return VerifyResult::kOk;
}

}  // namespace dmux::crypto

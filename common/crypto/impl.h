// Internal to common/crypto: what SigningKey and Certificate hold, for the files that build and
// check certificates.
#pragma once

#include "common/crypto/crypto.h"
#include "common/crypto/ossl.h"

namespace dmux::crypto {

struct SigningKey::Impl {
  detail::PkeyPtr pkey;  // an Ed25519 private key, never null
};

struct Certificate::Impl {
  detail::X509Ptr x509;  // never null

  // Wraps an owned certificate (a nested class may use Certificate's private constructor).
  static Certificate wrap(detail::X509Ptr x509);
};

}  // namespace dmux::crypto

namespace dmux::crypto::detail {

// The IPdmux extension's OID (2.25.283635129742297453410364526633519858945), parsed once.
const ASN1_OBJECT* ipdmux_oid();
// A non-critical IPdmux extension whose value is the DER UTF8String `text`.
X509ExtPtr make_ipdmux_extension(const std::string& text);
// Fills `out` from the certificate (scope, common name, validity, key). False if anything is
// missing or malformed; never throws.
bool read_cert_info(const X509* x509, CertInfo& out);

}  // namespace dmux::crypto::detail

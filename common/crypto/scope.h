// Internal to common/crypto: the text inside the IPdmux certificate extension, e.g.
// "role=provider;provider=7;protocols=1,2". Pure string code, no OpenSSL.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/crypto/crypto.h"

namespace dmux::crypto::detail {

// The canonical text for `info`'s role and scope. Throws CryptoError if the scope is invalid
// (provider id 0, no protocols, a reserved proto_id, gateway id 0). Protocols are sorted and
// de-duplicated on the way.
std::string format_scope(const CertInfo& info);

// Parses `text` (untrusted: it comes from a certificate a peer sent) strictly: keys in the
// canonical order, no unknown or repeated keys, decimal numbers without sign or leading zeros,
// protocols strictly ascending. On success sets role, provider_id, protocols and gateway_id of
// `out` (other fields untouched) and returns true.
bool parse_scope(std::string_view text, CertInfo& out);

}  // namespace dmux::crypto::detail

// Text for people: certificate descriptions, times and fingerprints.
#pragma once

#include <cstddef>
#include <ctime>
#include <span>
#include <string>

#include "common/crypto/crypto.h"

namespace dmux::ca {

// "2025-01-31 12:00:00 UTC".
std::string format_time(std::time_t t);
// "SHA256:" and the hex SHA-256 of `bytes`.
std::string fingerprint(std::span<const std::byte> bytes);
// "ca", "provider" or "gateway".
const char* role_name(crypto::Role role);
// "provider 7, protocols ipv6 (1), ipv4-multicast (2)", "gateway 198.18.0.1 (3323068417)", ...
std::string scope_text(const crypto::CertInfo& info);
// A block of "key: value" lines describing the certificate whose DER is `der`.
std::string describe(const crypto::CertInfo& info, std::span<const std::byte> der);

}  // namespace dmux::ca

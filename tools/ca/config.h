// What each dmux-ca command needs, as plain structs. options.cpp fills them from the command line;
// commands.cpp acts on them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/crypto/crypto.h"

namespace dmux::ca {

inline constexpr std::int64_t kSecondsPerDay = 24 * 3600;

// A leaf's validity: [now + not_before_offset_s, now + not_before_offset_s + length_s].
struct Validity {
  std::int64_t not_before_offset_s = -60;  // a minute back, for clock skew
  std::int64_t length_s = 365 * kSecondsPerDay;
};

struct InitConfig {
  std::string dir;                 // the CA directory; created if missing
  std::string name = "IPdmux CA";  // the CA certificate's common name
  std::int64_t days = 3650;        // CA validity
};

struct IssueProviderConfig {
  std::string dir;
  std::uint32_t provider_id = 0;         // 1..2^32-1
  std::vector<std::uint16_t> protocols;  // proto_ids the provider's routers may serve
  std::string name;                      // common name; empty: "provider-<id>"
  Validity validity;
  std::string out;  // writes <out>.key and <out>.crt
};

struct IssueGatewayConfig {
  std::string dir;
  std::uint32_t gateway_id = 0;  // 1..2^32-1, usually the gateway's IPv4 address
  std::string name;              // common name; empty: "gateway-<dotted quad>"
  Validity validity;
  std::string out;
};

struct ShowConfig {
  std::string cert;  // PEM file
};

struct VerifyConfig {
  std::string dir;                   // only <dir>/ca.crt is read
  std::string cert;                  // PEM file
  std::optional<crypto::Role> role;  // required role; default: the role the certificate claims
};

struct RevokeConfig {
  std::string dir;   // the CA; the serial goes into <dir>/revoked
  std::string cert;  // PEM file of the certificate to revoke (one this CA issued)
};

struct CrlConfig {
  std::string dir;         // the CA: signs a CRL of everything in <dir>/revoked
  std::string out;         // where the CRL goes (PEM)
  std::int64_t days = 30;  // nextUpdate: gateways keep using it after that, but warn
};

using Config = std::variant<InitConfig, IssueProviderConfig, IssueGatewayConfig, ShowConfig,
                            VerifyConfig, RevokeConfig, CrlConfig>;

}  // namespace dmux::ca

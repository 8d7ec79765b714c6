// The options every router agent program shares (--return-key, --static-tunnel-key,
// --allow-destination): their names, written once here, the plain struct a program's
// options.cpp fills, and loading what they name at start. Control plane: these allocate and throw
// ConfigError naming the option at fault.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/crypto/crypto.h"
#include "common/net/endpoint.h"

namespace dmux::agent {

namespace opt {
inline constexpr const char* kCert = "cert";
inline constexpr const char* kKey = "key";
inline constexpr const char* kProtocol = "protocol";
inline constexpr const char* kReturnKey = "return-key";
inline constexpr const char* kStaticTunnelKey = "static-tunnel-key";
inline constexpr const char* kAllowDestination = "allow-destination";
// Their help texts (each program's options.cpp declares them with these).
inline constexpr const char* kReturnKeyHelp =
    "provider-wide secret (at least 16 bytes) from which return tokens are derived; give every "
    "router of the provider the same file (default: derived from --key)";
inline constexpr const char* kStaticTunnelKeyHelp =
    "tunnel key (64 hex digits) of a static router: the file dmuxd's --static-router names "
    "(key_id 0; default: registration keys only)";
inline constexpr const char* kAllowDestinationHelp =
    "special-purpose IPv4 prefix (RFC 6890) RETURNs may go to, e.g. 198.18.0.0/15 in a lab; "
    "repeatable (default: none: never to private, shared, loopback, link-local, documentation, "
    "benchmarking, multicast or reserved addresses)";
}  // namespace opt

struct AgentOptions {
  std::string return_key_file{};         // empty: K_r from the provider's Ed25519 key (6.2)
  std::string static_tunnel_key_file{};  // empty: registration keys only (no static router)
  std::vector<net::Ipv4Prefix> allowed_destinations{};  // special-purpose ranges RETURNs may reach
};

// "198.18.0.0/15" each; throws ConfigError(opt::kAllowDestination).
std::vector<net::Ipv4Prefix> parse_allowed_destinations(const std::vector<std::string>& texts);

// The struct from the options' values as given (empty: not given). Throws ConfigError.
AgentOptions make_agent_options(std::string return_key_file, std::string static_tunnel_key_file,
                                const std::vector<std::string>& allowed_destinations);

struct AgentSecrets {
  crypto::ReturnKey return_key{};
  std::optional<crypto::TunnelKeyBytes> static_tunnel_key;
};

// K_r from options.return_key_file if given, else from `provider_key`; the static key if given.
// Throws ConfigError naming --return-key or --static-tunnel-key.
AgentSecrets load_secrets(const AgentOptions& options, const crypto::SigningKey& provider_key);

}  // namespace dmux::agent

// A router agent's credentials from dmux-ca: its provider certificate and Ed25519 key, loaded once
// at start and checked against the configuration so that mistakes show at start, not as silent
// refusals. Shared by dmux-provider, dmux-mcast and the SDK, each with its own option names.
#pragma once

#include <cstdint>
#include <ctime>
#include <string>
#include <vector>

#include "agent/agent_options.h"
#include "common/crypto/crypto.h"
#include "common/wire/ids.h"

namespace dmux::agent {

// What load_credentials() reads and checks, filled from each program's own configuration.
struct CredentialsConfig {
  std::string cert_file;                 // PEM provider certificate from dmux-ca
  std::string key_file;                  // PEM Ed25519 key matching cert_file
  std::vector<std::uint16_t> protocols;  // proto_ids to register; each must be in the certificate
  AgentOptions agent;                    // return key, static tunnel key, allowed destinations
  // The option a ConfigError names when the certificate does not list one of `protocols`: the
  // program's --protocol, or --cert where the protocol is the program's own (dmux-mcast).
  const char* protocol_option = opt::kProtocol;
};

struct Credentials {
  crypto::SigningKey key;
  std::vector<std::byte> certificate_der;  // sent in every REGISTER
  crypto::CertInfo info;                   // provider_id, protocols, validity
  AgentSecrets agent;                      // K_r (6.2) and the static tunnel key, if any
  // The certificate's provider, typed where it leaves the certificate reader.
  [[nodiscard]] wire::ProviderId provider_id() const noexcept {
    return wire::ProviderId{info.provider_id};
  }
};

// Loads config.cert_file and config.key_file and checks: a provider certificate, valid at `now`,
// whose public key is the key's, listing every configured protocol; then the agent's secrets
// (config.agent: --return-key, --static-tunnel-key). Throws ConfigError naming the option at fault
// (cert, key, config.protocol_option, return-key or static-tunnel-key).
Credentials load_credentials(const CredentialsConfig& config, std::time_t now);

}  // namespace dmux::agent

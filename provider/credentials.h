// The provider's credentials from dmux-ca: its certificate and Ed25519 key, loaded once at start
// and checked against the configuration so that mistakes show at start, not as silent refusals.
#pragma once

#include <ctime>
#include <vector>

#include "agent/agent_options.h"
#include "common/crypto/crypto.h"
#include "provider/config.h"

namespace dmux::provider {

struct Credentials {
  crypto::SigningKey key;
  std::vector<std::byte> certificate_der;  // sent in every REGISTER
  crypto::CertInfo info;                   // provider_id, protocols, validity
  agent::AgentSecrets agent;               // K_r (6.2) and the static tunnel key, if any
};

// Loads config.cert_file and config.key_file and checks: a provider certificate, valid at `now`,
// whose public key is the key's, listing every configured protocol; then the agent's secrets
// (config.agent: --return-key, --static-tunnel-key). Throws ConfigError naming the option at fault
// (cert, key, protocol, return-key or static-tunnel-key).
Credentials load_credentials(const ProviderConfig& config, std::time_t now);

}  // namespace dmux::provider

// dmux-provider's credentials (agent/credentials.h), loaded from its configuration: --cert, --key,
// each --protocol, --return-key and --static-tunnel-key; errors name those options.
#pragma once

#include <ctime>

#include "agent/credentials.h"
#include "provider/config.h"

namespace dmux::provider {

using agent::Credentials;

// Throws ConfigError naming the option at fault (cert, key, protocol, return-key or
// static-tunnel-key).
Credentials load_credentials(const ProviderConfig& config, std::time_t now);

}  // namespace dmux::provider

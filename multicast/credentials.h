// dmux-mcast's secrets, loaded once at start: the provider certificate and key (through
// agent/credentials.h, so the checks are every agent's: provider role, valid now, key matches,
// ipv4-multicast in scope) and the shared peer key. Throw ConfigError naming the option.
#pragma once

#include <ctime>

#include "agent/credentials.h"
#include "multicast/config.h"
#include "multicast/peer_wire.h"

namespace dmux::multicast {

agent::Credentials load_credentials(const McastConfig& config, std::time_t now);

// Reads --peer-key: the file's bytes with trailing whitespace removed, at least 16 of them, and
// derives the peer key from them (derive_peer_key). Without peers and a file, a random key.
PeerKey load_peer_key(const McastConfig& config);

}  // namespace dmux::multicast

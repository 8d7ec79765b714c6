// dmux-mcast's secrets, loaded once at start: the provider certificate and key (through
// provider/credentials.h, so the checks are dmux-provider's: provider role, valid now, key
// matches, ipv4-multicast in scope) and the shared peer key. Throw ConfigError naming the option.
#pragma once

#include <ctime>

#include "multicast/config.h"
#include "multicast/peer_wire.h"
#include "provider/credentials.h"

namespace dmux::multicast {

provider::Credentials load_credentials(const McastConfig& config, std::time_t now);

// Reads --peer-key: the file's bytes with trailing whitespace removed, at least 16 of them, and
// derives the peer key from them (derive_peer_key). Without peers and a file, a random key.
PeerKey load_peer_key(const McastConfig& config);

}  // namespace dmux::multicast

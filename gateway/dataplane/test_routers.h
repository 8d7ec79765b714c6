// Test helper for gateway unit tests: routers with real tunnel keys.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "common/crypto/data_path_mac.h"
#include "common/net/endpoint.h"
#include "gateway/dataplane/forwarding_table.h"

namespace dmux::gateway::testing {

// The 32 bytes first, first+1, ... (docs/protocol.md vector 2 uses first = 0).
inline crypto::TunnelKeyBytes key_bytes(std::uint8_t first = 0) {
  crypto::TunnelKeyBytes k{};
  for (std::size_t i = 0; i < k.size(); ++i) k[i] = static_cast<std::byte>(first + i);
  return k;
}

inline std::shared_ptr<const crypto::TunnelKey> tunnel_key(std::uint8_t first = 0) {
  return std::make_shared<const crypto::TunnelKey>(key_bytes(first));
}

// A router with a key of its own (derived from its address), or the given one.
inline RouterEntry keyed_router(std::uint16_t proto, std::uint32_t provider, net::Endpoint address,
                                RouterOrigin origin = RouterOrigin::kStatic,
                                std::shared_ptr<const crypto::TunnelKey> key = nullptr,
                                std::uint32_t key_id = 0) {
  if (!key) key = tunnel_key(static_cast<std::uint8_t>(address.addr ^ address.port));
  return RouterEntry{wire::RouterId{wire::ProtoId{proto}, wire::ProviderId{provider}, address},
                     origin,
                     {},
                     key_id,
                     std::move(key)};
}

inline RouterEntry keyed_router(std::uint16_t proto, std::uint32_t provider,
                                std::string_view address) {
  return keyed_router(proto, provider, *net::parse_endpoint(address));
}

}  // namespace dmux::gateway::testing

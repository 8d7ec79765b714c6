// How a router agent's registration clients hand their tunnel keys (docs/protocol.md 5.4) to its
// TUNNEL receiver. Called on the agent's event-loop thread.
#pragma once

#include <chrono>
#include <cstdint>

#include "common/crypto/data_path_mac.h"
#include "common/util/clock.h"
#include "common/wire/ids.h"

namespace dmux::agent {

using util::MonoTime;

class TunnelKeySink {
 public:
  virtual ~TunnelKeySink() = default;
  // A REGISTER_ACK (MAC verified) accepted a registration: TUNNELs naming `key_id` carry tags
  // under `key`.
  virtual void on_tunnel_key(wire::ProtoId proto_id, std::uint32_t key_id,
                             const crypto::TunnelKeyBytes& key, MonoTime now) noexcept = 0;
  // The registration that made `key_id` ended (replaced by a newer one, deregistered, or given up
  // on). The sink keeps accepting the key for the hold time still, then forgets it.
  virtual void on_tunnel_key_retired(std::uint32_t key_id, MonoTime now) noexcept = 0;
};

}  // namespace dmux::agent

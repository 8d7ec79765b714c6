// The TUNNEL receiver of a router agent: docs/protocol.md 5.3 steps 1-5, before anything else.
//
//   1. the header (2.2)                     -> truncated, malformed, unsupported_version, ...
//   2. key_id names a key we hold (5.4)     -> unknown_key
//   3. counter not below the replay window of (key_id, gateway_id), nor seen -> replayed
//   4. the tag, in constant time            -> bad_tag
//   5. the window accepts the counter       -> replayed
//
// Keys: each registration's (key_id, K_t), handed over through TunnelKeySink by the agent's
// registration clients, plus an optional static key (key_id 0, --static-tunnel-key). A retired key
// (its registration replaced or ended) is still accepted for `retired_key_hold`, then forgotten
// with its windows. Windows: one per (key_id, gateway_id), created only for TUNNELs whose tag
// verified, at most `max_windows` (LRU).
//
// Single-threaded (the agent's event loop). open() is the data path: noexcept, no allocation, no
// logging. The TunnelKeySink calls are the control plane (they allocate a key schedule).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "agent/counters.h"
#include "agent/tunnel_key_sink.h"
#include "agent/window_table.h"
#include "common/crypto/data_path_mac.h"
#include "common/wire/shim.h"

namespace dmux::agent {

struct TunnelReceiverConfig {
  std::size_t max_keys = 16;                          // registration keys held (static aside)
  std::chrono::milliseconds retired_key_hold{30000};  // a retired key still opens TUNNELs
  std::size_t max_windows = 4096;                     // replay windows (key_id, gateway_id)
};

class TunnelReceiver final : public TunnelKeySink {
 public:
  struct HeldKey {
    std::uint32_t key_id = 0;  // 0: the static key
    wire::ProtoId proto_id;    // the registration's protocol (0 for the static key)
    bool retired = false;
    MonoTime forget_at{};  // retired keys: when the hold ends
    std::unique_ptr<crypto::TunnelKey> key{};
  };

  // Throws std::invalid_argument for an unusable config, std::bad_alloc.
  explicit TunnelReceiver(const TunnelReceiverConfig& config,
                          const std::optional<crypto::TunnelKeyBytes>& static_key = std::nullopt);

  // One datagram from the listen socket (untrusted). Its tag field is zeroed and restored during
  // the check, so it must be writable. True if it passed steps 1-5: then `h` is its header and
  // `payload` views the bytes after it inside `datagram`. False: dropped and counted by reason;
  // `h` and `payload` are meaningless.
  bool open(std::span<std::byte> datagram, MonoTime now, wire::TunnelHeader& h,
            std::span<const std::byte>& payload) noexcept;

  // TunnelKeySink (the registration clients, control plane).
  void on_tunnel_key(wire::ProtoId proto_id, std::uint32_t key_id,
                     const crypto::TunnelKeyBytes& key, MonoTime now) noexcept override;
  void on_tunnel_key_retired(std::uint32_t key_id, MonoTime now) noexcept override;
  // Forgets retired keys whose hold ended (open() already refuses them).
  void expire(MonoTime now) noexcept;

  [[nodiscard]] const std::vector<HeldKey>& keys() const noexcept { return keys_; }
  [[nodiscard]] const WindowTable& windows() const noexcept { return windows_; }
  [[nodiscard]] const ReceiverCounters& counters() const noexcept { return counters_; }

 private:
  [[nodiscard]] const crypto::TunnelKey* usable_key(std::uint32_t key_id,
                                                    MonoTime now) const noexcept;
  [[nodiscard]] HeldKey* find(std::uint32_t key_id) noexcept;
  [[nodiscard]] bool make_room(MonoTime now) noexcept;
  void forget(std::size_t index) noexcept;
  bool refuse(TunnelDrop reason) noexcept {
    counters_.drop(reason);
    return false;
  }

  TunnelReceiverConfig config_;
  std::vector<HeldKey> keys_;  // capacity reserved for max_keys + the static key
  WindowTable windows_;
  ReceiverCounters counters_;
};

}  // namespace dmux::agent

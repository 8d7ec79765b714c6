// For tests and fuzz targets only: a fake gateway that seals TUNNELs (docs/protocol.md 5.2) the
// way a real one does, with its gateway_id and a counter that grows by one per TUNNEL.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "agent/return_tokens.h"
#include "common/crypto/data_path_mac.h"
#include "common/wire/byte_writer.h"
#include "common/wire/shim.h"
#include "common/wire/tunnel_seal.h"

namespace dmux::agent::test {

using Bytes = std::vector<std::byte>;

// 00 01 02 ... 1f: the key of the spec's vector 2.
inline crypto::TunnelKeyBytes vector_key() {
  crypto::TunnelKeyBytes k{};
  for (std::size_t i = 0; i < k.size(); ++i) k[i] = static_cast<std::byte>(i);
  return k;
}

class TestGateway {
 public:
  explicit TestGateway(const crypto::TunnelKeyBytes& key = vector_key(), std::uint32_t key_id = 0,
                       wire::GatewayId gateway_id = wire::GatewayId{0xc6120001},
                       std::uint64_t first_counter = 1)
      : key_(key), key_id_(key_id), gateway_id_(gateway_id), counter_(first_counter) {}

  // A sealed TUNNEL of `payload` with `h`'s client fields; key_id, gateway_id and counter are
  // this gateway's.
  Bytes tunnel(wire::TunnelHeader h, std::span<const std::byte> payload) {
    h.key_id = key_id_;
    h.gateway_id = gateway_id_;
    h.counter = counter_++;
    Bytes d(wire::kTunnelHeaderLen);
    wire::write_tunnel(d, h);
    d.insert(d.end(), payload.begin(), payload.end());
    wire::seal_tunnel(d, h.gateway_id, h.counter, key_);
    return d;
  }

  // Rewrites key_id, gateway_id and counter of any datagram of at least 56 bytes and seals it, so
  // that fuzzed headers and payloads get past the tag.
  void reseal(std::span<std::byte> d) {
    if (d.size() < wire::kTunnelHeaderLen) return;
    const std::uint64_t counter = counter_++;
    wire::ByteWriter gw(d.subspan(16, 4));
    gw.id(gateway_id_);
    wire::ByteWriter w(d.subspan(28, 28));
    w.u32(key_id_);
    w.u64(counter);
    w.zeros(wire::kTunnelTagLen);
    wire::seal_tunnel(d, gateway_id_, counter, key_);
  }

  [[nodiscard]] std::uint64_t next_counter() const noexcept { return counter_; }

 private:
  crypto::TunnelKey key_;
  std::uint32_t key_id_;
  wire::GatewayId gateway_id_;
  std::uint64_t counter_;
};

// Sets the token of a TUNNEL (before sealing) to the rt of its own client: a proven client.
inline void prove(std::span<std::byte> d, const ReturnTokens& tokens, wire::ProtoId proto_id) {
  wire::TunnelHeader h;
  std::span<const std::byte> payload;
  if (wire::parse_tunnel(d, h, payload) != wire::ParseStatus::kOk) return;
  wire::ByteWriter w(d.subspan(20, 8));
  w.u64(tokens.rt(proto_id, h.client_ipv4, h.client_port));
}

}  // namespace dmux::agent::test

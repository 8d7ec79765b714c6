// Return tokens (docs/protocol.md 6.2): rt = SipHash-2-4(K_r, proto_id ‖ client_port ‖ client_ipv4
// ‖ provider_id) under the provider-wide return key K_r. A router gives a client its rt only in a
// TOKEN_OFFER sent to the client's address, so a TUNNEL carrying the rt of its client_ipv4 and
// client_port proves the client receives there (return routability); every RETURN to a client
// carries its rt. Stateless: any router of the provider computes any client's rt. noexcept, no
// allocation; immutable after construction.
#pragma once

#include <cstdint>

#include "common/crypto/data_path_mac.h"
#include "common/wire/ids.h"

namespace dmux::agent {

class ReturnTokens {
 public:
  // `provider_id` is ours (never 0): rt covers it, whatever provider_id the client asked for.
  ReturnTokens(const crypto::ReturnKey& key, wire::ProviderId provider_id) noexcept
      : key_(key), provider_id_(provider_id) {}

  [[nodiscard]] std::uint64_t rt(wire::ProtoId proto_id, std::uint32_t client_ipv4,
                                 std::uint16_t client_port) const noexcept {
    return crypto::return_token(key_, proto_id.value(), provider_id_.value(), client_ipv4,
                                client_port);
  }
  // `token` (untrusted) is the rt of that client, compared in constant time.
  [[nodiscard]] bool proven(wire::ProtoId proto_id, std::uint32_t client_ipv4,
                            std::uint16_t client_port, std::uint64_t token) const noexcept {
    return crypto::equal_u64_constant_time(rt(proto_id, client_ipv4, client_port), token);
  }
  [[nodiscard]] wire::ProviderId provider_id() const noexcept { return provider_id_; }

 private:
  crypto::ReturnKey key_;
  wire::ProviderId provider_id_;
};

}  // namespace dmux::agent

// The protocol's identifiers as distinct types (docs/protocol.md 1): a proto_id, a provider_id and
// a gateway_id are all small integers on the wire, and nothing but these wrappers stops one being
// passed where another is meant. Zero cost: each holds its wire integer, converts only explicitly
// (`ProviderId{7}`, `.value()`), and compares, hashes and prints like it.
//
// RouterId is the one identity of a router: what a gateway forwards to, what the registry keeps
// soft state for and what the mesh announces. Structs that say more about a router (its record,
// its forwarding entry, its registration) hold a RouterId instead of repeating its fields.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "common/net/endpoint.h"

namespace dmux::wire {

template <class Tag, class Rep>
class Id {
 public:
  using Value = Rep;
  constexpr Id() noexcept = default;
  constexpr explicit Id(Rep v) noexcept : v_(v) {}
  [[nodiscard]] constexpr Rep value() const noexcept { return v_; }
  friend constexpr auto operator<=>(Id, Id) noexcept = default;
  friend constexpr bool operator==(Id, Id) noexcept = default;

 private:
  Rep v_ = 0;
};

using ProtoId = Id<struct ProtoIdTag, std::uint16_t>;        // IPvN protocol; 0 is reserved
using ProviderId = Id<struct ProviderIdTag, std::uint32_t>;  // 0 = any provider (in DATA only)
using GatewayId = Id<struct GatewayIdTag, std::uint32_t>;    // usually the gateway's IPv4 address

template <class Tag, class Rep>
std::string to_string(Id<Tag, Rep> id) {
  return std::to_string(id.value());
}

// A router: the protocol it serves, its provider and the address its tunnel goes to. Ordered by
// (proto, provider, address), the order routers are listed and grouped in everywhere.
struct RouterId {
  ProtoId proto;
  ProviderId provider;
  net::Endpoint address;
  auto operator<=>(const RouterId&) const = default;
};

// "proto 1 provider 7 198.18.13.2:5000"
inline std::string to_string(const RouterId& id) {
  return "proto " + to_string(id.proto) + " provider " + to_string(id.provider) + " " +
         id.address.to_string();
}

}  // namespace dmux::wire

template <class Tag, class Rep>
struct std::hash<dmux::wire::Id<Tag, Rep>> {
  std::size_t operator()(dmux::wire::Id<Tag, Rep> id) const noexcept {
    return std::hash<Rep>{}(id.value());
  }
};

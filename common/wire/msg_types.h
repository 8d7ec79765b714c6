// Every message type code of the protocol, one enum per family (docs/protocol.md): the type byte
// is written here and nowhere else. A byte read off the wire becomes one of these by a plain cast
// and is then compared or switched on; an unknown value simply matches no enumerator.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace dmux::wire {

// UDP datagrams to and from a gateway's data and registration ports (byte 1 of the common
// header): the data path (2, 3, 4) and registration (9).
enum class MsgType : std::uint8_t {
  kData = 1,    // client -> gateway: shim + IPvN packet
  kTunnel = 2,  // gateway -> router: tunnel header + IPvN packet
  kReturn = 3,  // router -> client: return header + IPvN packet
  kRegister = 4,
  kRegisterAck = 5,
  kKeepalive = 6,
  kKeepaliveAck = 7,
  kDeregister = 8,
  kCookieRequest = 9,
  kCookie = 10,
};

// Router <-> router messages between the routers of one provider (dmux-mcast, the SDK).
enum class PeerType : std::uint8_t {
  kSummary = 32,     // dmux-mcast: which groups a router's members joined
  kGroupData = 33,   // dmux-mcast: one group's packet for another router's members
  kRouterPeer = 34,  // the SDK's router <-> router message
};

// Control payloads between a client and a router, inside DATA and RETURN (kFlagControl).
enum class ControlType : std::uint8_t {
  kTokenRequest = 1,
  kTokenOffer = 2,
};

namespace mesh {
// Frames between gateways on a mesh link.
enum class Type : std::uint8_t {
  kHello = 16,
  kFullState = 17,
  kUpdate = 18,
  kProbe = 19,
  kProbeReply = 20,
  kPeers = 21,
  kCertificate = 22,  // a provider certificate (DER) that router records name by hash
  kCrl = 23,          // the operator CA's certificate revocation list (DER)
};
inline constexpr Type kFirstType = Type::kHello;
inline constexpr Type kLastType = Type::kCrl;
}  // namespace mesh

// The type byte of a gateway or peer datagram (its second byte); 0, no type, if it is shorter.
template <class Type>
[[nodiscard]] constexpr Type type_of(std::span<const std::byte> datagram) noexcept {
  return static_cast<Type>(datagram.size() >= 2 ? std::to_integer<std::uint8_t>(datagram[1]) : 0);
}

// The byte that carries `t`.
template <class Type>
[[nodiscard]] constexpr std::uint8_t code(Type t) noexcept {
  return static_cast<std::uint8_t>(t);
}

}  // namespace dmux::wire

// Data-path wire formats (docs/protocol.md, sections "Common header", "DATA", "TUNNEL", "RETURN").
//
// All three share a 4-byte common header: version, type, header length, flags. DATA
// (client -> gateway) and RETURN (router -> client) have the same 20-byte layout; TUNNEL
// (gateway -> router) is 56 bytes and carries a tag that authenticates the whole datagram
// (tunnel_seal.h computes and checks it). Parsing never allocates or throws; it returns a typed
// status.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "common/wire/ids.h"
#include "common/wire/msg_types.h"

namespace dmux::wire {

inline constexpr std::uint8_t kVersion = 2;
inline constexpr ProviderId kAnyProvider{0};

// DATA, TUNNEL and RETURN flags. Gateways copy the DATA flags byte into TUNNEL unchanged.
// kFlagControl: the payload is a client <-> router control message (client_control.h), not an
// IPvN packet.
inline constexpr std::uint8_t kFlagControl = 0x01;

// Message types: common/wire/msg_types.h (MsgType::kData, kTunnel, kReturn here).

inline constexpr std::size_t kCommonHeaderLen = 4;
inline constexpr std::size_t kDataHeaderLen = 20;
inline constexpr std::size_t kReturnHeaderLen = 20;
inline constexpr std::size_t kTunnelHeaderLen = 56;
inline constexpr std::size_t kTunnelTagOffset = 40;  // 16-byte tag: bytes [40, 56)
inline constexpr std::size_t kTunnelTagLen = 16;
inline constexpr std::size_t kMaxHeaderLen = 252;  // hdr_len is a byte and a multiple of 4

// Why a datagram was rejected. Each value is counted separately by receivers.
enum class ParseStatus : std::uint8_t {
  kOk = 0,
  kTruncated,           // shorter than its header claims or than the fixed part
  kMalformed,           // bad header length, empty payload, reserved proto_id
  kUnsupportedVersion,  // version != 2 (docs/protocol.md 2.1)
  kUnexpectedType,      // a known message, but not one this receiver accepts
};
std::string_view to_string(ParseStatus s) noexcept;

// DATA and RETURN headers (same layout, different type byte).
struct ShimHeader {
  std::uint8_t flags = 0;  // unknown flags are ignored and copied through unchanged
  ProtoId proto_id;
  ProviderId provider_id = kAnyProvider;
  std::uint64_t token = 0;  // chosen by the client; opaque to gateways and routers
};

struct TunnelHeader {
  std::uint8_t flags = 0;
  ProtoId proto_id;
  ProviderId provider_id = kAnyProvider;  // as the client asked (0 = any)
  std::uint32_t client_ipv4 = 0;          // host order
  std::uint16_t client_port = 0;          // host order
  GatewayId gateway_id;                   // ingress gateway; first half of the tag's nonce
  std::uint64_t token = 0;                // from DATA: the client's return token (or nonce)
  std::uint32_t key_id = 0;               // names the router's tunnel key; 0 = a static key
  std::uint64_t counter = 0;              // per gateway, never repeats: the nonce's second half
  std::array<std::byte, kTunnelTagLen> tag{};  // parse only (writers leave the field zero)
};

// Reads the common header only: version and type. Used to dispatch before the full parse.
ParseStatus peek_type(std::span<const std::byte> datagram, MsgType& type) noexcept;

// Parses a whole DATA or RETURN datagram (`expected` says which). On kOk, `payload` views the IPvN
// packet inside `datagram`.
ParseStatus parse_shim(std::span<const std::byte> datagram, MsgType expected, ShimHeader& out,
                       std::span<const std::byte>& payload) noexcept;

ParseStatus parse_tunnel(std::span<const std::byte> datagram, TunnelHeader& out,
                         std::span<const std::byte>& payload) noexcept;

// Writers put the header only. They return the number of bytes written, or 0 if `out` is too
// small. write_tunnel leaves the tag field zero: tunnel_seal.h fills it once the payload follows.
std::size_t write_shim(std::span<std::byte> out, MsgType type, const ShimHeader& h) noexcept;
std::size_t write_tunnel(std::span<std::byte> out, const TunnelHeader& h) noexcept;

}  // namespace dmux::wire

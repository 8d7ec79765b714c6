// Client <-> router control messages (docs/protocol.md section 15): the payload of a DATA (so of
// the TUNNEL a gateway makes of it) or of a RETURN whose flags carry kFlagControl. Gateways never
// look inside; they forward these like any DATA.
//
// TOKEN_REQUEST (client -> router) asks for the client's return token; TOKEN_OFFER (router ->
// client, in a RETURN whose token echoes the request's) carries it. The request is padded so that
// the offer is never larger than the request that caused it. Codec only: no allocation, no throw.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "common/wire/shim.h"

namespace dmux::wire {

// ControlType (the first byte of a control payload): common/wire/msg_types.h.

inline constexpr std::size_t kTokenRequestLen = 64;
inline constexpr std::size_t kTokenOfferLen = 32;

struct TokenOffer {
  std::uint64_t return_token = 0;  // use as the DATA token; RETURNs to us carry it
  std::uint32_t client_ipv4 = 0;   // the address and port the gateway saw (our NAT binding)
  std::uint16_t client_port = 0;
  std::uint32_t refresh_s = 0;  // ask again this often (NAT keepalive; a key may change)
};

// The control type of a control payload (its first byte): kTruncated if empty.
ParseStatus peek_control_type(std::span<const std::byte> payload, ControlType& out) noexcept;
// Exact lengths: kTruncated if shorter, kMalformed if longer or of another control type.
ParseStatus parse_token_request(std::span<const std::byte> payload) noexcept;
ParseStatus parse_token_offer(std::span<const std::byte> payload, TokenOffer& out) noexcept;

// Each returns the bytes written (kTokenRequestLen / kTokenOfferLen), or 0 if `out` is too small.
std::size_t write_token_request(std::span<std::byte> out) noexcept;
std::size_t write_token_offer(std::span<std::byte> out, const TokenOffer& offer) noexcept;

}  // namespace dmux::wire

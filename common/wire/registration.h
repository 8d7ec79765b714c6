// Registration wire formats (docs/protocol.md section 9): COOKIE_REQUEST, COOKIE, REGISTER,
// REGISTER_ACK, KEEPALIVE, DEREGISTER and KEEPALIVE_ACK, exchanged over UDP between a provider's
// router agent and a gateway's registration endpoint. Codec only: signatures and MACs are computed
// and checked by the caller over the byte ranges these functions return. No allocation, no
// exceptions.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "common/wire/shim.h"

namespace dmux::wire {

inline constexpr std::size_t kKeyLen = 32;        // X25519 public key
inline constexpr std::size_t kSignatureLen = 64;  // Ed25519
inline constexpr std::size_t kMacLen = 16;        // truncated HMAC-SHA256
inline constexpr std::size_t kMaxCertificateLen = 2048;

inline constexpr std::size_t kCookieLen = 16;

inline constexpr std::size_t kCookieRequestLen = 40;
inline constexpr std::size_t kCookieReplyLen = 40;
inline constexpr std::size_t kRegisterFixedLen = 82;  // up to and including cert_len
inline constexpr std::size_t kRegisterAckLen = 92;
inline constexpr std::size_t kKeepaliveLen = 44;
inline constexpr std::size_t kKeepaliveAckLen = 44;

// The tunnel MAC construction a REGISTER_ACK names (docs/protocol.md 5.2).
inline constexpr std::uint8_t kSuiteAes256Gmac = 1;

using KeyBytes = std::array<std::byte, kKeyLen>;
using MacBytes = std::array<std::byte, kMacLen>;
using SignatureBytes = std::array<std::byte, kSignatureLen>;
using CookieBytes = std::array<std::byte, kCookieLen>;

// COOKIE_REQUEST: the first message of a registration; padded so the COOKIE is no larger.
struct CookieRequestMsg {
  std::uint64_t nonce = 0;  // random; echoed in COOKIE
};

// COOKIE: proof of return routability for the next REGISTER from the same address and port.
struct CookieMsg {
  GatewayId gateway_id;        // the gateway that answered: named in the REGISTER
  std::uint64_t nonce = 0;     // echo
  CookieBytes cookie{};        // opaque; copied into the REGISTER
  std::uint32_t valid_ms = 0;  // how long it stays valid at least
};

struct RegisterMsg {
  ProtoId proto_id;
  std::uint16_t router_port = 0;  // must equal the datagram's source port
  ProviderId provider_id;
  std::uint32_t router_ipv4 = 0;            // must equal the datagram's source address; not 0
  GatewayId gateway_id;                     // the gateway registered with (from its COOKIE)
  std::uint64_t timestamp_us = 0;           // sender's clock; strictly increasing per router
  CookieBytes cookie{};                     // from the COOKIE
  KeyBytes session_key{};                   // the agent's ephemeral X25519 public key
  std::uint32_t rtt_us = 0;                 // agent's measured RTT to this gateway; 0 = unknown
  std::span<const std::byte> certificate;   // DER, views the datagram (parse) or caller (write)
  std::span<const std::byte> signed_bytes;  // parse only: what the signature covers
  SignatureBytes signature{};
};

// Result codes of REGISTER_ACK.
enum class RegisterResult : std::uint8_t {
  kAccepted = 0,
  kOutOfScope = 1,  // the certificate does not cover this provider_id or proto_id
  kLimitReached = 2,
  kSuppressed = 3,  // the router is damped for flapping; retry later
};

struct RegisterAckMsg {
  RegisterResult result = RegisterResult::kAccepted;
  GatewayId gateway_id;
  std::uint64_t session_id = 0;
  std::uint64_t timestamp_us = 0;  // echo of the REGISTER's
  std::uint32_t keepalive_interval_ms = 0;
  std::uint32_t hold_time_ms = 0;
  KeyBytes session_key{};    // the gateway's ephemeral X25519 public key
  std::uint32_t key_id = 0;  // names the session's tunnel key in TUNNEL headers (not 0)
  std::uint8_t suite = 0;    // the tunnel MAC construction (kSuiteAes256Gmac)
  MacBytes mac{};            // over bytes [0, 76)
};

// KEEPALIVE and DEREGISTER share this layout (type differs).
struct KeepaliveMsg {
  std::uint64_t session_id = 0;
  std::uint64_t counter = 0;  // strictly increasing per session
  std::uint32_t rtt_us = 0;   // agent's smoothed RTT to this gateway; 0 = unknown
  MacBytes mac{};             // over bytes [0, 28)
};

enum class KeepaliveResult : std::uint8_t {
  kAlive = 0,
  kUnknownSession = 1,  // not authenticated (mac zero): re-register
  kDeregistered = 2,
};

struct KeepaliveAckMsg {
  KeepaliveResult result = KeepaliveResult::kAlive;
  GatewayId gateway_id;
  std::uint64_t session_id = 0;
  std::uint64_t counter = 0;  // echo
  MacBytes mac{};             // over bytes [0, 28); zero for kUnknownSession
};

inline constexpr std::size_t kRegisterAckMacOffset = 76;
inline constexpr std::size_t kKeepaliveMacOffset = 28;
inline constexpr std::size_t kKeepaliveAckMacOffset = 28;

// Parsers check the exact length of each message before reading it.
ParseStatus parse_cookie_request(std::span<const std::byte> datagram,
                                 CookieRequestMsg& out) noexcept;
ParseStatus parse_cookie(std::span<const std::byte> datagram, CookieMsg& out) noexcept;
ParseStatus parse_register(std::span<const std::byte> datagram, RegisterMsg& out) noexcept;
ParseStatus parse_register_ack(std::span<const std::byte> datagram, RegisterAckMsg& out) noexcept;
// `type` is MsgType::kKeepalive or MsgType::kDeregister; anything else is kUnexpectedType.
ParseStatus parse_keepalive(std::span<const std::byte> datagram, MsgType& type,
                            KeepaliveMsg& out) noexcept;
ParseStatus parse_keepalive_ack(std::span<const std::byte> datagram, KeepaliveAckMsg& out) noexcept;

std::size_t write_cookie_request(std::span<std::byte> out, const CookieRequestMsg& m) noexcept;
std::size_t write_cookie(std::span<std::byte> out, const CookieMsg& m) noexcept;

// Writes REGISTER up to the signature. Returns the length written (the bytes to sign), 0 if `out`
// is too small or the certificate too long. Then append_register_signature() completes it.
std::size_t write_register_unsigned(std::span<std::byte> out, const RegisterMsg& m) noexcept;
std::size_t append_register_signature(std::span<std::byte> out, std::size_t unsigned_len,
                                      const SignatureBytes& signature) noexcept;

// These write the whole message with `m.mac` at its offset; callers compute the MAC over the
// leading bytes and write it again (or pass it in after a first call with a zero MAC).
std::size_t write_register_ack(std::span<std::byte> out, const RegisterAckMsg& m) noexcept;
std::size_t write_keepalive(std::span<std::byte> out, MsgType type, const KeepaliveMsg& m) noexcept;
std::size_t write_keepalive_ack(std::span<std::byte> out, const KeepaliveAckMsg& m) noexcept;

}  // namespace dmux::wire

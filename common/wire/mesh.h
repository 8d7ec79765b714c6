// Gateway mesh wire formats (docs/protocol.md section 12): frames exchanged between gateways over
// a mutually authenticated TLS 1.3 stream. Every frame is an 8-byte header (version, type,
// hdr_len = 8, flags, u32 body_len) and a body whose length is checked exactly per type before
// any field is used. Codec only; the bodies come from an authenticated peer but are still
// untrusted (a gateway may be buggy or compromised). Parsers never throw; encoders append.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "common/net/endpoint.h"
#include "common/util/enum_count.h"
#include "common/wire/ids.h"
#include "common/wire/registration.h"

namespace dmux::wire::mesh {

inline constexpr std::size_t kFrameHeaderLen = 8;
inline constexpr std::uint32_t kMaxBodyLen = 1U << 20;
inline constexpr std::size_t kRouterLen = 216;
inline constexpr std::size_t kRouterKeyLen = 12;  // proto, port, provider, address
inline constexpr std::size_t kPeerLen = 12;
inline constexpr std::size_t kMaxRoutersPerPart = 4096;  // what a sender puts in one FULL_STATE
inline constexpr std::size_t kCertHashLen = 32;
inline constexpr std::size_t kTunnelKeyLen = 32;

// Frame types (mesh::Type, kFirstType..kLastType): common/wire/msg_types.h.

// Why a frame was rejected; counted separately. All but kUnexpectedType end the link.
enum class Status : std::uint8_t {
  kOk = 0,
  kTruncated,           // the body is shorter than its type or its count requires
  kMalformed,           // bad hdr_len, wrong exact length, invalid field value
  kUnsupportedVersion,  // version != 2
  kUnexpectedType,      // a type this gateway does not know (skipped: the length is known)
  kTooLarge,            // body_len above kMaxBodyLen
  kCount_,
};
inline constexpr std::size_t kStatusCount = util::kCount<Status>;
std::string_view to_string(Status s) noexcept;

struct Version {
  std::uint64_t incarnation = 0;
  std::uint64_t seq = 0;
};

using CertHash = std::array<std::byte, kCertHashLen>;
using TunnelKeyBytes = std::array<std::byte, kTunnelKeyLen>;

// What a router's REGISTER said, but its certificate (sent once per link in a CERTIFICATE frame
// and named here by SHA-256): enough for any gateway to check the provider's signature.
struct RegisterProof {
  GatewayId gateway_id;  // the gateway registered with: must be the record's origin
  std::uint64_t timestamp_us = 0;
  CookieBytes cookie{};
  KeyBytes session_key{};
  std::uint32_t signed_rtt_us = 0;  // the agent's own RTT measurement, under its signature
  CertHash cert_hash{};
  SignatureBytes signature{};
};

// A router record: the router's identity and what any gateway needs to forward to it.
struct Router {
  RouterId id;
  std::uint32_t router_rtt_us = 0;  // the origin's current figure; 0 = unknown
  std::uint32_t key_id = 0;         // the router's tunnel key: its name in TUNNEL headers ...
  std::uint8_t suite = 0;
  TunnelKeyBytes tunnel_key{};  // ... and the key (confidential: the link is TLS)
  RegisterProof proof;
};

// The REGISTER bytes the proof's signature covers (docs/protocol.md 9.1), rebuilt from a record
// and its certificate. Returns the length, 0 if `out` is too small or the certificate too long.
std::size_t signed_register_bytes(const Router& r, std::span<const std::byte> certificate,
                                  std::span<std::byte> out) noexcept;

struct Hello {
  GatewayId gateway_id;       // must equal the id in the sender's certificate
  net::Endpoint mesh_listen;  // where the sender accepts mesh links (addr 0 = link's source)
  Version version;            // the sender's current registration version
};

// One part of an origin's full state; a receiver replaces what it holds once it has all `parts`
// parts of one version (docs/protocol.md 12.3).
struct FullState {
  GatewayId origin;
  Version version;
  std::uint16_t part = 0;   // from 0
  std::uint16_t parts = 1;  // 1..65535; part < parts
  std::vector<Router> routers;
};

struct Update {
  GatewayId origin;
  Version version;
  bool present = true;  // false = the router is gone (only its key fields travel)
  Router router;
};

struct Probe {
  std::uint64_t seq = 0;
  std::uint64_t sent_us = 0;  // the prober's clock, echoed unchanged
};

struct Peer {
  GatewayId gateway_id;
  net::Endpoint mesh_listen;
};

// The frame header at the start of `bytes` (at least kFrameHeaderLen bytes).
Status parse_header(std::span<const std::byte> bytes, std::uint8_t& type,
                    std::uint32_t& body_len) noexcept;

Status parse_hello(std::span<const std::byte> body, Hello& out) noexcept;
Status parse_full_state(std::span<const std::byte> body, FullState& out);  // allocates
Status parse_update(std::span<const std::byte> body, Update& out) noexcept;
Status parse_probe(std::span<const std::byte> body, Probe& out) noexcept;
Status parse_peers(std::span<const std::byte> body, std::vector<Peer>& out);  // allocates
// CERTIFICATE and CRL bodies are DER, checked by the receiver's crypto (length only here).
Status parse_der_body(std::span<const std::byte> body, std::size_t max_len) noexcept;
inline constexpr std::size_t kMaxCertificateBody = kMaxCertificateLen;
inline constexpr std::size_t kMaxCrlBody = 256 * 1024;

// Each appends one whole frame to `out`.
void encode_hello(const Hello& m, std::vector<std::byte>& out);
void encode_full_state(const FullState& m, std::vector<std::byte>& out);  // <= kMaxRoutersPerPart
void encode_update(const Update& m, std::vector<std::byte>& out);
void encode_probe(Type type, const Probe& m, std::vector<std::byte>& out);  // kProbe/kProbeReply
void encode_peers(std::span<const Peer> peers, std::vector<std::byte>& out);
void encode_der(Type type, std::span<const std::byte> der, std::vector<std::byte>& out);

}  // namespace dmux::wire::mesh

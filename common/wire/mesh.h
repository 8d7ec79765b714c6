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

namespace dmux::wire::mesh {

inline constexpr std::size_t kFrameHeaderLen = 8;
inline constexpr std::uint32_t kMaxBodyLen = 1U << 20;  // 65534 routers in one FULL_STATE
inline constexpr std::size_t kRouterLen = 16;
inline constexpr std::size_t kPeerLen = 12;

enum class Type : std::uint8_t {
  kHello = 16,
  kFullState = 17,
  kUpdate = 18,
  kProbe = 19,
  kProbeReply = 20,
  kPeers = 21,
};

// Why a frame was rejected; counted separately. All but kUnexpectedType end the link.
enum class Status : std::uint8_t {
  kOk = 0,
  kTruncated,           // the body is shorter than its type or its count requires
  kMalformed,           // bad hdr_len, wrong exact length, invalid field value
  kUnsupportedVersion,  // version != 1
  kUnexpectedType,      // a type this gateway does not know (skipped: the length is known)
  kTooLarge,            // body_len above kMaxBodyLen
};
inline constexpr std::size_t kStatusCount = 6;
std::string_view to_string(Status s) noexcept;

struct Version {
  std::uint64_t incarnation = 0;
  std::uint64_t seq = 0;
};

struct Router {
  std::uint16_t proto_id = 0;
  std::uint32_t provider_id = 0;
  net::Endpoint address;
  std::uint32_t router_rtt_us = 0;  // 0 = unknown
};

struct Hello {
  std::uint32_t gateway_id = 0;  // must equal the id in the sender's certificate
  net::Endpoint mesh_listen;     // where the sender accepts mesh links (addr 0 = link's source)
  Version version;               // the sender's current registration version
};

struct FullState {
  std::uint32_t origin = 0;
  Version version;
  std::vector<Router> routers;
};

struct Update {
  std::uint32_t origin = 0;
  Version version;
  bool present = true;  // false = the router is gone
  Router router;
};

struct Probe {
  std::uint64_t seq = 0;
  std::uint64_t sent_us = 0;  // the prober's clock, echoed unchanged
};

struct Peer {
  std::uint32_t gateway_id = 0;
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

// Each appends one whole frame to `out`.
void encode_hello(const Hello& m, std::vector<std::byte>& out);
void encode_full_state(const FullState& m, std::vector<std::byte>& out);
void encode_update(const Update& m, std::vector<std::byte>& out);
void encode_probe(Type type, const Probe& m, std::vector<std::byte>& out);  // kProbe/kProbeReply
void encode_peers(std::span<const Peer> peers, std::vector<std::byte>& out);

}  // namespace dmux::wire::mesh

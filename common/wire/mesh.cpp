#include "common/wire/mesh.h"

#include <algorithm>

#include "common/wire/byte_reader.h"
#include "common/wire/byte_writer.h"
#include "common/wire/protocols.h"
#include "common/wire/shim.h"

namespace dmux::wire::mesh {
namespace {

constexpr std::size_t kHelloLen = 28;
constexpr std::size_t kFullStateFixedLen = 28;
constexpr std::size_t kUpdateFixedLen = 24;
constexpr std::size_t kProbeLen = 16;
constexpr std::size_t kPeersFixedLen = 4;

bool read_version(ByteReader& r, Version& v) noexcept {
  return r.read_u64(v.incarnation) && r.read_u64(v.seq);
}

bool read_endpoint(ByteReader& r, net::Endpoint& ep) noexcept {
  std::uint16_t reserved = 0;
  return r.read_u32(ep.addr) && r.read_u16(ep.port) && r.read_u16(reserved);
}

template <std::size_t N>
bool read_array(ByteReader& r, std::array<std::byte, N>& out) noexcept {
  std::span<const std::byte> s;
  if (!r.read_bytes(N, s)) return false;
  std::copy(s.begin(), s.end(), out.begin());
  return true;
}

// A router's key fields; false = truncated. `valid` is cleared for values no router can have.
bool read_router_key(ByteReader& r, Router& out, bool& valid) noexcept {
  RouterId& id = out.id;
  net::Endpoint& a = id.address;
  if (!(r.read_id(id.proto) && r.read_u16(a.port) && r.read_id(id.provider) &&
        r.read_u32(a.addr))) {
    return false;
  }
  valid = valid && protocol_id_usable(id.proto) && id.provider != ProviderId{0} && a.addr != 0 &&
          a.port != 0;
  return true;
}

// A whole router record (docs/protocol.md 12.2).
bool read_router(ByteReader& r, Router& out, bool& valid) noexcept {
  std::uint8_t reserved8 = 0;
  std::uint16_t reserved16 = 0;
  RegisterProof& p = out.proof;
  if (!(read_router_key(r, out, valid) && r.read_u32(out.router_rtt_us) && r.read_u32(out.key_id) &&
        r.read_u8(out.suite) && r.read_u8(reserved8) && r.read_u16(reserved16) &&
        read_array(r, out.tunnel_key) && r.read_id(p.gateway_id) && r.read_u64(p.timestamp_us) &&
        read_array(r, p.cookie) && read_array(r, p.session_key) && r.read_u32(p.signed_rtt_us) &&
        read_array(r, p.cert_hash) && read_array(r, p.signature))) {
    return false;
  }
  valid = valid && out.key_id != 0 && out.suite == kSuiteAes256Gmac && p.gateway_id != GatewayId{0};
  return true;
}

// Appends a frame header and returns a writer over the body, sized exactly.
ByteWriter start_frame(Type type, std::size_t body_len, std::vector<std::byte>& out) {
  const std::size_t at = out.size();
  out.resize(at + kFrameHeaderLen + body_len);
  ByteWriter w{std::span<std::byte>(out).subspan(at)};
  w.u8(kVersion);
  w.u8(static_cast<std::uint8_t>(type));
  w.u8(kFrameHeaderLen);
  w.u8(0);
  w.u32(static_cast<std::uint32_t>(body_len));
  return w;
}

void write_version(ByteWriter& w, const Version& v) noexcept {
  w.u64(v.incarnation);
  w.u64(v.seq);
}

void write_endpoint(ByteWriter& w, const net::Endpoint& ep) noexcept {
  w.u32(ep.addr);
  w.u16(ep.port);
  w.u16(0);
}

void write_router_key(ByteWriter& w, const Router& r) noexcept {
  w.id(r.id.proto);
  w.u16(r.id.address.port);
  w.id(r.id.provider);
  w.u32(r.id.address.addr);
}

void write_router(ByteWriter& w, const Router& r) noexcept {
  write_router_key(w, r);
  w.u32(r.router_rtt_us);
  w.u32(r.key_id);
  w.u8(r.suite);
  w.zeros(3);
  w.bytes(r.tunnel_key);
  const RegisterProof& p = r.proof;
  w.id(p.gateway_id);
  w.u64(p.timestamp_us);
  w.bytes(p.cookie);
  w.bytes(p.session_key);
  w.u32(p.signed_rtt_us);
  w.bytes(p.cert_hash);
  w.bytes(p.signature);
}

}  // namespace

std::string_view to_string(Status s) noexcept {
  switch (s) {
    case Status::kOk:
      return "ok";
    case Status::kTruncated:
      return "truncated";
    case Status::kMalformed:
      return "malformed";
    case Status::kUnsupportedVersion:
      return "unsupported_version";
    case Status::kUnexpectedType:
      return "unexpected_type";
    case Status::kTooLarge:
      return "too_large";
    case Status::kCount_:
      break;
  }
  return "unknown";
}

Status parse_header(std::span<const std::byte> bytes, std::uint8_t& type,
                    std::uint32_t& body_len) noexcept {
  ByteReader r(bytes);
  std::uint8_t version = 0, hdr_len = 0, flags = 0;
  if (!r.read_u8(version)) return Status::kTruncated;
  if (version != kVersion) return Status::kUnsupportedVersion;
  if (!(r.read_u8(type) && r.read_u8(hdr_len) && r.read_u8(flags) && r.read_u32(body_len))) {
    return Status::kTruncated;
  }
  if (hdr_len != kFrameHeaderLen) return Status::kMalformed;
  if (body_len > kMaxBodyLen) return Status::kTooLarge;
  if (type < code(kFirstType) || type > code(kLastType)) return Status::kUnexpectedType;
  return Status::kOk;
}

Status parse_hello(std::span<const std::byte> body, Hello& out) noexcept {
  if (body.size() < kHelloLen) return Status::kTruncated;
  if (body.size() != kHelloLen) return Status::kMalformed;
  ByteReader r(body);
  if (!(r.read_id(out.gateway_id) && read_endpoint(r, out.mesh_listen) &&
        read_version(r, out.version))) {
    return Status::kTruncated;
  }
  return out.gateway_id != GatewayId{0} ? Status::kOk : Status::kMalformed;
}

std::size_t signed_register_bytes(const Router& rt, std::span<const std::byte> certificate,
                                  std::span<std::byte> out) noexcept {
  RegisterMsg m;
  m.proto_id = rt.id.proto;
  m.router_port = rt.id.address.port;
  m.provider_id = rt.id.provider;
  m.router_ipv4 = rt.id.address.addr;
  m.gateway_id = rt.proof.gateway_id;
  m.timestamp_us = rt.proof.timestamp_us;
  m.cookie = rt.proof.cookie;
  m.session_key = rt.proof.session_key;
  m.rtt_us = rt.proof.signed_rtt_us;
  m.certificate = certificate;
  return write_register_unsigned(out, m);
}

Status parse_full_state(std::span<const std::byte> body, FullState& out) {
  ByteReader r(body);
  std::uint32_t count = 0;
  if (!(r.read_id(out.origin) && read_version(r, out.version) && r.read_u16(out.part) &&
        r.read_u16(out.parts) && r.read_u32(count))) {
    return Status::kTruncated;
  }
  if (out.parts == 0 || out.part >= out.parts) return Status::kMalformed;
  // The declared count is capped by the bytes present before anything is allocated.
  if (r.remaining() < std::size_t{count} * kRouterLen) return Status::kTruncated;
  if (r.remaining() != std::size_t{count} * kRouterLen) return Status::kMalformed;
  out.routers.clear();
  out.routers.reserve(count);
  bool valid = out.origin != GatewayId{0};
  for (std::uint32_t i = 0; i < count; ++i) {
    Router router;
    if (!read_router(r, router, valid)) return Status::kTruncated;
    out.routers.push_back(router);
  }
  return valid ? Status::kOk : Status::kMalformed;
}

Status parse_update(std::span<const std::byte> body, Update& out) noexcept {
  ByteReader r(body);
  std::uint8_t op = 0;
  if (!(r.read_id(out.origin) && read_version(r, out.version) && r.read_u8(op) && r.skip(3))) {
    return Status::kTruncated;
  }
  if (op != 1 && op != 2) return Status::kMalformed;
  out.present = op == 1;
  const std::size_t want = kUpdateFixedLen + (out.present ? kRouterLen : kRouterKeyLen);
  if (body.size() < want) return Status::kTruncated;
  if (body.size() != want) return Status::kMalformed;
  bool valid = out.origin != GatewayId{0};
  out.router = Router{};
  const bool read =
      out.present ? read_router(r, out.router, valid) : read_router_key(r, out.router, valid);
  if (!read) return Status::kTruncated;
  return valid ? Status::kOk : Status::kMalformed;
}

Status parse_probe(std::span<const std::byte> body, Probe& out) noexcept {
  if (body.size() < kProbeLen) return Status::kTruncated;
  if (body.size() != kProbeLen) return Status::kMalformed;
  ByteReader r(body);
  return r.read_u64(out.seq) && r.read_u64(out.sent_us) ? Status::kOk : Status::kTruncated;
}

Status parse_peers(std::span<const std::byte> body, std::vector<Peer>& out) {
  ByteReader r(body);
  std::uint32_t count = 0;
  if (!r.read_u32(count)) return Status::kTruncated;
  if (r.remaining() < std::size_t{count} * kPeerLen) return Status::kTruncated;
  if (r.remaining() != std::size_t{count} * kPeerLen) return Status::kMalformed;
  out.clear();
  out.reserve(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    Peer p;
    if (!(r.read_id(p.gateway_id) && read_endpoint(r, p.mesh_listen))) return Status::kTruncated;
    if (p.gateway_id == GatewayId{0} || p.mesh_listen.port == 0) return Status::kMalformed;
    out.push_back(p);
  }
  return Status::kOk;
}

void encode_hello(const Hello& m, std::vector<std::byte>& out) {
  ByteWriter w = start_frame(Type::kHello, kHelloLen, out);
  w.id(m.gateway_id);
  write_endpoint(w, m.mesh_listen);
  write_version(w, m.version);
}

Status parse_der_body(std::span<const std::byte> body, std::size_t max_len) noexcept {
  if (body.empty()) return Status::kTruncated;
  return body.size() <= max_len ? Status::kOk : Status::kMalformed;
}

void encode_full_state(const FullState& m, std::vector<std::byte>& out) {
  ByteWriter w =
      start_frame(Type::kFullState, kFullStateFixedLen + m.routers.size() * kRouterLen, out);
  w.id(m.origin);
  write_version(w, m.version);
  w.u16(m.part);
  w.u16(m.parts);
  w.u32(static_cast<std::uint32_t>(m.routers.size()));
  for (const auto& r : m.routers) write_router(w, r);
}

void encode_update(const Update& m, std::vector<std::byte>& out) {
  ByteWriter w =
      start_frame(Type::kUpdate, kUpdateFixedLen + (m.present ? kRouterLen : kRouterKeyLen), out);
  w.id(m.origin);
  write_version(w, m.version);
  w.u8(m.present ? 1 : 2);
  w.zeros(3);
  if (m.present) {
    write_router(w, m.router);
  } else {
    write_router_key(w, m.router);
  }
}

void encode_der(Type type, std::span<const std::byte> der, std::vector<std::byte>& out) {
  ByteWriter w = start_frame(type, der.size(), out);
  w.bytes(der);
}

void encode_probe(Type type, const Probe& m, std::vector<std::byte>& out) {
  ByteWriter w = start_frame(type, kProbeLen, out);
  w.u64(m.seq);
  w.u64(m.sent_us);
}

void encode_peers(std::span<const Peer> peers, std::vector<std::byte>& out) {
  ByteWriter w = start_frame(Type::kPeers, kPeersFixedLen + peers.size() * kPeerLen, out);
  w.u32(static_cast<std::uint32_t>(peers.size()));
  for (const auto& p : peers) {
    w.id(p.gateway_id);
    write_endpoint(w, p.mesh_listen);
  }
}

}  // namespace dmux::wire::mesh

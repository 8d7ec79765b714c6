#include "common/wire/registration.h"

#include <algorithm>

#include "common/wire/byte_reader.h"
#include "common/wire/byte_writer.h"
#include "common/wire/protocols.h"

namespace dmux::wire {
namespace {

constexpr std::uint8_t kControlHdrLen = 4;

// Common header of a control message: version 2, the given type(s), hdr_len 4.
ParseStatus read_control_header(ByteReader& r, MsgType& type) noexcept {
  std::uint8_t version = 0, hdr_len = 0, flags = 0;
  if (!r.read_u8(version)) return ParseStatus::kTruncated;
  if (version != kVersion) return ParseStatus::kUnsupportedVersion;
  std::uint8_t code = 0;
  if (!r.read_u8(code) || !r.read_u8(hdr_len) || !r.read_u8(flags)) return ParseStatus::kTruncated;
  type = static_cast<MsgType>(code);
  if (hdr_len != kControlHdrLen) return ParseStatus::kMalformed;
  return ParseStatus::kOk;
}

// Checks the type, then the exact length (WireGuard's validate_header_len).
ParseStatus expect(std::span<const std::byte> d, ByteReader& r, MsgType want_type,
                   std::size_t exact_len) noexcept {
  MsgType type{};
  if (auto s = read_control_header(r, type); s != ParseStatus::kOk) return s;
  if (type != want_type) return ParseStatus::kUnexpectedType;
  if (d.size() < exact_len) return ParseStatus::kTruncated;
  if (d.size() > exact_len) return ParseStatus::kMalformed;
  return ParseStatus::kOk;
}

template <std::size_t N>
bool read_array(ByteReader& r, std::array<std::byte, N>& out) noexcept {
  std::span<const std::byte> s;
  if (!r.read_bytes(N, s)) return false;
  std::copy(s.begin(), s.end(), out.begin());
  return true;
}

void write_control_header(ByteWriter& w, MsgType type) noexcept {
  w.u8(kVersion);
  w.u8(code(type));
  w.u8(kControlHdrLen);
  w.u8(0);
}

}  // namespace

ParseStatus parse_cookie_request(std::span<const std::byte> d, CookieRequestMsg& out) noexcept {
  ByteReader r(d);
  if (auto s = expect(d, r, MsgType::kCookieRequest, kCookieRequestLen); s != ParseStatus::kOk)
    return s;
  CookieRequestMsg m;
  if (!r.read_u64(m.nonce)) return ParseStatus::kTruncated;  // the rest is padding
  out = m;
  return ParseStatus::kOk;
}

ParseStatus parse_cookie(std::span<const std::byte> d, CookieMsg& out) noexcept {
  ByteReader r(d);
  if (auto s = expect(d, r, MsgType::kCookie, kCookieReplyLen); s != ParseStatus::kOk) return s;
  CookieMsg m;
  std::uint32_t reserved = 0;
  if (!r.read_id(m.gateway_id) || !r.read_u32(reserved) || !r.read_u64(m.nonce) ||
      !read_array(r, m.cookie) || !r.read_u32(m.valid_ms)) {
    return ParseStatus::kTruncated;
  }
  if (m.gateway_id == GatewayId{0}) return ParseStatus::kMalformed;
  out = m;
  return ParseStatus::kOk;
}

ParseStatus parse_register(std::span<const std::byte> d, RegisterMsg& out) noexcept {
  ByteReader r(d);
  MsgType type{};
  if (auto s = read_control_header(r, type); s != ParseStatus::kOk) return s;
  if (type != MsgType::kRegister) return ParseStatus::kUnexpectedType;
  RegisterMsg m;
  std::uint16_t cert_len = 0, sig_len = 0;
  if (!r.read_id(m.proto_id) || !r.read_u16(m.router_port) || !r.read_id(m.provider_id) ||
      !r.read_u32(m.router_ipv4) || !r.read_id(m.gateway_id) || !r.read_u64(m.timestamp_us) ||
      !read_array(r, m.cookie) || !read_array(r, m.session_key) || !r.read_u32(m.rtt_us) ||
      !r.read_u16(cert_len)) {
    return ParseStatus::kTruncated;
  }
  if (cert_len == 0 || cert_len > kMaxCertificateLen) return ParseStatus::kMalformed;
  // The declared length is capped by the bytes actually present.
  if (!r.read_bytes(cert_len, m.certificate)) return ParseStatus::kTruncated;
  const std::size_t signed_len = r.position();
  if (!r.read_u16(sig_len)) return ParseStatus::kTruncated;
  if (sig_len != kSignatureLen) return ParseStatus::kMalformed;
  if (!read_array(r, m.signature)) return ParseStatus::kTruncated;
  if (r.remaining() != 0) return ParseStatus::kMalformed;
  if (!protocol_id_usable(m.proto_id) || m.provider_id == ProviderId{0} || m.router_port == 0 ||
      m.router_ipv4 == 0 || m.gateway_id == GatewayId{0}) {
    return ParseStatus::kMalformed;
  }
  m.signed_bytes = d.first(signed_len);
  out = m;
  return ParseStatus::kOk;
}

ParseStatus parse_register_ack(std::span<const std::byte> d, RegisterAckMsg& out) noexcept {
  ByteReader r(d);
  if (auto s = expect(d, r, MsgType::kRegisterAck, kRegisterAckLen); s != ParseStatus::kOk)
    return s;
  RegisterAckMsg m;
  std::uint8_t result = 0, reserved8 = 0;
  std::uint16_t reserved16 = 0;
  if (!r.read_u8(result) || !r.read_u8(reserved8) || !r.read_u16(reserved16) ||
      !r.read_id(m.gateway_id) || !r.read_u64(m.session_id) || !r.read_u64(m.timestamp_us) ||
      !r.read_u32(m.keepalive_interval_ms) || !r.read_u32(m.hold_time_ms) ||
      !read_array(r, m.session_key) || !r.read_u32(m.key_id) || !r.read_u8(m.suite) ||
      !r.read_u8(reserved8) || !r.read_u16(reserved16) || !read_array(r, m.mac)) {
    return ParseStatus::kTruncated;
  }
  if (result > static_cast<std::uint8_t>(RegisterResult::kSuppressed))
    return ParseStatus::kMalformed;
  m.result = static_cast<RegisterResult>(result);
  out = m;
  return ParseStatus::kOk;
}

ParseStatus parse_keepalive(std::span<const std::byte> d, MsgType& type,
                            KeepaliveMsg& out) noexcept {
  ByteReader r(d);
  if (auto s = read_control_header(r, type); s != ParseStatus::kOk) return s;
  if (type != MsgType::kKeepalive && type != MsgType::kDeregister)
    return ParseStatus::kUnexpectedType;
  if (d.size() < kKeepaliveLen) return ParseStatus::kTruncated;
  if (d.size() > kKeepaliveLen) return ParseStatus::kMalformed;
  KeepaliveMsg m;
  std::uint32_t reserved = 0;
  if (!r.read_u64(m.session_id) || !r.read_u64(m.counter) || !r.read_u32(m.rtt_us) ||
      !r.read_u32(reserved) || !read_array(r, m.mac)) {
    return ParseStatus::kTruncated;
  }
  out = m;
  return ParseStatus::kOk;
}

ParseStatus parse_keepalive_ack(std::span<const std::byte> d, KeepaliveAckMsg& out) noexcept {
  ByteReader r(d);
  if (auto s = expect(d, r, MsgType::kKeepaliveAck, kKeepaliveAckLen); s != ParseStatus::kOk)
    return s;
  KeepaliveAckMsg m;
  std::uint8_t result = 0, reserved8 = 0;
  std::uint16_t reserved16 = 0;
  if (!r.read_u8(result) || !r.read_u8(reserved8) || !r.read_u16(reserved16) ||
      !r.read_id(m.gateway_id) || !r.read_u64(m.session_id) || !r.read_u64(m.counter) ||
      !read_array(r, m.mac)) {
    return ParseStatus::kTruncated;
  }
  if (result > static_cast<std::uint8_t>(KeepaliveResult::kDeregistered))
    return ParseStatus::kMalformed;
  m.result = static_cast<KeepaliveResult>(result);
  out = m;
  return ParseStatus::kOk;
}

std::size_t write_cookie_request(std::span<std::byte> out, const CookieRequestMsg& m) noexcept {
  ByteWriter w(out);
  write_control_header(w, MsgType::kCookieRequest);
  w.u64(m.nonce);
  w.zeros(kCookieRequestLen - 12);
  return w.ok() ? w.size() : 0;
}

std::size_t write_cookie(std::span<std::byte> out, const CookieMsg& m) noexcept {
  ByteWriter w(out);
  write_control_header(w, MsgType::kCookie);
  w.id(m.gateway_id);
  w.u32(0);
  w.u64(m.nonce);
  w.bytes(m.cookie);
  w.u32(m.valid_ms);
  return w.ok() ? w.size() : 0;
}

std::size_t write_register_unsigned(std::span<std::byte> out, const RegisterMsg& m) noexcept {
  if (m.certificate.empty() || m.certificate.size() > kMaxCertificateLen) return 0;
  ByteWriter w(out);
  write_control_header(w, MsgType::kRegister);
  w.id(m.proto_id);
  w.u16(m.router_port);
  w.id(m.provider_id);
  w.u32(m.router_ipv4);
  w.id(m.gateway_id);
  w.u64(m.timestamp_us);
  w.bytes(m.cookie);
  w.bytes(m.session_key);
  w.u32(m.rtt_us);
  w.u16(static_cast<std::uint16_t>(m.certificate.size()));
  w.bytes(m.certificate);
  return w.ok() ? w.size() : 0;
}

std::size_t append_register_signature(std::span<std::byte> out, std::size_t unsigned_len,
                                      const SignatureBytes& signature) noexcept {
  if (unsigned_len > out.size()) return 0;
  ByteWriter w(out.subspan(unsigned_len));
  w.u16(static_cast<std::uint16_t>(kSignatureLen));
  w.bytes(signature);
  return w.ok() ? unsigned_len + w.size() : 0;
}

std::size_t write_register_ack(std::span<std::byte> out, const RegisterAckMsg& m) noexcept {
  ByteWriter w(out);
  write_control_header(w, MsgType::kRegisterAck);
  w.u8(static_cast<std::uint8_t>(m.result));
  w.u8(0);
  w.u16(0);
  w.id(m.gateway_id);
  w.u64(m.session_id);
  w.u64(m.timestamp_us);
  w.u32(m.keepalive_interval_ms);
  w.u32(m.hold_time_ms);
  w.bytes(m.session_key);
  w.u32(m.key_id);
  w.u8(m.suite);
  w.u8(0);
  w.u16(0);
  w.bytes(m.mac);
  return w.ok() ? w.size() : 0;
}

std::size_t write_keepalive(std::span<std::byte> out, MsgType type,
                            const KeepaliveMsg& m) noexcept {
  ByteWriter w(out);
  write_control_header(w, type);
  w.u64(m.session_id);
  w.u64(m.counter);
  w.u32(m.rtt_us);
  w.u32(0);
  w.bytes(m.mac);
  return w.ok() ? w.size() : 0;
}

std::size_t write_keepalive_ack(std::span<std::byte> out, const KeepaliveAckMsg& m) noexcept {
  ByteWriter w(out);
  write_control_header(w, MsgType::kKeepaliveAck);
  w.u8(static_cast<std::uint8_t>(m.result));
  w.u8(0);
  w.u16(0);
  w.id(m.gateway_id);
  w.u64(m.session_id);
  w.u64(m.counter);
  w.bytes(m.mac);
  return w.ok() ? w.size() : 0;
}

}  // namespace dmux::wire

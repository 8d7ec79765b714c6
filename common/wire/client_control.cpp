#include "common/wire/client_control.h"

#include "common/wire/byte_reader.h"
#include "common/wire/byte_writer.h"

namespace dmux::wire {
namespace {

ParseStatus check(std::span<const std::byte> payload, ControlType want, std::size_t len) noexcept {
  ControlType t{};
  if (auto s = peek_control_type(payload, t); s != ParseStatus::kOk) return s;
  if (t != want) return ParseStatus::kMalformed;
  if (payload.size() < len) return ParseStatus::kTruncated;
  if (payload.size() > len) return ParseStatus::kMalformed;
  return ParseStatus::kOk;
}

}  // namespace

ParseStatus peek_control_type(std::span<const std::byte> payload, ControlType& out) noexcept {
  ByteReader r(payload);
  std::uint8_t t = 0;
  if (!r.read_u8(t)) return ParseStatus::kTruncated;
  out = static_cast<ControlType>(t);
  return ParseStatus::kOk;
}

ParseStatus parse_token_request(std::span<const std::byte> payload) noexcept {
  return check(payload, ControlType::kTokenRequest, kTokenRequestLen);
}

ParseStatus parse_token_offer(std::span<const std::byte> payload, TokenOffer& out) noexcept {
  if (auto s = check(payload, ControlType::kTokenOffer, kTokenOfferLen); s != ParseStatus::kOk) {
    return s;
  }
  ByteReader r(payload);
  TokenOffer o;
  std::uint16_t reserved16 = 0;
  if (!r.skip(4) || !r.read_u64(o.return_token) || !r.read_u32(o.client_ipv4) ||
      !r.read_u16(o.client_port) || !r.read_u16(reserved16) || !r.read_u32(o.refresh_s)) {
    return ParseStatus::kTruncated;  // unreachable after check()
  }
  out = o;
  return ParseStatus::kOk;
}

std::size_t write_token_request(std::span<std::byte> out) noexcept {
  ByteWriter w(out);
  w.u8(static_cast<std::uint8_t>(ControlType::kTokenRequest));
  w.zeros(kTokenRequestLen - 1);
  return w.ok() ? w.size() : 0;
}

std::size_t write_token_offer(std::span<std::byte> out, const TokenOffer& o) noexcept {
  ByteWriter w(out);
  w.u8(static_cast<std::uint8_t>(ControlType::kTokenOffer));
  w.zeros(3);
  w.u64(o.return_token);
  w.u32(o.client_ipv4);
  w.u16(o.client_port);
  w.u16(0);
  w.u32(o.refresh_s);
  w.zeros(8);
  return w.ok() ? w.size() : 0;
}

}  // namespace dmux::wire

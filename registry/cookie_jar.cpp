#include "registry/cookie_jar.h"

#include "common/crypto/crypto.h"
#include "common/crypto/data_path_mac.h"
#include "common/wire/byte_writer.h"

namespace dmux::registry {

CookieJar::CookieJar(std::chrono::milliseconds valid, TimePoint now)
    : valid_(valid), rotated_at_(now) {
  crypto::random_bytes(current_);
  crypto::random_bytes(previous_);  // accepts nothing anyone was given
}

void CookieJar::rotate_if_due(TimePoint now) {
  if (now - rotated_at_ < valid_) return;
  if (now - rotated_at_ >= 2 * valid_) {
    crypto::random_bytes(previous_);  // idle for two periods: every cookie given out is too old
  } else {
    previous_ = current_;
  }
  crypto::random_bytes(current_);
  rotated_at_ = now;
}

wire::CookieBytes CookieJar::compute(const Secret& secret, const net::Endpoint& source) noexcept {
  std::array<std::byte, 6> message{};
  wire::ByteWriter w(message);
  w.u32(source.addr);
  w.u16(source.port);
  return crypto::keyed_hash128(secret, message);
}

wire::CookieBytes CookieJar::make(const net::Endpoint& source, TimePoint now) {
  rotate_if_due(now);
  return compute(current_, source);
}

bool CookieJar::check(const net::Endpoint& source, const wire::CookieBytes& cookie, TimePoint now) {
  rotate_if_due(now);
  // Both compared, so the time taken does not say which secret matched.
  const bool current = crypto::equal_constant_time(compute(current_, source), cookie);
  const bool previous = crypto::equal_constant_time(compute(previous_, source), cookie);
  return current || previous;
}

}  // namespace dmux::registry

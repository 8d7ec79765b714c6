#include "common/crypto/session_key.h"

#include <algorithm>
#include <array>
#include <string_view>

#include "common/wire/byte_writer.h"

namespace dmux::crypto {
namespace {

constexpr std::string_view kSessionLabel = "ipdmux-v2-session";
constexpr std::string_view kTunnelLabel = "ipdmux-v2-tunnel";

// HMAC-SHA256(S, label || session_id || timestamp_us).
Digest derive(std::string_view label, const Digest& shared_secret, std::uint64_t session_id,
              std::uint64_t timestamp_us) noexcept {
  std::array<std::byte, kSessionLabel.size() + 16> info{};
  wire::ByteWriter w(info);
  w.bytes(std::as_bytes(std::span(label.data(), label.size())));
  w.u64(session_id);
  w.u64(timestamp_us);
  return hmac_sha256(shared_secret, w.written());
}

}  // namespace

Digest derive_session_key(const Digest& shared_secret, std::uint64_t session_id,
                          std::uint64_t timestamp_us) noexcept {
  return derive(kSessionLabel, shared_secret, session_id, timestamp_us);
}

TunnelKeyBytes derive_tunnel_key(const Digest& shared_secret, std::uint64_t session_id,
                                 std::uint64_t timestamp_us) noexcept {
  static_assert(std::tuple_size_v<TunnelKeyBytes> == std::tuple_size_v<Digest>);
  const Digest d = derive(kTunnelLabel, shared_secret, session_id, timestamp_us);
  TunnelKeyBytes k{};
  std::copy(d.begin(), d.end(), k.begin());
  return k;
}

SessionMac session_mac(const Digest& key, std::span<const std::byte> covered) noexcept {
  const Digest full = hmac_sha256(key, covered);
  SessionMac mac{};
  std::copy_n(full.begin(), mac.size(), mac.begin());
  return mac;
}

bool session_mac_ok(const Digest& key, std::span<const std::byte> covered,
                    const SessionMac& mac) noexcept {
  const SessionMac want = session_mac(key, covered);
  return equal_constant_time(want, mac);
}

}  // namespace dmux::crypto

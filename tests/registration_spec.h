// docs/protocol.md section 9 written out once more for tests and benchmarks, apart from the code
// they check: the session keys K and K_t (9.3), the truncated HMAC of control messages, and a
// signed REGISTER (9.2). Test and benchmark code only.
#pragma once

#include <algorithm>
#include <string_view>
#include <vector>

#include "common/crypto/crypto.h"
#include "common/wire/byte_writer.h"
#include "common/wire/registration.h"

namespace dmux::testing {

// HMAC-SHA256(S, label || session_id || timestamp_us): label "ipdmux-v2-session" gives K,
// "ipdmux-v2-tunnel" gives K_t.
inline crypto::Digest spec_key(std::string_view label, const crypto::Digest& shared,
                               std::uint64_t session_id, std::uint64_t timestamp_us) {
  std::vector<std::byte> info(label.size() + 16);
  wire::ByteWriter w(info);
  w.bytes(std::as_bytes(std::span(label.data(), label.size())));
  w.u64(session_id);
  w.u64(timestamp_us);
  return crypto::hmac_sha256(shared, info);
}

// HMAC-SHA256(K, covered)[0:16].
inline wire::MacBytes mac16(const crypto::Digest& k, std::span<const std::byte> covered) {
  const auto full = crypto::hmac_sha256(k, covered);
  wire::MacBytes m{};
  std::copy_n(full.begin(), m.size(), m.begin());
  return m;
}

// The REGISTER `m` says (m.certificate set, signature ignored), signed with `key`.
inline std::vector<std::byte> signed_register(const wire::RegisterMsg& m,
                                              const crypto::SigningKey& key) {
  std::vector<std::byte> out(wire::kRegisterFixedLen + wire::kMaxCertificateLen + 2 +
                             wire::kSignatureLen);
  const auto n = wire::write_register_unsigned(out, m);
  const auto sig = key.sign(std::span(out).first(n));
  wire::SignatureBytes s;
  std::copy(sig.begin(), sig.end(), s.begin());
  out.resize(wire::append_register_signature(out, n, s));
  return out;
}

}  // namespace dmux::testing

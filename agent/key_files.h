// The secret files of a router agent, read once at start (control plane: these allocate and
// throw std::runtime_error with a message naming the file; the program turns it into a
// ConfigError against its own option).
//
//  - --return-key FILE: a provider-wide secret, at least 16 bytes; its exact contents are the seed
//    of K_r (docs/protocol.md 6.2), so every router given the same file derives the same K_r.
//  - --static-tunnel-key FILE: the 32-byte tunnel key of a static router (key_id 0, 5.4) as 64
//    hex digits, whitespace ignored: the same file, read by the same code
//    (common/util/hex_key_file.h), as dmuxd's --static-router key.
#pragma once

#include <string>

#include "common/crypto/data_path_mac.h"

namespace dmux::agent {

inline constexpr std::size_t kMinReturnKeySeed = 16;

crypto::ReturnKey load_return_key_file(const std::string& path);
crypto::TunnelKeyBytes load_tunnel_key_file(const std::string& path);

}  // namespace dmux::agent

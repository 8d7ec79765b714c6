#include "agent/key_files.h"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <vector>

#include "common/util/hex_key_file.h"

namespace dmux::agent {
namespace {

std::vector<char> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw std::runtime_error("cannot read " + path);
  return bytes;
}

}  // namespace

crypto::ReturnKey load_return_key_file(const std::string& path) {
  std::vector<char> seed = read_file(path);
  if (seed.size() < kMinReturnKeySeed) {
    throw std::runtime_error(path +
                             " holds fewer than 16 bytes (make one with 'openssl rand -hex "
                             "32'; every router of the provider needs the same file)");
  }
  const crypto::ReturnKey key = crypto::derive_return_key(std::as_bytes(std::span(seed)));
  std::fill(seed.begin(), seed.end(), '\0');
  return key;
}

crypto::TunnelKeyBytes load_tunnel_key_file(const std::string& path) {
  crypto::TunnelKeyBytes key{};
  if (const std::string err = util::read_hex_key_file(path, key); !err.empty()) {
    throw std::runtime_error(err + " (the file dmuxd's --static-router names for this router)");
  }
  return key;
}

}  // namespace dmux::agent

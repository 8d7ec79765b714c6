#include "multicast/credentials.h"

#include <fstream>
#include <iterator>
#include <string>

#include "common/wire/protocols.h"
#include "multicast/option_names.h"

namespace dmux::multicast {

agent::Credentials load_credentials(const McastConfig& config, std::time_t now) {
  // The protocol is ours, not the operator's: a certificate without it is the one at fault.
  return agent::load_credentials({.cert_file = config.cert_file,
                                  .key_file = config.key_file,
                                  .protocols = {wire::kProtoIpv4Multicast},
                                  .agent = config.agent,
                                  .protocol_option = opt::kCert},
                                 now);
}

PeerKey load_peer_key(const McastConfig& config) {
  if (config.peer_key_file.empty()) {
    PeerKey random{};
    crypto::random_bytes(random);  // no peers: nobody needs to know it
    return random;
  }
  std::ifstream in(config.peer_key_file, std::ios::binary);
  if (!in) throw ConfigError(opt::kPeerKey, "cannot read " + config.peer_key_file);
  std::string secret((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r' ||
                             secret.back() == ' ' || secret.back() == '\t')) {
    secret.pop_back();
  }
  if (secret.size() < 16) {
    throw ConfigError(opt::kPeerKey, config.peer_key_file +
                                         " holds fewer than 16 bytes (make one with 'openssl rand "
                                         "-hex 32')");
  }
  return derive_peer_key(std::as_bytes(std::span(secret.data(), secret.size())));
}

}  // namespace dmux::multicast

#include "provider/credentials.h"

#include "provider/option_names.h"

namespace dmux::provider {

Credentials load_credentials(const ProviderConfig& config, std::time_t now) {
  return agent::load_credentials({.cert_file = config.cert_file,
                                  .key_file = config.key_file,
                                  .protocols = config.protocols,
                                  .agent = config.agent,
                                  .protocol_option = opt::kProtocol},
                                 now);
}

}  // namespace dmux::provider

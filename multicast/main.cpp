// dmux-mcast entry point: parse options, load credentials and the peer key, build the McastApp,
// run it.
#include <cstdio>
#include <ctime>
#include <exception>
#include <optional>
#include <string>

#include "common/util/log.h"
#include "common/util/version.h"
#include "multicast/credentials.h"
#include "multicast/mcast_app.h"
#include "multicast/options.h"

namespace {

int config_error(const dmux::ConfigError& e) {
  std::fprintf(stderr, "dmux-mcast: error: --%s: %s\n", e.option().c_str(), e.what());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace dmux::multicast;
  CommandLine cl;
  std::optional<dmux::agent::Credentials> credentials;
  PeerKey peer_key{};
  try {
    cl = parse_command_line(argc, argv);
    if (cl.help) {
      std::fputs(cl.help_text.c_str(), stdout);
      return 0;
    }
    if (cl.version) {
      std::puts(dmux::build::version_line("dmux-mcast").c_str());
      return 0;
    }
    dmux::log::set_level(cl.config.log_level);
    credentials.emplace(load_credentials(cl.config, std::time(nullptr)));
    peer_key = load_peer_key(cl.config);
  } catch (const dmux::ConfigError& e) {
    return config_error(e);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dmux-mcast: error: %s\n", e.what());
    return 2;
  }
  if (cl.check_config) {
    std::printf("config OK: provider %u (%s), ipv4-multicast, listen %s, gateway %s, %zu peer(s)\n",
                credentials->info.provider_id, credentials->info.common_name.c_str(),
                cl.config.listen.to_string().c_str(), cl.config.gateway.to_string().c_str(),
                cl.config.peers.size());
    return 0;
  }
  try {
    McastApp app(std::move(cl.config), std::move(*credentials), peer_key);
    app.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dmux-mcast: error: %s\n", e.what());
    return 1;
  }
  return 0;
}

// dmux-client entry point: parse options, build the ClientApp, run it.
#include <cstdio>
#include <exception>

#include "client/client_app.h"
#include "client/firewall.h"
#include "client/options.h"
#include "client/policy_routes.h"
#include "common/util/config_error.h"
#include "common/util/log.h"
#include "common/util/version.h"

int main(int argc, char** argv) {
  using namespace dmux::client;
  CommandLine cl;
  try {
    cl = parse_command_line(argc, argv);
  } catch (const dmux::ConfigError& e) {
    std::fprintf(stderr, "dmux-client: error: --%s: %s\n", e.option().c_str(), e.what());
    return 2;
  }
  if (cl.help) {
    std::fputs(cl.help_text.c_str(), stdout);
    return 0;
  }
  if (cl.version) {
    std::puts(dmux::build::version_line("dmux-client").c_str());
    return 0;
  }
  if (cl.cleanup) {
    std::printf("removed %d stale chain(s) named %s and %d routing rule(s) of preference %u\n",
                FirewallRules::remove(cl.config.chain), cl.config.chain.c_str(),
                PolicyRoutes::remove(cl.config.route_table), cl.config.route_table);
    return 0;
  }
  if (cl.check_config) {
    std::printf(
        "config OK: gateway %s, %zu selector(s), tun %s (mtu %d), chain %s, marks from %u, "
        "routing table %u\n",
        cl.config.gateway.to_string().c_str(), cl.config.selectors.size(),
        cl.config.tun_name.c_str(), cl.config.tun_mtu, cl.config.chain.c_str(), cl.config.fwmark,
        cl.config.route_table);
    return 0;
  }
  dmux::log::set_level(cl.config.log_level);
  try {
    ClientApp app(std::move(cl.config));
    app.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dmux-client: error: %s\n", e.what());
    return 1;
  }
  return 0;
}

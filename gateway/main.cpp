// dmuxd entry point: parse options, build the GatewayApp, run it. No logic lives here.
#include <csignal>
#include <cstdio>
#include <exception>

#include "common/util/log.h"
#include "common/util/version.h"
#include "gateway/gateway_app.h"
#include "gateway/options.h"

int main(int argc, char** argv) {
  using namespace dmux::gateway;
  CommandLine cl;
  try {
    cl = parse_command_line(argc, argv);
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "dmuxd: error: --%s: %s\n", e.option().c_str(), e.what());
    return 2;
  }
  if (cl.help) {
    std::fputs(cl.help_text.c_str(), stdout);
    return 0;
  }
  if (cl.version) {
    std::puts(dmux::build::version_line("dmuxd").c_str());
    return 0;
  }
  const GatewayConfig& c = cl.config;
  if (cl.check_config) {
    std::printf("config OK: %zu listen endpoints, gateway-id %s, %u workers, %zu static routers\n",
                c.listen.size(), dmux::net::ipv4_to_string(c.gateway_id).c_str(), c.workers,
                c.static_routers.size());
    return 0;
  }
  dmux::log::set_level(c.log_level);
  std::signal(SIGPIPE, SIG_IGN);  // a mesh peer that vanishes mid-write is an error return
  try {
    GatewayApp app(c, [argc, argv] { return reload_config(argc, argv); });
    app.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dmuxd: error: %s\n", e.what());
    return 1;
  }
  return 0;
}

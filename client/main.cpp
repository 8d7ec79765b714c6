// dmux-client entry point: the program skeleton (common/app/program.h) with dmux-client's
// options, --cleanup, summary and App.
#include <cstdio>
#include <string>

#include "client/client_app.h"
#include "client/firewall.h"
#include "client/options.h"
#include "client/policy_routes.h"
#include "common/app/program.h"

namespace {

using namespace dmux::client;

bool cleanup(const CommandLine& cl) {
  if (!cl.cleanup) return false;
  std::printf("removed %d stale chain(s) named %s and %d routing rule(s) of preference %u\n",
              FirewallRules::remove(cl.config.chain), cl.config.chain.c_str(),
              PolicyRoutes::remove(cl.config.route_table), cl.config.route_table);
  return true;
}

std::string summary(const ClientConfig& c) {
  return "config OK: gateway " + c.gateway.to_string() + ", " + std::to_string(c.selectors.size()) +
         " selector(s), tun " + c.tun_name + " (mtu " + std::to_string(c.tun_mtu) + "), chain " +
         c.chain + ", marks from " + std::to_string(c.fwmark) + ", routing table " +
         std::to_string(c.route_table);
}

}  // namespace

int main(int argc, char** argv) {
  return dmux::app::run_program<CommandLine, ClientConfig>(
      argc, argv,
      {.name = "dmux-client",
       .parse = parse_command_line,
       .own_action = cleanup,
       .load = [](CommandLine& cl) { return std::move(cl.config); },
       .summary = summary,
       .run = [](ClientConfig& c) { ClientApp(std::move(c)).run(); }});
}

// rendezvous-router entry point: the program skeleton (common/app/program.h) with the router's
// options and its App (rv_app.h: RendezvousRouter connected to the SDK's Router).
//   rendezvous-router --listen 198.18.2.2:5000 --gateway 198.18.0.1:4501 --cert p.crt --key p.key
//       [--proto 0x8001] [--peer 198.18.3.2:5000 --peer-key peer.key] [--return-key FILE]
//       [--allow 198.18.0.0/15] [--control SOCKET] [--metrics 127.0.0.1:9471]
//       [--max-lifetime-s 120] [--max-triggers 65536] [--max-per-address 64]
#include <cstdio>
#include <string>

#include "common/app/program.h"
#include "options.h"
#include "rv_app.h"

namespace {

using rendezvous::CommandLine;
using rendezvous::Config;

std::string summary(const Config& c) {
  char proto[8];
  std::snprintf(proto, sizeof proto, "0x%04x", c.router.proto_id);
  return std::string("config OK: rendezvous-router, protocol ") + proto + ", listen " +
         c.router.listen + ", " + std::to_string(c.router.gateways.size()) + " gateway(s), " +
         std::to_string(c.router.peers.size()) + " peer(s), at most " +
         std::to_string(c.limits.max_triggers) + " triggers";
}

}  // namespace

int main(int argc, char** argv) {
  return dmux::app::run_program<CommandLine, Config>(
      argc, argv,
      {.name = "rendezvous-router",
       .parse = rendezvous::parse_command_line,
       .own_action = {},
       .load = [](CommandLine& cl) { return std::move(cl.config); },
       .summary = summary,
       .run = [](Config& c) { rendezvous::RendezvousApp(c.router, c.limits).run(); }});
}

// dmux-mcast entry point: the program skeleton (common/app/program.h) with dmux-mcast's options,
// credentials and peer key, summary and App.
#include <ctime>
#include <string>

#include "common/app/program.h"
#include "multicast/credentials.h"
#include "multicast/mcast_app.h"
#include "multicast/options.h"

namespace {

using namespace dmux::multicast;

struct Loaded {
  McastConfig config;
  dmux::agent::Credentials credentials;
  PeerKey peer_key;
};

std::string summary(const Loaded& l) {
  return "config OK: provider " + std::to_string(l.credentials.info.provider_id) + " (" +
         l.credentials.info.common_name + "), ipv4-multicast, listen " +
         l.config.listen.to_string() + ", gateway " + l.config.gateway.to_string() + ", " +
         std::to_string(l.config.peers.size()) + " peer(s)";
}

}  // namespace

int main(int argc, char** argv) {
  return dmux::app::run_program<CommandLine, Loaded>(
      argc, argv,
      {.name = "dmux-mcast",
       .parse = parse_command_line,
       .own_action = {},
       .load =
           [](CommandLine& cl) {
             auto credentials = load_credentials(cl.config, std::time(nullptr));
             const PeerKey peer_key = load_peer_key(cl.config);
             return Loaded{std::move(cl.config), std::move(credentials), peer_key};
           },
       .summary = summary,
       .run =
           [](Loaded& l) {
             McastApp(std::move(l.config), std::move(l.credentials), l.peer_key).run();
           }});
}

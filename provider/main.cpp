// dmux-provider entry point: the program skeleton (common/app/program.h) with dmux-provider's
// options, credentials, summary and App.
#include <ctime>
#include <string>

#include "common/app/program.h"
#include "common/wire/protocols.h"
#include "provider/credentials.h"
#include "provider/options.h"
#include "provider/provider_app.h"

namespace {

using namespace dmux::provider;

struct Loaded {
  ProviderConfig config;
  Credentials credentials;
};

std::string summary(const Loaded& l) {
  const ProviderConfig& c = l.config;
  std::string protocols;
  for (const auto p : c.protocols)
    protocols += (protocols.empty() ? "" : ",") + dmux::wire::protocol_name(p);
  return "config OK: provider " + std::to_string(l.credentials.info.provider_id) + " (" +
         l.credentials.info.common_name + "), protocols " + protocols + ", listen " +
         c.listen.to_string() + ", gateway " + c.gateway.to_string() + ", client prefix " +
         to_string(c.client_prefix) + ", tun " + c.tun_name;
}

}  // namespace

int main(int argc, char** argv) {
  return dmux::app::run_program<CommandLine, Loaded>(
      argc, argv,
      {.name = "dmux-provider",
       .parse = parse_command_line,
       .own_action = {},
       .load =
           [](CommandLine& cl) {
             auto credentials = load_credentials(cl.config, std::time(nullptr));
             return Loaded{std::move(cl.config), std::move(credentials)};
           },
       .summary = summary,
       .run = [](Loaded& l) { ProviderApp(std::move(l.config), std::move(l.credentials)).run(); }});
}

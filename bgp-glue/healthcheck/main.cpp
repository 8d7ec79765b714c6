// dmux-healthcheck entry point: the program skeleton (common/app/program.h) with the watchdog's
// options, its key and its App (healthcheck_app.h says what it does).
#include <string>

#include "bgp-glue/healthcheck/healthcheck_app.h"
#include "bgp-glue/healthcheck/options.h"
#include "common/util/hex_key_file.h"

namespace {

using namespace dmux::bgp_glue;

struct Loaded {
  HealthcheckConfig config;
  dmux::crypto::TunnelKeyBytes key{};
};

Loaded load(CommandLine& cl) {
  Loaded l{std::move(cl.config), {}};
  if (const auto err = dmux::util::read_hex_key_file(l.config.key_file, l.key); !err.empty())
    throw dmux::ConfigError("key", err);
  return l;
}

std::string summary(const Loaded& l) {
  const HealthcheckConfig& c = l.config;
  return "config OK: probing " + c.data.to_string() + " every " +
         std::to_string(c.check.interval.count()) + " ms, back at " + c.listen.to_string() + "; " +
         std::to_string(c.check.fall) + " missed in a row take " + c.device + " down";
}

}  // namespace

int main(int argc, char** argv) {
  return dmux::app::run_program<CommandLine, Loaded>(
      argc, argv,
      {.name = "dmux-healthcheck",
       .parse = parse_healthcheck_options,
       .own_action = {},
       .load = load,
       .summary = summary,
       .run = [](Loaded& l) { HealthcheckApp(std::move(l.config), l.key).run(); }});
}

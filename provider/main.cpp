// dmux-provider entry point: parse options, load credentials, build the ProviderApp, run it.
#include <cstdio>
#include <ctime>
#include <exception>
#include <optional>
#include <string>

#include "common/util/log.h"
#include "common/util/version.h"
#include "common/wire/protocols.h"
#include "provider/credentials.h"
#include "provider/options.h"
#include "provider/provider_app.h"

namespace {

int config_error(const dmux::provider::ConfigError& e) {
  std::fprintf(stderr, "dmux-provider: error: --%s: %s\n", e.option().c_str(), e.what());
  return 2;
}

void print_summary(const dmux::provider::ProviderConfig& c, const dmux::provider::Credentials& k) {
  std::string protocols;
  for (const auto p : c.protocols)
    protocols += (protocols.empty() ? "" : ",") + dmux::wire::protocol_name(p);
  std::printf(
      "config OK: provider %u (%s), protocols %s, listen %s, gateway %s, client prefix %s, "
      "tun %s\n",
      k.info.provider_id, k.info.common_name.c_str(), protocols.c_str(),
      c.listen.to_string().c_str(), c.gateway.to_string().c_str(),
      dmux::provider::to_string(c.client_prefix).c_str(), c.tun_name.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  using namespace dmux::provider;
  CommandLine cl;
  std::optional<Credentials> credentials;
  try {
    cl = parse_command_line(argc, argv);
    if (cl.help) {
      std::fputs(cl.help_text.c_str(), stdout);
      return 0;
    }
    if (cl.version) {
      std::puts(dmux::build::version_line("dmux-provider").c_str());
      return 0;
    }
    dmux::log::set_level(cl.config.log_level);
    credentials.emplace(load_credentials(cl.config, std::time(nullptr)));
  } catch (const ConfigError& e) {
    return config_error(e);
  }
  if (cl.check_config) {
    print_summary(cl.config, *credentials);
    return 0;
  }
  try {
    ProviderApp app(std::move(cl.config), std::move(*credentials));
    app.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dmux-provider: error: %s\n", e.what());
    return 1;
  }
  return 0;
}

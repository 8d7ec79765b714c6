#include "bgp-glue/healthcheck/options.h"

#include <boost/program_options.hpp>

#include "common/app/standard_options.h"
#include "common/wire/protocols.h"

namespace dmux::bgp_glue {
namespace po = boost::program_options;
namespace {
constexpr const char* kData = "data";
constexpr const char* kListen = "listen";
constexpr const char* kKey = "key";
constexpr const char* kProto = "proto";
constexpr const char* kProvider = "provider-id";
constexpr const char* kDevice = "device";
constexpr const char* kInterval = "interval-ms";
constexpr const char* kTimeout = "timeout-ms";
constexpr const char* kFall = "fall";
constexpr const char* kRise = "rise";

po::options_description probe_options() {
  po::options_description d("Probes", app::kHelpWidth, app::kHelpIndent);
  d.add_options()(kData, po::value<std::string>()->value_name("ADDR:PORT"),
                  "dmuxd's data port to probe (required)")(
      kListen, po::value<std::string>()->value_name("ADDR:PORT"),
      "where dmuxd tunnels the probes: its --static-router for --proto (required)")(
      kKey, po::value<std::string>()->value_name("FILE"),
      "that static router's key file (hex) (required)")(
      kProto, po::value<std::string>()->value_name("NAME")->default_value("exp-0xfffe"),
      "the probes' protocol")(
      kProvider, po::value<std::uint32_t>()->value_name("N")->default_value(1),
      "the static router's provider id")(kDevice, po::value<std::string>()->value_name("NAME"),
                                         "dmuxd's --announce-device (required)")(
      kInterval, po::value<unsigned>()->value_name("MS")->default_value(100),
      "one probe every this many ms (>= 10)")(
      kTimeout, po::value<unsigned>()->value_name("MS")->default_value(100),
      "a probe back later is missed (ms)")(kFall,
                                           po::value<unsigned>()->value_name("N")->default_value(3),
                                           "missed probes in a row: withdraw (>= 1)")(
      kRise, po::value<unsigned>()->value_name("N")->default_value(2),
      "answered probes in a row: alive again (>= 1)")(
      app::opt::kLogLevel, po::value<std::string>()->value_name("LEVEL")->default_value("info"),
      "debug, info, warn or error");
  return d;
}

std::string required(const po::variables_map& vm, const char* name) {
  if (!vm.count(name)) throw ConfigError(name, "required");
  return vm[name].as<std::string>();
}

net::Endpoint endpoint(const po::variables_map& vm, const char* name) {
  const auto ep = net::parse_endpoint(required(vm, name));
  if (!ep || ep->addr == 0) throw ConfigError(name, "need IPV4:PORT");
  return *ep;
}

HealthcheckConfig to_config(const po::variables_map& vm) {
  HealthcheckConfig c;
  c.data = endpoint(vm, kData);
  c.listen = endpoint(vm, kListen);
  c.key_file = required(vm, kKey);
  const auto proto = wire::parse_protocol(vm[kProto].as<std::string>());
  if (!proto) throw ConfigError(kProto, "unknown protocol");
  c.proto_id = *proto;
  c.provider_id = vm[kProvider].as<std::uint32_t>();
  c.device = required(vm, kDevice);
  c.check.interval = std::chrono::milliseconds(vm[kInterval].as<unsigned>());
  c.check.timeout = std::chrono::milliseconds(vm[kTimeout].as<unsigned>());
  c.check.fall = vm[kFall].as<unsigned>();
  c.check.rise = vm[kRise].as<unsigned>();
  if (c.check.interval.count() < 10) throw ConfigError(kInterval, "must be >= 10");
  if (c.check.fall == 0) throw ConfigError(kFall, "must be >= 1");
  if (c.check.rise == 0) throw ConfigError(kRise, "must be >= 1");
  c.log_level = checked_log_level(vm[app::opt::kLogLevel].as<std::string>(), app::opt::kLogLevel);
  return c;
}

std::string help_text(const po::options_description& all) {
  return app::help_text(
      "dmux-healthcheck: withdraws a frozen dmuxd's announcement (bgp-glue/README.md).\n"
      "Probes dmuxd's data path through a static router pointing back here; after --fall\n"
      "probes missed in a row it takes --device down (FRR withdraws the prefix).\n\n"
      "Usage: dmux-healthcheck --data ADDR:PORT --listen ADDR:PORT --key FILE --device NAME "
      "[options]\n\n",
      all, "\nSIGTERM or SIGINT stops it. Docs: docs/operations.md (\"A frozen dmuxd\")\n");
}

}  // namespace

CommandLine parse_healthcheck_options(int argc, const char* const argv[]) {
  po::options_description all(app::kHelpWidth, app::kHelpIndent);
  all.add(app::program_options("validate the options and the key, print a summary and exit"))
      .add(probe_options());
  return app::parse_standard_command_line<CommandLine>(argc, argv, all, probe_options(),
                                                       help_text(all), to_config);
}

}  // namespace dmux::bgp_glue

#include "bgp-glue/healthcheck/options.h"

#include <boost/program_options.hpp>
#include <iostream>
#include <stdexcept>

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

net::Endpoint endpoint(const po::variables_map& vm, const char* name) {
  const auto ep = net::parse_endpoint(vm[name].as<std::string>());
  if (!ep || ep->addr == 0) throw std::runtime_error(std::string("--") + name + ": need IPV4:PORT");
  return *ep;
}
}  // namespace

std::optional<HealthcheckConfig> parse_healthcheck_options(int argc, const char* const argv[]) {
  po::options_description d(
      "dmux-healthcheck: withdraws a frozen dmuxd's announcement (bgp-glue/README.md)");
  d.add_options()("help", "this text")(kData, po::value<std::string>()->required(),
                                       "dmuxd's data port to probe (IPV4:PORT)")(
      kListen, po::value<std::string>()->required(),
      "where dmuxd tunnels the probes: its --static-router for --proto (IPV4:PORT)")(
      kKey, po::value<std::string>()->required(), "that static router's key file (hex)")(
      kProto, po::value<std::string>()->default_value("exp-0xfffe"), "the probes' protocol")(
      kProvider, po::value<std::uint32_t>()->default_value(1), "the static router's provider id")(
      kDevice, po::value<std::string>()->required(), "dmuxd's --announce-device")(
      kInterval, po::value<unsigned>()->default_value(100), "one probe every this many ms")(
      kTimeout, po::value<unsigned>()->default_value(100), "a probe back later is missed (ms)")(
      kFall, po::value<unsigned>()->default_value(3), "missed probes in a row: withdraw")(
      kRise, po::value<unsigned>()->default_value(2), "answered probes in a row: alive again");
  po::variables_map vm;
  po::store(po::parse_command_line(argc, argv, d), vm);
  if (vm.count("help")) {
    std::cout << d << '\n';
    return std::nullopt;
  }
  po::notify(vm);
  HealthcheckConfig c;
  c.data = endpoint(vm, kData);
  c.listen = endpoint(vm, kListen);
  c.key_file = vm[kKey].as<std::string>();
  const auto proto = wire::parse_protocol(vm[kProto].as<std::string>());
  if (!proto) throw std::runtime_error("--proto: unknown protocol");
  c.proto_id = *proto;
  c.provider_id = vm[kProvider].as<std::uint32_t>();
  c.device = vm[kDevice].as<std::string>();
  c.check.interval = std::chrono::milliseconds(vm[kInterval].as<unsigned>());
  c.check.timeout = std::chrono::milliseconds(vm[kTimeout].as<unsigned>());
  c.check.fall = vm[kFall].as<unsigned>();
  c.check.rise = vm[kRise].as<unsigned>();
  if (c.check.interval.count() < 10 || c.check.fall == 0 || c.check.rise == 0) {
    throw std::runtime_error("--interval-ms must be >= 10, --fall and --rise >= 1");
  }
  return c;
}

}  // namespace dmux::bgp_glue

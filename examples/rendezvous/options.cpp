#include "options.h"

#include <boost/program_options.hpp>

#include "common/app/standard_options.h"

namespace po = boost::program_options;

namespace rendezvous {
namespace {

using strings = std::vector<std::string>;
using dmux::ConfigError;

po::options_description router_options() {
  po::options_description d("Router", dmux::app::kHelpWidth, dmux::app::kHelpIndent);
  // clang-format off
  d.add_options()
      ("proto", po::value<std::string>()->value_name("ID")->default_value("0x8001"),
       "the protocol id served (0x8000-0xfffe are experimental); must be in the certificate")
      ("listen", po::value<std::string>()->value_name("ADDR:PORT"),
       "UDP endpoint for TUNNEL and peer messages, registered with the gateways (required)")
      ("gateway", po::value<strings>()->value_name("ADDR:PORT"),
       "registration endpoint: the anycast registration address, or a gateway's; repeatable")
      ("cert", po::value<std::string>()->value_name("FILE"), "provider certificate (PEM) (required)")
      ("key", po::value<std::string>()->value_name("FILE"), "its private key (PEM) (required)")
      ("return-key", po::value<std::string>()->value_name("FILE"),
       "the provider-wide return-token secret (default: derived from --key)")
      ("allow", po::value<strings>()->value_name("PREFIX"),
       "special-purpose IPv4 prefix RETURNs may go to (198.18.0.0/15 in a lab); repeatable")
      ("peer", po::value<strings>()->value_name("ADDR:PORT"),
       "another router of the provider (its --listen); repeatable")
      ("peer-key", po::value<std::string>()->value_name("FILE"),
       "the secret the routers share (at least 16 bytes)")
      ("control", po::value<std::string>()->value_name("PATH"),
       "UNIX socket answering 'status' with one JSON document (default: none)")
      ("metrics", po::value<std::string>()->value_name("ADDR:PORT"),
       "Prometheus metrics endpoint (/metrics) (default: none)")
      ("max-lifetime-s", po::value<unsigned>()->value_name("S")->default_value(120),
       "longest trigger lifetime granted")
      ("max-triggers", po::value<std::size_t>()->value_name("N")->default_value(65536),
       "triggers held in all")
      ("max-per-address", po::value<std::size_t>()->value_name("N")->default_value(64),
       "triggers of one client IPv4 address (all its ports)")
      (dmux::app::opt::kLogLevel, po::value<std::string>()->value_name("LEVEL")->default_value("info"),
       "debug, info, warn or error");
  // clang-format on
  return d;
}

std::string text(const po::variables_map& vm, const char* name) {
  return vm.count(name) ? vm[name].as<std::string>() : std::string{};
}

strings list(const po::variables_map& vm, const char* name) {
  return vm.count(name) ? vm[name].as<strings>() : strings{};
}

std::uint16_t proto_id(const std::string& s) {
  std::size_t end = 0;
  unsigned long id = 0;
  try {
    id = std::stoul(s, &end, 0);
  } catch (const std::exception&) {
    end = 0;
  }
  if (end != s.size() || id == 0 || id > 0xffff)
    throw ConfigError("proto", "'" + s + "' is not a protocol id like 0x8001");
  return static_cast<std::uint16_t>(id);
}

Config to_config(const po::variables_map& vm) {
  Config c;
  ipdmux::sdk::RouterOptions& o = c.router;
  o.name = "rendezvous_router";
  o.proto_id = proto_id(vm["proto"].as<std::string>());
  o.listen = text(vm, "listen");
  if (o.listen.empty()) throw ConfigError("listen", "required");
  o.gateways = list(vm, "gateway");
  o.cert_file = text(vm, "cert");
  o.key_file = text(vm, "key");
  o.return_key_file = text(vm, "return-key");
  o.allow_destinations = list(vm, "allow");
  o.peers = list(vm, "peer");
  o.peer_key_file = text(vm, "peer-key");
  o.control_socket = text(vm, "control");
  o.metrics_listen = text(vm, "metrics");
  c.limits.max_lifetime = std::chrono::seconds(vm["max-lifetime-s"].as<unsigned>());
  c.limits.max_triggers = vm["max-triggers"].as<std::size_t>();
  c.limits.max_per_address = vm["max-per-address"].as<std::size_t>();
  c.log_level =
      dmux::checked_log_level(text(vm, dmux::app::opt::kLogLevel), dmux::app::opt::kLogLevel);
  return c;
}

std::string help_text(const po::options_description& all) {
  return dmux::app::help_text(
      "rendezvous-router: the rendezvous protocol's router (i3-like triggers), built on the\n"
      "IPdmux SDK (examples/rendezvous/README.md).\n\n"
      "Usage: rendezvous-router --listen ADDR:PORT --gateway ADDR:PORT --cert FILE --key FILE\n"
      "                         [--peer ADDR:PORT --peer-key FILE] [options]\n\n",
      all, "\nSIGTERM or SIGINT deregisters and exits.\n");
}

}  // namespace

CommandLine parse_command_line(int argc, const char* const argv[]) {
  po::options_description all(dmux::app::kHelpWidth, dmux::app::kHelpIndent);
  all.add(dmux::app::program_options("validate the options, print a summary and exit"))
      .add(router_options());
  return dmux::app::parse_standard_command_line<CommandLine>(argc, argv, all, router_options(),
                                                             help_text(all), to_config);
}

}  // namespace rendezvous

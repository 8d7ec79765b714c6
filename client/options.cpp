#include "client/options.h"

#include <boost/program_options.hpp>
#include <sstream>

#include "client/option_names.h"
#include "client/selector.h"
#include "common/app/standard_options.h"
#include "common/util/option_errors.h"
#include "common/util/strict_command_line.h"

namespace po = boost::program_options;

namespace dmux::client {
namespace {

using strings = std::vector<std::string>;

po::options_description program_options() {
  auto d = app::program_options("validate the options, print a summary and exit");
  d.add_options()(opt::kCleanup,
                  "remove the iptables chain and routing rules a killed daemon left behind, and "
                  "exit");
  return d;
}

po::options_description client_options() {
  po::options_description d("Client", 100, 50);
  d.add_options()(opt::kGateway, po::value<std::string>()->value_name("ADDR:PORT"),
                  "where DATA goes: the anycast data address in the dmux-prefix (required)")(
      opt::kBind, po::value<std::string>()->value_name("ADDR:PORT")->default_value("0.0.0.0:0"),
      "local UDP endpoint of the tunnel (replies arrive here; port 0: any)")(
      opt::kCapture,
      po::value<strings>()->value_name("SELECTOR")->default_value(strings{"ipv6"}, "ipv6"),
      "what to capture, repeatable: ipv6[:provider=N], ipv4-multicast[:provider=N], "
      "generic:proto=exp-0xNNNN[,provider=N],match=IPTABLES-MATCH")(
      opt::kTun, po::value<std::string>()->value_name("NAME")->default_value("dmuxc0"),
      "TUN device for routing and injection (removed at exit, also when killed)")(
      opt::kMtu, po::value<int>()->value_name("BYTES")->default_value(1400),
      "TUN MTU: the largest IPvN packet tunnelled (1280-1444)")(
      opt::kOffload, po::value<std::string>()->value_name("on|off")->default_value("on"),
      "on: TCP/UDP super-packets through the TUN device (software TSO/GRO), UDP GSO/GRO on the "
      "tunnel socket")(opt::kChain,
                       po::value<std::string>()->value_name("NAME")->default_value("DMUX-CLIENT"),
                       "our iptables/ip6tables mangle chain (a stale one is removed at start)")(
      opt::kFwmark, po::value<std::uint32_t>()->value_name("N")->default_value(0xd30000),
      "firewall mark of the first selector's packets (generic selectors); selector i uses N+i")(
      opt::kRouteTable, po::value<std::uint32_t>()->value_name("N")->default_value(4467),
      "policy routing table into the TUN device and preference of its rules (1-32765)")(
      opt::kRoute,
      po::value<strings>()->value_name("PREFIX")->default_value(strings{"::/0"}, "::/0"),
      "IPv6 prefix routed into the TUN device (captured), repeatable")(
      opt::kPhaseOut, po::value<std::string>()->value_name("on|off")->default_value("on"),
      "on: do not capture IPv6 while the host has a native IPv6 default route")(
      opt::kSolicitInterval, po::value<unsigned>()->value_name("MS")->default_value(25000),
      "address refresh and NAT keepalive interval (100-3600000)");
  app::add_operator_options(
      d,
      {.control_socket = nullptr,
       .control_socket_help = "UNIX socket answering 'status' (JSON; dmuxctl --socket PATH status)",
       .metrics_listen = "127.0.0.1:9751"});
  return d;
}

net::Endpoint endpoint(const po::variables_map& vm, const char* name, bool allow_zero) {
  if (!vm.count(name)) throw ConfigError(name, "required");
  const auto text = vm[name].as<std::string>();
  const auto ep = net::parse_endpoint(text, allow_zero);
  if (!ep) throw ConfigError(name, "'" + text + "' is not IPV4:PORT");
  return *ep;
}

ClientConfig to_config(const po::variables_map& vm) {
  ClientConfig c;
  c.gateway = endpoint(vm, opt::kGateway, false);
  c.bind = endpoint(vm, opt::kBind, true);
  for (const auto& text : vm[opt::kCapture].as<strings>())
    c.selectors.push_back(parse_selector(text));
  // Return tokens, and the checks a RETURN gets, are per protocol: one selector each.
  for (std::size_t i = 0; i < c.selectors.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (c.selectors[i].proto_id == c.selectors[j].proto_id)
        throw ConfigError(opt::kCapture, "'" + c.selectors[j].text + "' and '" +
                                             c.selectors[i].text + "' tunnel the same protocol");
      // Packets read from the TUN device find their generic selector by IP protocol.
      const auto generic = Selector::Kind::kGeneric;
      if (c.selectors[i].kind == generic && c.selectors[j].kind == generic &&
          overlap(c.selectors[i], c.selectors[j]))
        throw ConfigError(opt::kCapture, "'" + c.selectors[j].text + "' and '" +
                                             c.selectors[i].text +
                                             "' may match one IP protocol (-p): give each its own");
    }
  }
  c.tun_name = vm[opt::kTun].as<std::string>();
  if (c.tun_name.empty() || c.tun_name.size() > 15)
    throw ConfigError(opt::kTun, "1 to 15 characters");
  c.tun_mtu = vm[opt::kMtu].as<int>();
  if (c.tun_mtu < 1280 || c.tun_mtu > 1444) throw ConfigError(opt::kMtu, "must be 1280-1444");
  const auto offload = vm[opt::kOffload].as<std::string>();
  if (offload != "on" && offload != "off") throw ConfigError(opt::kOffload, "on or off");
  c.offload = offload == "on";
  c.chain = vm[opt::kChain].as<std::string>();
  if (c.chain.empty() || c.chain.size() > 28) throw ConfigError(opt::kChain, "1 to 28 characters");
  c.fwmark = vm[opt::kFwmark].as<std::uint32_t>();
  if (c.fwmark == 0 || c.fwmark > 0xffffffffu - c.selectors.size())
    throw ConfigError(opt::kFwmark, "must be 1 to 2^32-1 less the number of selectors");
  c.route_table = vm[opt::kRouteTable].as<std::uint32_t>();
  if (c.route_table == 0 || c.route_table > 32765)
    throw ConfigError(opt::kRouteTable, "must be 1-32765");
  c.ipv6_routes = vm[opt::kRoute].as<strings>();
  const auto phase = vm[opt::kPhaseOut].as<std::string>();
  if (phase != "on" && phase != "off") throw ConfigError(opt::kPhaseOut, "on or off");
  c.phase_out = phase == "on";
  const unsigned ms = vm[opt::kSolicitInterval].as<unsigned>();
  if (ms < 100 || ms > 3'600'000) throw ConfigError(opt::kSolicitInterval, "must be 100-3600000");
  c.solicit_interval = std::chrono::milliseconds(ms);
  app::read_operator_options(vm, c);
  return c;
}

}  // namespace

CommandLine parse_command_line(int argc, const char* const* argv) {
  CommandLine cl;
  po::options_description all;
  all.add(program_options()).add(client_options());
  std::ostringstream help;
  help << "Usage: dmux-client --gateway ADDR:PORT [options]\n"
          "Captures host packets (netfilter marks, policy routing into a TUN device), tunnels "
          "them to an IPdmux gateway, injects the replies.\n\n"
       << all;
  cl.help_text = help.str();
  try {
    po::variables_map vm;
    po::store(parse_strict_command_line(argc, argv, all), vm);
    if (vm.count(opt::kConfig))  // every option but the program ones
      store_config_file(vm[opt::kConfig].as<std::string>(), client_options(), vm, opt::kConfig);
    po::notify(vm);
    cl.help = vm.count(opt::kHelp) > 0;
    cl.version = vm.count(opt::kVersion) > 0;
    cl.check_config = vm.count(opt::kCheckConfig) > 0;
    cl.cleanup = vm.count(opt::kCleanup) > 0;
    if (cl.help || cl.version) return cl;
    if (cl.cleanup) {
      cl.config.chain = vm[opt::kChain].as<std::string>();
      cl.config.route_table = vm[opt::kRouteTable].as<std::uint32_t>();
      return cl;
    }
    cl.config = to_config(vm);
  } catch (...) {
    rethrow_as_config_error();
  }
  return cl;
}

}  // namespace dmux::client

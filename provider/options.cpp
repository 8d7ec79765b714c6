#include "provider/options.h"

#include <algorithm>
#include <boost/program_options.hpp>

#include "common/app/standard_options.h"
#include "common/wire/protocols.h"
#include "provider/option_names.h"

namespace po = boost::program_options;

namespace dmux::provider {
namespace {

using strings = std::vector<std::string>;

po::options_description agent_options() {
  po::options_description d("Agent", 100, 50);
  d.add_options()(opt::kGateway, po::value<std::string>()->value_name("ADDR:PORT"),
                  "registration endpoint: the anycast registration address, or a gateway's unicast "
                  "one (required)")(
      opt::kListen, po::value<std::string>()->value_name("ADDR:PORT"),
      "UDP endpoint TUNNEL datagrams arrive on; also the source of REGISTER, KEEPALIVE and RETURN, "
      "and the router address registered (0.0.0.0 = the REGISTER's source address) (required)")(
      opt::kCert, po::value<std::string>()->value_name("FILE"),
      "provider certificate (PEM) from 'dmux-ca issue-provider' (required)")(
      opt::kKey, po::value<std::string>()->value_name("FILE"), "its private key (PEM) (required)")(
      opt::kProtocol,
      po::value<strings>()->value_name("NAME")->default_value(strings{"ipv6"}, "ipv6"),
      "protocol to register; repeatable; each must be in the certificate (only ipv6 has a data "
      "path)")(
      opt::kClientPrefix, po::value<std::string>()->value_name("PREFIX/48"),
      "the provider's client prefix, e.g. 2001:db8:7::/48; client addresses embed IPv4:port:tag "
      "under it and it is routed into the TUN device (required)")(
      opt::kTun, po::value<std::string>()->value_name("NAME")->default_value("dmuxp0"),
      "TUN device to create (removed, with its route, when the agent exits)")(
      opt::kReturnKey, po::value<std::string>()->value_name("FILE"), agent::opt::kReturnKeyHelp)(
      opt::kStaticTunnelKey, po::value<std::string>()->value_name("FILE"),
      agent::opt::kStaticTunnelKeyHelp)(opt::kAllowDestination,
                                        po::value<strings>()->value_name("PREFIX"),
                                        agent::opt::kAllowDestinationHelp);
  app::add_operator_options(d, {});
  return d;
}

template <typename T>
T get(const po::variables_map& vm, const char* name) {
  return vm[name].as<T>();
}

std::string required(const po::variables_map& vm, const char* name) {
  if (!vm.count(name)) throw ConfigError(name, "required");
  return get<std::string>(vm, name);
}

net::Endpoint endpoint(const po::variables_map& vm, const char* name) {
  const std::string text = required(vm, name);
  const auto ep = net::parse_endpoint(text);
  if (!ep) throw ConfigError(name, "'" + text + "' is not IPV4:PORT (port 1-65535)");
  return *ep;
}

std::vector<std::uint16_t> protocols(const po::variables_map& vm) {
  std::vector<std::uint16_t> out;
  for (const auto& name : get<strings>(vm, opt::kProtocol)) {
    const auto id = wire::parse_protocol(name);
    if (!id) throw ConfigError(opt::kProtocol, "unknown protocol '" + name + "'");
    if (*id != wire::kProtoIpv6) {
      throw ConfigError(opt::kProtocol,
                        "'" + name + "' has no data path in this agent (only ipv6)");
    }
    if (std::find(out.begin(), out.end(), *id) != out.end()) {
      throw ConfigError(opt::kProtocol, "'" + name + "' given twice");
    }
    out.push_back(*id);
  }
  return out;
}

// The value of an option that may be absent, or T{} if it is.
template <typename T>
T optional_value(const po::variables_map& vm, const char* name) {
  return vm.count(name) ? vm[name].as<T>() : T{};
}

bool valid_interface_name(const std::string& s) {
  return !s.empty() && s.size() <= 15 && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
  });
}

ProviderConfig to_config(const po::variables_map& vm) {
  ProviderConfig c;
  c.gateway = endpoint(vm, opt::kGateway);
  if (c.gateway.addr == 0) throw ConfigError(opt::kGateway, "address must not be 0.0.0.0");
  c.listen = endpoint(vm, opt::kListen);
  c.cert_file = required(vm, opt::kCert);
  c.key_file = required(vm, opt::kKey);
  c.protocols = protocols(vm);
  const std::string prefix = required(vm, opt::kClientPrefix);
  const auto p = parse_client_prefix(prefix);
  if (!p)
    throw ConfigError(opt::kClientPrefix,
                      "'" + prefix + "' is not an IPv6 /48 prefix like 2001:db8:7::/48");
  c.client_prefix = *p;
  c.tun_name = get<std::string>(vm, opt::kTun);
  if (!valid_interface_name(c.tun_name)) {
    throw ConfigError(opt::kTun,
                      "'" + c.tun_name + "' is not an interface name (1-15 of [A-Za-z0-9._-])");
  }
  c.agent = agent::make_agent_options(optional_value<std::string>(vm, opt::kReturnKey),
                                      optional_value<std::string>(vm, opt::kStaticTunnelKey),
                                      optional_value<strings>(vm, opt::kAllowDestination));
  app::read_operator_options(vm, c);
  return c;
}

std::string help_text(const po::options_description& all) {
  return app::help_text(
      "dmux-provider: the IPdmux agent on an IPvN provider's router. Registers the router with\n"
      "the nearest gateway and keeps the registration alive, de-tunnels authenticated TUNNEL\n"
      "datagrams from proven clients into the kernel's IPv6 stack through a TUN device, and\n"
      "sends replies for client addresses straight back to the clients as RETURN datagrams.\n\n"
      "Usage: dmux-provider [--config FILE] --gateway ADDR:PORT --listen ADDR:PORT --cert FILE "
      "--key FILE\n"
      "                                   --client-prefix PREFIX/48 [options]\n\n",
      all,
      "\nExample:\n"
      "  dmux-provider --gateway 198.18.0.1:4501 --listen 198.18.2.2:5000 \\\n"
      "      --cert /etc/ipdmux/prov.crt --key /etc/ipdmux/prov.key --client-prefix "
      "2001:db8:7::/48\n"
      "Needs CAP_NET_ADMIN (TUN device, route). SIGTERM deregisters and exits.\n"
      "Docs: docs/provider.md; wire formats: docs/protocol.md\n");
}

}  // namespace

CommandLine parse_command_line(int argc, const char* const argv[]) {
  po::options_description all(app::kHelpWidth, app::kHelpIndent);
  all.add(app::program_options(
              "validate options, certificate and key, print a summary and exit (0 if valid)"))
      .add(agent_options());
  return app::parse_standard_command_line<CommandLine>(argc, argv, all, agent_options(),
                                                       help_text(all), to_config);
}

}  // namespace dmux::provider

#include "multicast/options.h"

#include <algorithm>
#include <boost/program_options.hpp>

#include "common/app/standard_options.h"
#include "multicast/option_names.h"

namespace po = boost::program_options;

namespace dmux::multicast {
namespace {

using strings = std::vector<std::string>;

po::options_description router_options() {
  po::options_description d("Router", 100, 50);
  d.add_options()(opt::kGateway, po::value<std::string>()->value_name("ADDR:PORT"),
                  "registration endpoint: the anycast registration address, or a gateway's unicast "
                  "one (required)")(
      opt::kListen, po::value<std::string>()->value_name("ADDR:PORT"),
      "UDP endpoint for TUNNEL and peer messages; source of REGISTER, RETURN and peer messages; "
      "the router address registered and this router's identity among its peers (required; a "
      "specific address, not 0.0.0.0)")(
      opt::kCert, po::value<std::string>()->value_name("FILE"),
      "provider certificate (PEM) from 'dmux-ca issue-provider --protocols ipv4-multicast' "
      "(required)")(opt::kKey, po::value<std::string>()->value_name("FILE"),
                    "its private key (PEM) (required)")(
      opt::kReturnKey, po::value<std::string>()->value_name("FILE"), agent::opt::kReturnKeyHelp)(
      opt::kStaticTunnelKey, po::value<std::string>()->value_name("FILE"),
      agent::opt::kStaticTunnelKeyHelp)(opt::kAllowDestination,
                                        po::value<strings>()->value_name("PREFIX"),
                                        agent::opt::kAllowDestinationHelp);
  app::add_operator_options(d, {});
  return d;
}

po::options_description peer_options() {
  po::options_description d("Peers (the provider's other routers, a full mesh)", 100, 50);
  d.add_options()(opt::kPeer, po::value<strings>()->value_name("ADDR:PORT"),
                  "another router of the provider (its --listen); repeatable")(
      opt::kPeerKey, po::value<std::string>()->value_name("FILE"),
      "shared secret of the provider's routers (at least 16 bytes, e.g. 'openssl rand -hex 32'); "
      "required with --peer")(opt::kSummaryInterval,
                              po::value<unsigned>()->value_name("MS")->default_value(1000),
                              "membership summary to every peer this often")(
      opt::kPeerDead, po::value<unsigned>()->value_name("MS"),
      "a peer silent this long is dead and its members are adopted (default 3.5 x "
      "--summary-interval-ms)");
  return d;
}

po::options_description membership_options() {
  po::options_description d("Membership (IGMP soft state) and limits", 100, 50);
  d.add_options()(opt::kMembershipTimeout,
                  po::value<unsigned>()->value_name("MS")->default_value(260000),
                  "a membership no report refreshed this long expires (IGMP's group membership "
                  "interval)")(opt::kQueryInterval,
                               po::value<unsigned>()->value_name("MS")->default_value(125000),
                               "IGMP general query to every member this often")(
      opt::kQueryResponse, po::value<unsigned>()->value_name("MS")->default_value(10000),
      "max response time announced in queries (100-12700, below --query-interval-ms)")(
      opt::kMaxGroupsPerClient, po::value<unsigned>()->value_name("N")->default_value(64),
      "memberships of one client IPv4 address over all its ports; more are refused and counted")(
      opt::kMaxClientsPerAddress, po::value<unsigned>()->value_name("N")->default_value(4),
      "clients (ports) of one IPv4 address with memberships")(
      opt::kMaxMembersPerGroup, po::value<unsigned>()->value_name("N")->default_value(1024),
      "local members of one group")(opt::kMaxGroups,
                                    po::value<unsigned>()->value_name("N")->default_value(4096),
                                    "groups with local members")(
      opt::kMaxClients, po::value<unsigned>()->value_name("N")->default_value(4096),
      "clients with memberships");
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

net::Endpoint endpoint(const char* name, const std::string& text) {
  const auto ep = net::parse_endpoint(text);
  if (!ep) throw ConfigError(name, "'" + text + "' is not IPV4:PORT (port 1-65535)");
  if (ep->addr == 0) throw ConfigError(name, "address must not be 0.0.0.0");
  return *ep;
}

std::chrono::milliseconds ms(const po::variables_map& vm, const char* name, unsigned min,
                             unsigned max) {
  const unsigned v = get<unsigned>(vm, name);
  if (v < min || v > max) {
    throw ConfigError(name, "must be " + std::to_string(min) + "-" + std::to_string(max));
  }
  return std::chrono::milliseconds(v);
}

std::size_t limit(const po::variables_map& vm, const char* name) {
  const unsigned v = get<unsigned>(vm, name);
  if (v == 0 || v > 1'000'000) throw ConfigError(name, "must be 1-1000000");
  return v;
}

// The value of an option that may be absent, or T{} if it is.
template <typename T>
T optional_value(const po::variables_map& vm, const char* name) {
  return vm.count(name) ? vm[name].as<T>() : T{};
}

McastConfig to_config(const po::variables_map& vm) {
  McastConfig c;
  c.gateway = endpoint(opt::kGateway, required(vm, opt::kGateway));
  c.listen = endpoint(opt::kListen, required(vm, opt::kListen));
  c.cert_file = required(vm, opt::kCert);
  c.key_file = required(vm, opt::kKey);
  if (vm.count(opt::kPeer)) {
    for (const auto& text : get<strings>(vm, opt::kPeer)) {
      const net::Endpoint ep = endpoint(opt::kPeer, text);
      if (ep == c.listen) throw ConfigError(opt::kPeer, "'" + text + "' is this router (--listen)");
      if (std::find(c.peers.begin(), c.peers.end(), ep) != c.peers.end())
        throw ConfigError(opt::kPeer, "'" + text + "' given twice");
      c.peers.push_back(ep);
    }
  }
  if (vm.count(opt::kPeerKey)) {
    c.peer_key_file = get<std::string>(vm, opt::kPeerKey);
  } else if (!c.peers.empty()) {
    throw ConfigError(opt::kPeerKey, "required with --peer (the provider's shared secret)");
  }
  c.membership_timeout = ms(vm, opt::kMembershipTimeout, 1000, 3'600'000);
  c.query_interval = ms(vm, opt::kQueryInterval, 500, 3'600'000);
  c.query_response = ms(vm, opt::kQueryResponse, 100, 12700);
  if (c.query_response >= c.query_interval)
    throw ConfigError(opt::kQueryResponse, "must be below --query-interval-ms");
  if (c.membership_timeout <= c.query_interval + c.query_response) {
    throw ConfigError(opt::kMembershipTimeout,
                      "must exceed --query-interval-ms plus --query-response-ms, or members "
                      "expire between queries");
  }
  c.summary_interval = ms(vm, opt::kSummaryInterval, 50, 60000);
  c.peer_dead_after =
      vm.count(opt::kPeerDead) ? ms(vm, opt::kPeerDead, 100, 600000) : c.summary_interval * 7 / 2;
  if (c.peer_dead_after <= c.summary_interval)
    throw ConfigError(opt::kPeerDead, "must exceed --summary-interval-ms");
  c.max_groups_per_client = limit(vm, opt::kMaxGroupsPerClient);
  c.max_clients_per_address = limit(vm, opt::kMaxClientsPerAddress);
  c.max_members_per_group = limit(vm, opt::kMaxMembersPerGroup);
  c.max_groups = limit(vm, opt::kMaxGroups);
  c.max_clients = limit(vm, opt::kMaxClients);
  c.agent = agent::make_agent_options(optional_value<std::string>(vm, opt::kReturnKey),
                                      optional_value<std::string>(vm, opt::kStaticTunnelKey),
                                      optional_value<strings>(vm, opt::kAllowDestination));
  app::read_operator_options(vm, c);
  return c;
}

std::string help_text(const po::options_description& all) {
  return app::help_text(
      "dmux-mcast: the reference IPv4 multicast overlay router for IPdmux. Registers with the\n"
      "nearest gateway for ipv4-multicast, learns group membership from the IGMP reports\n"
      "clients tunnel to it (soft state, refreshed by IGMP queries it sends them), delivers\n"
      "each group's packets to member clients as RETURN datagrams, and exchanges group\n"
      "traffic and membership with the provider's other routers (--peer). It acts only on\n"
      "authenticated TUNNELs from clients that proved their address (return tokens).\n\n"
      "Usage: dmux-mcast [--config FILE] --gateway ADDR:PORT --listen ADDR:PORT --cert FILE "
      "--key FILE\n"
      "                                  [--peer ADDR:PORT ... --peer-key FILE] [options]\n\n",
      all,
      "\nExample (one of three routers of provider 7):\n"
      "  dmux-mcast --gateway 198.18.0.1:4501 --listen 198.18.2.2:5000 \\\n"
      "      --cert /etc/ipdmux/mcast.crt --key /etc/ipdmux/mcast.key \\\n"
      "      --peer 198.18.3.2:5000 --peer 198.18.4.2:5000 --peer-key /etc/ipdmux/peer.key\n"
      "Needs no privileges. SIGTERM deregisters and exits.\n"
      "Docs: docs/multicast.md; wire formats: docs/protocol.md sections 5, 6, 9 and 14\n");
}

}  // namespace

CommandLine parse_command_line(int argc, const char* const argv[]) {
  po::options_description file_options;  // every option but the program ones
  file_options.add(router_options()).add(peer_options()).add(membership_options());
  po::options_description all(app::kHelpWidth, app::kHelpIndent);
  all.add(app::program_options("validate options, certificate and keys, print a summary and exit"))
      .add(router_options())
      .add(peer_options())
      .add(membership_options());
  return app::parse_standard_command_line<CommandLine>(argc, argv, all, file_options,
                                                       help_text(all), to_config);
}

}  // namespace dmux::multicast

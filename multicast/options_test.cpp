#include "multicast/options.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace dmux::multicast {
namespace {

CommandLine parse(std::vector<std::string> extra) {
  std::vector<std::string> args = {"dmux-mcast", "--gateway",       "198.18.0.1:4501",
                                   "--listen",   "198.18.2.2:5000", "--cert",
                                   "c.crt",      "--key",           "c.key"};
  args.insert(args.end(), extra.begin(), extra.end());
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  return parse_command_line(static_cast<int>(argv.size()), argv.data());
}

std::string failing_option(std::vector<std::string> extra) {
  try {
    parse(std::move(extra));
  } catch (const ConfigError& e) {
    return e.option();
  }
  return "";
}

TEST_CASE("defaults") {
  const McastConfig c = parse({}).config;
  CHECK(c.listen.to_string() == "198.18.2.2:5000");
  CHECK(c.peers.empty());
  CHECK(c.membership_timeout.count() == 260000);
  CHECK(c.query_interval.count() == 125000);
  CHECK(c.summary_interval.count() == 1000);
  CHECK(c.peer_dead_after.count() == 3500);
  CHECK(c.max_groups_per_client == 64);
  CHECK(c.max_clients_per_address == 4);
  CHECK(c.agent.return_key_file.empty());
  CHECK(c.agent.static_tunnel_key_file.empty());
  CHECK(c.agent.allowed_destinations.empty());  // no special-purpose range unless allowed
}

TEST_CASE("the agent options: return key, static tunnel key, allowed destinations") {
  const McastConfig c = parse({"--return-key", "r.key", "--static-tunnel-key", "t.key",
                               "--allow-destination", "198.18.0.0/15", "--allow-destination",
                               "10.0.0.0/8", "--max-clients-per-address", "2"})
                            .config;
  CHECK(c.agent.return_key_file == "r.key");
  CHECK(c.agent.static_tunnel_key_file == "t.key");
  REQUIRE(c.agent.allowed_destinations.size() == 2);
  CHECK(c.agent.allowed_destinations[0].to_string() == "198.18.0.0/15");
  CHECK(c.max_clients_per_address == 2);
  CHECK(failing_option({"--allow-destination", "198.18.0.1/15"}) == "allow-destination");
  CHECK(failing_option({"--allow-destination", "example.net"}) == "allow-destination");
  CHECK(failing_option({"--max-clients-per-address", "0"}) == "max-clients-per-address");
}

TEST_CASE("peers") {
  const McastConfig c = parse({"--peer", "198.18.3.2:5000", "--peer", "198.18.4.2:5000",
                               "--peer-key", "k", "--summary-interval-ms", "200"})
                            .config;
  CHECK(c.peers.size() == 2);
  CHECK(c.peer_dead_after.count() == 700);
  CHECK(failing_option({"--peer", "198.18.3.2:5000"}) == "peer-key");
  CHECK(failing_option({"--peer", "198.18.2.2:5000", "--peer-key", "k"}) == "peer");
  CHECK(failing_option({"--peer", "198.18.3.2:5000", "--peer", "198.18.3.2:5000", "--peer-key",
                        "k"}) == "peer");
  CHECK(failing_option({"--peer", "nonsense", "--peer-key", "k"}) == "peer");
  CHECK(failing_option({"--peer-dead-ms", "500"}) == "peer-dead-ms");
}

TEST_CASE("bad values name their option") {
  CHECK(failing_option({"--listen", "0.0.0.0:5000"}) == "listen");
  CHECK(failing_option({"--query-response-ms", "50"}) == "query-response-ms");
  CHECK(failing_option({"--query-interval-ms", "1000", "--query-response-ms", "1000"}) ==
        "query-response-ms");
  CHECK(failing_option({"--membership-timeout-ms", "100000"}) == "membership-timeout-ms");
  CHECK(failing_option({"--max-groups", "0"}) == "max-groups");
  CHECK(failing_option({"--log-level", "loud"}) == "log-level");
  CHECK(failing_option({"--bogus"}) == "bogus");
  std::vector<const char*> argv = {"dmux-mcast"};
  CHECK_THROWS_AS(parse_command_line(1, argv.data()), ConfigError);
  argv.push_back("--help");
  CHECK(parse_command_line(2, argv.data()).help);
}

}  // namespace
}  // namespace dmux::multicast

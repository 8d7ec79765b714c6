#include "provider/options.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace dmux::provider {
namespace {

std::vector<std::string> base_args() {
  return {"dmux-provider",   "--gateway",       "198.18.0.1:4501", "--listen",
          "198.18.2.2:5000", "--cert",          "p.crt",           "--key",
          "p.key",           "--client-prefix", "2001:db8:7::/48"};
}

CommandLine parse(std::vector<std::string> args) {
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  return parse_command_line(static_cast<int>(argv.size()), argv.data());
}

// The option a ConfigError names, or "" if parsing succeeded.
std::string failing_option(std::vector<std::string> args) {
  try {
    parse(std::move(args));
  } catch (const ConfigError& e) {
    return e.option();
  }
  return "";
}

std::vector<std::string> with(std::vector<std::string> args, std::vector<std::string> more) {
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

std::vector<std::string> without(const std::string& option) {
  auto a = base_args();
  for (std::size_t i = 0; i + 1 < a.size(); ++i) {
    if (a[i] == option) {
      a.erase(a.begin() + static_cast<long>(i), a.begin() + static_cast<long>(i) + 2);
      break;
    }
  }
  return a;
}

}  // namespace

TEST_CASE("a complete command line gives the config with defaults") {
  const CommandLine cl = parse(base_args());
  const ProviderConfig& c = cl.config;
  CHECK(c.gateway.to_string() == "198.18.0.1:4501");
  CHECK(c.listen.to_string() == "198.18.2.2:5000");
  CHECK(c.cert_file == "p.crt");
  CHECK(c.key_file == "p.key");
  CHECK(c.protocols == std::vector<std::uint16_t>{1});
  CHECK(to_string(c.client_prefix) == "2001:db8:7::/48");
  CHECK(c.tun_name == "dmuxp0");
  CHECK(c.control_socket.empty());
  CHECK(c.agent.return_key_file.empty());
  CHECK(c.agent.static_tunnel_key_file.empty());
  CHECK(c.agent.allowed_destinations.empty());  // no special-purpose range unless allowed
  CHECK_FALSE(cl.check_config);
  CHECK(
      parse(with(base_args(), {"--check-config", "--tun", "p7", "--control-socket", "/tmp/p.sock"}))
          .config.tun_name == "p7");
}

TEST_CASE("the agent options: return key, static tunnel key, allowed destinations") {
  const ProviderConfig c = parse(with(base_args(), {"--return-key", "r.key", "--static-tunnel-key",
                                                    "t.key", "--allow-destination", "198.18.0.0/15",
                                                    "--allow-destination", "100.64.0.0/10"}))
                               .config;
  CHECK(c.agent.return_key_file == "r.key");
  CHECK(c.agent.static_tunnel_key_file == "t.key");
  REQUIRE(c.agent.allowed_destinations.size() == 2);
  CHECK(c.agent.allowed_destinations[1].to_string() == "100.64.0.0/10");
  CHECK(failing_option(with(base_args(), {"--allow-destination", "198.18.0.0/33"})) ==
        "allow-destination");
  CHECK(failing_option(with(base_args(), {"--allow-destination", "10.0.0.1/8"})) ==
        "allow-destination");
}

TEST_CASE("help and version need nothing else") {
  CHECK(parse({"dmux-provider", "--help"}).help);
  CHECK(parse({"dmux-provider", "--help"}).help_text.find("--client-prefix") != std::string::npos);
  CHECK(parse({"dmux-provider", "--version"}).version);
}

TEST_CASE("every required option is named when missing") {
  for (const std::string o : {"gateway", "listen", "cert", "key", "client-prefix"}) {
    CHECK(failing_option(without("--" + o)) == o);
  }
}

TEST_CASE("bad values are reported against their option") {
  CHECK(failing_option(with(without("--gateway"), {"--gateway", "198.18.0.1"})) == "gateway");
  CHECK(failing_option(with(without("--gateway"), {"--gateway", "0.0.0.0:4501"})) == "gateway");
  CHECK(failing_option(with(without("--listen"), {"--listen", "198.18.2.2:0"})) == "listen");
  CHECK(failing_option(with(without("--client-prefix"), {"--client-prefix", "2001:db8:7::/64"})) ==
        "client-prefix");
  CHECK(failing_option(with(base_args(), {"--protocol", "ipv9"})) == "protocol");
  CHECK(failing_option(with(base_args(), {"--protocol", "ipv4-multicast"})) == "protocol");
  CHECK(failing_option(with(base_args(), {"--protocol", "ipv6", "--protocol", "ipv6"})) ==
        "protocol");
  CHECK(failing_option(with(base_args(), {"--tun", "a-name-longer-than-15"})) == "tun");
  CHECK(failing_option(with(base_args(), {"--tun", "bad/name"})) == "tun");
  CHECK(failing_option(with(base_args(), {"--log-level", "loud"})) == "log-level");
  CHECK(failing_option(with(base_args(), {"--no-such-option"})) == "no-such-option");
  CHECK(failing_option(with(base_args(), {"--tun"})) == "tun");
}

}  // namespace dmux::provider

#include "gateway/options.h"

#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

using namespace dmux::gateway;

namespace {
CommandLine parse(std::vector<std::string> args) {
  args.insert(args.begin(), "dmuxd");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  return parse_command_line(static_cast<int>(argv.size()), argv.data());
}

std::string error_option(std::vector<std::string> args) {
  try {
    parse(std::move(args));
  } catch (const ConfigError& e) {
    return e.option();
  }
  return "(no error)";
}
}  // namespace

TEST_CASE("minimal command line gets the documented defaults") {
  const auto cl = parse({"--listen", "198.18.0.1:4500"});
  const auto& c = cl.config;
  REQUIRE(c.listen.size() == 1);
  CHECK(c.gateway_id == 0xc6120001u);
  CHECK(c.workers >= 1);
  CHECK(c.batch_size == 64);
  CHECK(c.max_datagram_bytes == 1500);
  CHECK(c.metrics_listen->to_string() == "127.0.0.1:9750");
  CHECK(c.control_socket == "/run/ipdmux/dmuxd.sock");
  CHECK(c.static_routers.empty());
  CHECK(c.selection.tolerance == std::chrono::microseconds(1000));
  CHECK(error_option({"--listen", "198.18.0.1:4500", "--selection-tolerance-us", "2000000"}) ==
        "selection-tolerance-us");
}

TEST_CASE("each bad option is named in the error") {
  CHECK(error_option({}) == "listen");
  CHECK(error_option({"--listen", "nope"}) == "listen");
  CHECK(error_option({"--listen", "198.18.0.1:4500", "--workers", "65"}) == "workers");
  CHECK(error_option({"--listen", "198.18.0.1:4500", "--workers", "x"}) == "workers");
  CHECK(error_option({"--listen", "198.18.0.1:4500", "--batch-size", "0"}) == "batch-size");
  CHECK(error_option({"--listen", "198.18.0.1:4500", "--max-datagram-bytes", "10"}) ==
        "max-datagram-bytes");
  CHECK(error_option({"--listen", "198.18.0.1:4500", "--static-router",
                      "ipv7 1 198.18.2.2:5000"}) == "static-router");
  CHECK(error_option({"--listen", "198.18.0.1:4500", "--static-router",
                      "ipv6 0 198.18.2.2:5000"}) == "static-router");
  CHECK(error_option({"--listen", "198.18.0.1:4500", "--static-router", "ipv6 1 198.18.2.2"}) ==
        "static-router");
  CHECK(error_option({"--listen", "198.18.0.1:4500", "--metrics-listen", "x"}) == "metrics-listen");
  CHECK(error_option({"--listen", "198.18.0.1:4500", "--log-level", "loud"}) == "log-level");
  CHECK(error_option({"--listen", "0.0.0.0:4500"}) == "gateway-id");
  CHECK(error_option({"--listen", "198.18.0.1:4500", "--config", "/nonexistent/dmuxd.conf"}) ==
        "config");
  CHECK(error_option({"--listen", "198.18.0.1:4500", "--bogus"}) == "bogus");
}

TEST_CASE("a config file is read and the command line overrides it") {
  const std::string path = "/tmp/dmuxd_options_test.conf";
  {
    std::ofstream f(path);
    f << "# example\nlisten = 198.18.0.1:4500\nlisten = 198.18.0.2:4500\nworkers = 3\n"
         "static-router = ipv6 7 198.18.2.2:5000\nstatic-router = ipv4-multicast 9 "
         "198.18.2.3:5001\n";
  }
  auto cl = parse({"--config", path, "--workers", "2"});
  CHECK(cl.config.listen.size() == 2);
  CHECK(cl.config.workers == 2);
  CHECK(cl.config.static_routers.size() == 2);
  CHECK(cl.config.config_file == path);

  {
    std::ofstream f(path);
    f << "listen = 198.18.0.1:4500\nnot-an-option = 1\n";
  }
  CHECK(error_option({"--config", path}) == "config");
  std::remove(path.c_str());
}

TEST_CASE("--help and --check-config are recognised before validation") {
  CHECK(parse({"--help"}).help);
  CHECK(parse({"--listen", "198.18.0.1:4500", "--check-config"}).check_config);
}

TEST_CASE("mesh options: each needs --mesh-listen, which needs credentials and the CA") {
  CHECK_FALSE(parse({"--listen", "198.18.0.1:4500"}).config.mesh);
  CHECK(parse({"--listen", "198.18.0.1:4500"}).config.selection.use_router_distance);
  CHECK_FALSE(parse({"--listen", "198.18.0.1:4500", "--selection", "paper"})
                  .config.selection.use_router_distance);
  CHECK(error_option({"--listen", "198.18.0.1:4500", "--selection", "nearest"}) == "selection");
  CHECK(error_option({"--listen", "198.18.0.1:4500", "--mesh-peer", "198.18.0.2:4600"}) ==
        "mesh-peer");
  CHECK(error_option({"--listen", "198.18.0.1:4500", "--mesh-listen", "198.18.0.1:4600"}) ==
        "mesh-cert");
  CHECK(error_option({"--listen", "198.18.0.1:4500", "--mesh-listen", "bogus"}) == "mesh-listen");
  CHECK(error_option({"--listen", "198.18.0.1:4500", "--ca-cert", "/etc/hostname"}) == "ca-cert");
}

TEST_CASE("announce options: off by default, documented defaults, each bad value named") {
  CHECK_FALSE(parse({"--listen", "198.18.0.1:4500"}).config.announce);
  const auto a = parse({"--listen", "198.18.0.1:4500", "--announce-prefix", "198.18.0.0/24"})
                     .config.announce;
  REQUIRE(a);
  CHECK(a->prefix.to_string() == "198.18.0.0/24");
  CHECK(a->device == "dmuxa0");
  CHECK(a->metric == 100);
  CHECK(a->drain_metric == 1000);
  CHECK(a->health_interval == std::chrono::milliseconds(200));
  CHECK(a->rise == 3);
  CHECK(a->fall == 2);
  CHECK(a->drain_withdraw == std::chrono::milliseconds(5000));
  const std::vector<std::string> base{"--listen", "198.18.0.1:4500", "--announce-prefix",
                                      "198.18.0.0/24"};
  auto with = [&](std::vector<std::string> extra) {
    auto args = base;
    args.insert(args.end(), extra.begin(), extra.end());
    return error_option(args);
  };
  CHECK(error_option({"--listen", "198.18.0.1:4500", "--announce-prefix", "198.18.0.1/24"}) ==
        "announce-prefix");
  CHECK(with({"--announce-device", "a-name-longer-than-15"}) == "announce-device");
  CHECK(with({"--drain-metric", "100"}) == "drain-metric");
  CHECK(with({"--announce-metric", "-1"}) == "announce-metric");
  CHECK(with({"--health-interval-ms", "10"}) == "health-interval-ms");
  CHECK(with({"--health-rise", "0"}) == "health-rise");
  CHECK(with({"--health-fall", "101"}) == "health-fall");
}

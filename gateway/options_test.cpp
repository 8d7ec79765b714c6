#include "gateway/options.h"

#include <doctest/doctest.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

using namespace dmux;
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

std::string error_text(std::vector<std::string> args) {
  try {
    parse(std::move(args));
  } catch (const ConfigError& e) {
    return "--" + e.option() + ": " + e.what();
  }
  return "(no error)";
}

// A key file that removes itself; 00 01 .. 1f unless told otherwise.
struct KeyFile {
  std::string path;
  explicit KeyFile(const std::string& name, const std::string& text =
                                                "000102030405060708090a0b0c0d0e0f\n"
                                                "101112131415161718191a1b1c1d1e1f\n")
      : path("/tmp/dmuxd_options_test." + name + ".key") {
    std::ofstream(path) << text;
  }
  ~KeyFile() { std::remove(path.c_str()); }
};
}  // namespace

TEST_CASE("minimal command line gets the documented defaults") {
  const auto cl = parse({"--listen", "198.18.0.1:4500"});
  const auto& c = cl.config;
  REQUIRE(c.listen.size() == 1);
  CHECK(c.gateway_id == wire::GatewayId{0xc6120001u});
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
  const KeyFile key("bad-options");
  CHECK(error_option({"--listen", "198.18.0.1:4500", "--static-router",
                      "ipv7 1 198.18.2.2:5000 " + key.path}) == "static-router");
  CHECK(error_option({"--listen", "198.18.0.1:4500", "--static-router",
                      "ipv6 0 198.18.2.2:5000 " + key.path}) == "static-router");
  CHECK(error_option({"--listen", "198.18.0.1:4500", "--static-router",
                      "ipv6 1 198.18.2.2 " + key.path}) == "static-router");
  CHECK(error_option({"--listen", "198.18.0.1:4500", "--metrics-listen", "x"}) == "metrics-listen");
  CHECK(error_option({"--listen", "198.18.0.1:4500", "--log-level", "loud"}) == "log-level");
  CHECK(error_option({"--listen", "0.0.0.0:4500"}) == "gateway-id");
  CHECK(error_option({"--listen", "198.18.0.1:4500", "--config", "/nonexistent/dmuxd.conf"}) ==
        "config");
  CHECK(error_option({"--listen", "198.18.0.1:4500", "--bogus"}) == "bogus");
}

TEST_CASE("a config file is read and the command line overrides it") {
  const std::string path = "/tmp/dmuxd_options_test.conf";
  const KeyFile key("config-file");
  {
    std::ofstream f(path);
    f << "# example\nlisten = 198.18.0.1:4500\nlisten = 198.18.0.2:4500\nworkers = 3\n"
         "static-router = ipv6 7 198.18.2.2:5000 "
      << key.path << "\nstatic-router = ipv4-multicast 9 198.18.2.3:5001 " << key.path << "\n";
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
  const auto a =
      parse({"--listen", "198.18.0.1:4500", "--announce-prefix", "198.18.0.0/24"}).config.announce;
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

TEST_CASE("a static router's key file gives it its tunnel key, key_id 0") {
  const KeyFile key("good",
                    "  00010203 04050607 08090a0b 0c0d0e0f\n\t10111213 14151617 "
                    "18191A1B 1C1D1E1F  \n");
  const auto c = parse({"--listen", "198.18.0.1:4500", "--static-router",
                        "ipv6 7 198.18.2.2:5000 " + key.path})
                     .config;
  REQUIRE(c.static_routers.size() == 1);
  const auto& r = c.static_routers[0];
  CHECK(r.key_id == 0);
  REQUIRE(r.key);
  crypto::TunnelKeyBytes want{};
  for (std::size_t i = 0; i < want.size(); ++i) want[i] = static_cast<std::byte>(i);
  const std::array<std::byte, 8> msg{std::byte{1}};
  CHECK(r.key->tag(7, 9, msg) == crypto::TunnelKey(want).tag(7, 9, msg));
}

TEST_CASE("a static router without a usable key file is refused, saying why and naming the file") {
  const std::vector<std::string> base{"--listen", "198.18.0.1:4500", "--static-router"};
  auto with = [&](const std::string& router) {
    auto args = base;
    args.push_back(router);
    return error_text(args);
  };
  const auto missing = with("ipv6 7 198.18.2.2:5000");
  CHECK(missing.rfind("--static-router: ", 0) == 0);
  CHECK(missing.find("authenticated") != std::string::npos);
  CHECK(missing.find("dmux-provider --static-tunnel-key") != std::string::npos);
  CHECK(missing.find("openssl rand -hex 32") != std::string::npos);

  const auto absent = with("ipv6 7 198.18.2.2:5000 /nonexistent/r1.tunnel-key");
  CHECK(absent.rfind("--static-router: ", 0) == 0);
  CHECK(absent.find("/nonexistent/r1.tunnel-key") != std::string::npos);

  for (const char* text :
       {"00", "zz0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f00",
        "0x0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", ""}) {
    CAPTURE(text);
    const KeyFile bad("bad", text);
    const auto e = with("ipv6 7 198.18.2.2:5000 " + bad.path);
    CHECK(e.rfind("--static-router: ", 0) == 0);
    CHECK(e.find(bad.path) != std::string::npos);
  }
  const KeyFile key("extra");
  CHECK(error_option({"--listen", "198.18.0.1:4500", "--static-router",
                      "ipv6 7 198.18.2.2:5000 " + key.path + " more"}) == "static-router");
}

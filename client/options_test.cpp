#include "client/options.h"

#include <doctest/doctest.h>

#include <vector>

#include "common/util/config_error.h"

namespace dmux::client {
namespace {

CommandLine parse(std::vector<const char*> args) {
  args.insert(args.begin(), "dmux-client");
  return parse_command_line(static_cast<int>(args.size()), args.data());
}

std::string error_option(std::vector<const char*> args) {
  try {
    (void)parse(std::move(args));
  } catch (const ConfigError& e) {
    return e.option();
  }
  return "";
}

}  // namespace

TEST_CASE("defaults and a full command line") {
  const auto cl = parse({"--gateway", "198.18.1.1:4500"});
  CHECK(cl.config.gateway.port == 4500);
  REQUIRE(cl.config.selectors.size() == 1);
  CHECK(cl.config.tun_name == "dmuxc0");
  CHECK(cl.config.tun_mtu == 1400);
  CHECK(cl.config.phase_out);
  const auto full = parse({"--gateway", "198.18.1.1:4500", "--capture", "ipv6:provider=7",
                           "--capture", "ipv4-multicast", "--fwmark", "10", "--phase-out", "off",
                           "--solicit-interval-ms", "500", "--chain", "T"});
  CHECK(full.config.selectors.size() == 2);
  CHECK(full.config.fwmark == 10);
  CHECK(full.config.route_table == 4467);
  CHECK_FALSE(full.config.phase_out);
  CHECK(full.config.solicit_interval.count() == 500);
}

TEST_CASE("bad options are named") {
  CHECK(error_option({}) == "gateway");
  CHECK(error_option({"--gateway", "nowhere"}) == "gateway");
  CHECK(error_option({"--gateway", "198.18.1.1:4500", "--mtu", "9000"}) == "mtu");
  CHECK(error_option({"--gateway", "198.18.1.1:4500", "--capture", "ipv7"}) == "capture");
  CHECK(error_option({"--gateway", "198.18.1.1:4500", "--capture", "ipv6", "--capture", "ipv6"}) ==
        "capture");
  // One selector per protocol: tokens and RETURN checks are per protocol.
  CHECK(error_option({"--gateway", "198.18.1.1:4500", "--capture", "generic:proto=ipv6,match=-p 41",
                      "--capture", "ipv6"}) == "capture");
  CHECK(error_option({"--gateway", "198.18.1.1:4500", "--capture",
                      "generic:proto=exp-0x8001,match=-p 253", "--capture",
                      "generic:proto=exp-0x8002,match=-d 198.18.0.0/15"}) == "capture");
  CHECK(error_option({"--gateway", "198.18.1.1:4500", "--route-table", "40000"}) == "route-table");
  CHECK(error_option({"--gateway", "198.18.1.1:4500", "--phase-out", "maybe"}) == "phase-out");
  CHECK(error_option({"--gateway", "198.18.1.1:4500", "--bogus"}) == "bogus");
}

TEST_CASE("--help needs nothing else") { CHECK(parse({"--help"}).help); }

}  // namespace dmux::client

#include "common/app/standard_options.h"

#include <doctest/doctest.h>

#include <sstream>
#include <string>
#include <vector>

namespace dmux::app {
namespace {

namespace po = boost::program_options;

struct Config {
  std::string control_socket;
  std::string control_group;
  std::optional<net::Endpoint> metrics_listen;
  log::Level log_level = log::Level::kInfo;
};

Config parse(std::vector<const char*> args, const OperatorDefaults& defaults = {}) {
  args.insert(args.begin(), "prog");
  po::options_description all;
  po::options_description op("Operator");
  add_operator_options(op, defaults);
  all.add(program_options("validate")).add(op);
  po::variables_map vm;
  po::store(po::parse_command_line(static_cast<int>(args.size()), args.data(), all), vm);
  po::notify(vm);
  Config c;
  read_operator_options(vm, c);
  return c;
}

TEST_CASE("operator options: each daemon's defaults") {
  const Config none = parse({});
  CHECK(none.control_socket.empty());
  CHECK_FALSE(none.metrics_listen);
  CHECK(none.log_level == log::Level::kInfo);
  const Config gw =
      parse({}, {.control_socket = "/run/ipdmux/dmuxd.sock", .metrics_listen = "127.0.0.1:9750"});
  CHECK(gw.control_socket == "/run/ipdmux/dmuxd.sock");
  REQUIRE(gw.metrics_listen);
  CHECK(gw.metrics_listen->to_string() == "127.0.0.1:9750");
}

TEST_CASE("operator options: values given, and bad ones named") {
  const Config c = parse({"--control-socket", "/tmp/x.sock", "--metrics-listen", "127.0.0.1:0",
                          "--log-level", "debug"});
  CHECK(c.control_socket == "/tmp/x.sock");
  CHECK(c.metrics_listen);
  CHECK(c.log_level == log::Level::kDebug);
  CHECK_FALSE(
      parse({"--metrics-listen", "off"}, {.metrics_listen = "127.0.0.1:9751"}).metrics_listen);
  try {
    parse({"--log-level", "loud"});
    FAIL("accepted");
  } catch (const ConfigError& e) {
    CHECK(e.option() == "log-level");
  }
  CHECK_THROWS_AS(parse({"--metrics-listen", "nowhere"}), ConfigError);
  CHECK_THROWS_AS(parse({"--control-socket", ""}), ConfigError);
}

TEST_CASE("program options: the help names every standard option") {
  po::options_description op;
  add_operator_options(op, {});
  std::ostringstream help;
  help << program_options("validate the options") << op;
  for (const char* name : {"--help", "--version", "--config", "--check-config", "--control-socket",
                           "--control-group", "--metrics-listen", "--log-level"})
    CHECK(help.str().find(name) != std::string::npos);
}

}  // namespace
}  // namespace dmux::app

// dmuxd's registration options (gateway/options.cpp): defaults, values and the refusals.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "gateway/options.h"

using namespace dmux;
using namespace dmux::gateway;

namespace {

// The CA file only has to be readable for parsing: any file will do.
std::vector<std::string> base() {
  return {"dmuxd",           "--listen",  "198.18.0.1:4500", "--registration-listen",
          "198.18.0.1:4501", "--ca-cert", "/etc/hostname"};
}

CommandLine parse(std::vector<std::string> args) {
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  return parse_command_line(static_cast<int>(argv.size()), argv.data());
}

std::string refused_option(std::vector<std::string> extra) {
  auto args = base();
  args.insert(args.end(), extra.begin(), extra.end());
  try {
    parse(args);
  } catch (const ConfigError& e) {
    return e.option();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("registration defences: defaults") {
  const auto cl = parse(base());
  REQUIRE(cl.config.registration);
  const registry::HandlerConfig& h = cl.config.registration->handler;
  CHECK(h.gateway_id == wire::GatewayId{0xc6120001u});
  CHECK(h.rate.per_second == 5);
  CHECK(h.rate.burst == 10);
  CHECK(h.rate.max_sources == 16384);
  CHECK(h.signature_rate.per_second == 2000);
  CHECK(h.signature_rate.burst == 100);
  CHECK(h.cookie_rate.per_second == 50000);
  CHECK(h.cookie_valid == std::chrono::milliseconds(60000));
  CHECK(h.hint_rate.per_second == 1000);
}

TEST_CASE("registration defences: values and refusals") {
  auto args = base();
  for (const char* a : {"--registration-signature-rate", "500", "--registration-cookie-rate", "10",
                        "--registration-cookie-valid-ms", "250", "--registration-hint-rate", "20",
                        "--registration-max-sources", "7"}) {
    args.emplace_back(a);
  }
  const registry::HandlerConfig h = parse(args).config.registration->handler;
  CHECK(h.signature_rate.per_second == 500);
  CHECK(h.signature_rate.burst == 25);
  CHECK(h.cookie_rate.burst == 1);  // at least one
  CHECK(h.cookie_valid == std::chrono::milliseconds(250));
  CHECK(h.hint_rate.per_second == 20);
  CHECK(h.rate.max_sources == 7);
  CHECK(refused_option({"--registration-signature-rate", "0"}) == "registration-signature-rate");
  CHECK(refused_option({"--registration-cookie-rate", "0.5"}) == "registration-cookie-rate");
  CHECK(refused_option({"--registration-hint-rate", "0"}) == "registration-hint-rate");
  CHECK(refused_option({"--registration-cookie-valid-ms", "99"}) == "registration-cookie-valid-ms");
  CHECK(refused_option({"--registration-max-sources", "0"}) == "registration-max-sources");
}

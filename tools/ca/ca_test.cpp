#include <doctest/doctest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <vector>

#include "tests/temp_dir.h"
#include "tools/ca/commands.h"
#include "tools/ca/options.h"

namespace dmux::ca {
using dmux::testing::TempDir;

namespace {

CommandLine parse(std::vector<const char*> args) {
  args.insert(args.begin(), "dmux-ca");
  return parse_command_line(static_cast<int>(args.size()), args.data());
}

TEST_CASE("command line: issue-provider") {
  const auto cl = parse({"issue-provider", "--dir", "ca", "--provider-id", "7", "--protocols",
                         "ipv6,2", "--protocols", "0x8001", "--out", "r1"});
  REQUIRE_FALSE(cl.help);
  const auto& c = std::get<IssueProviderConfig>(cl.config);
  CHECK(c.dir == "ca");
  CHECK(c.provider_id == 7);
  CHECK(c.protocols == std::vector<std::uint16_t>{1, 2, 0x8001});
  CHECK(c.out == "r1");
  CHECK(c.validity.not_before_offset_s == -60);
  CHECK(c.validity.length_s == 365 * kSecondsPerDay);

  const auto t = parse({"issue-provider", "-d", "ca", "--provider-id", "7", "--protocols", "ipv6",
                        "-o", "r1", "--not-before-offset", "-7200", "--valid-seconds", "3600"});
  const auto& v = std::get<IssueProviderConfig>(t.config).validity;
  CHECK(v.not_before_offset_s == -7200);
  CHECK(v.length_s == 3600);

  CHECK_THROWS_AS(parse({"issue-provider", "--dir", "ca", "--provider-id", "0", "--protocols",
                         "ipv6", "--out", "r"}),
                  UsageError);
  CHECK_THROWS_AS(parse({"issue-provider", "--dir", "ca", "--provider-id", "-1", "--protocols",
                         "ipv6", "--out", "r"}),
                  UsageError);
  CHECK_THROWS_AS(parse({"issue-provider", "--dir", "ca", "--provider-id", "7", "--protocols",
                         "ipv5", "--out", "r"}),
                  UsageError);
  CHECK_THROWS_AS(parse({"issue-provider", "--dir", "ca", "--provider-id", "7", "--protocols",
                         "ipv6,", "--out", "r"}),
                  UsageError);
  CHECK_THROWS_AS(parse({"issue-provider", "--dir", "ca", "--provider-id", "7", "--out", "r"}),
                  UsageError);
  CHECK_THROWS_AS(parse({"issue-provider", "--dir", "ca", "--provider-id", "7", "--protocols",
                         "ipv6", "--out", "r", "--days", "0"}),
                  UsageError);
}

TEST_CASE("command line: the other commands, help and mistakes") {
  const auto g =
      parse({"issue-gateway", "--dir", "ca", "--gateway-id", "198.18.0.1", "--out", "g"});
  CHECK(std::get<IssueGatewayConfig>(g.config).gateway_id == 0xc6120001u);
  const auto n =
      parse({"issue-gateway", "--dir", "ca", "--gateway-id", "3323068417", "--out", "g"});
  CHECK(std::get<IssueGatewayConfig>(n.config).gateway_id == 0xc6120001u);
  CHECK_THROWS_AS(parse({"issue-gateway", "--dir", "ca", "--gateway-id", "0.0.0.0", "--out", "g"}),
                  UsageError);

  const auto i = parse({"init", "--dir", "ca"});
  CHECK(std::get<InitConfig>(i.config).name == "IPdmux CA");
  CHECK(std::get<InitConfig>(i.config).days == 3650);
  CHECK(std::get<ShowConfig>(parse({"show", "x.crt"}).config).cert == "x.crt");
  const auto v = parse({"verify", "--dir", "ca", "x.crt", "--role", "gateway"});
  CHECK(std::get<VerifyConfig>(v.config).role == crypto::Role::kGateway);

  CHECK(parse({"--help"}).help);
  CHECK(parse({"issue-provider", "--help"}).help_text.find("--valid-seconds") != std::string::npos);
  CHECK_THROWS_AS(parse({}), UsageError);
  CHECK_THROWS_AS(parse({"sign"}), UsageError);
  CHECK_THROWS_AS(parse({"show"}), UsageError);
  CHECK_THROWS_AS(parse({"init"}), UsageError);
  CHECK_THROWS_AS(parse({"init", "--dir", "ca", "extra"}), UsageError);
  CHECK_THROWS_WITH(parse({"verify", "--dir", "ca", "--role", "ca", "x.crt"}),
                    doctest::Contains("--role"));
}

TEST_CASE("init, issue, show and verify end to end") {
  TempDir tmp("dmux-ca");
  const std::string dir = tmp.file("ca");
  std::ostringstream out;
  run_init(InitConfig{.dir = dir, .name = "Test CA", .days = 30}, out);
  struct stat st {};
  REQUIRE(::stat((dir + "/ca.key").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  REQUIRE(::stat(dir.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  CHECK_THROWS_AS(run_init(InitConfig{.dir = dir}, out), ToolError);

  IssueProviderConfig p;
  p.dir = dir;
  p.provider_id = 7;
  p.protocols = {2, 1};
  p.out = tmp.file("router");
  run_issue_provider(p, out);
  CHECK(out.str().find("warning: the certificate outlives the CA") != std::string::npos);
  CHECK_THROWS_AS(run_issue_provider(p, out), ToolError);  // never overwrites

  std::ostringstream shown;
  run_show(ShowConfig{tmp.file("router.crt")}, shown);
  CHECK(shown.str().find("provider 7, protocols ipv6 (1), ipv4-multicast (2)") !=
        std::string::npos);
  CHECK(shown.str().find("CN=provider-7") != std::string::npos);

  const auto now = std::time(nullptr);
  std::ostringstream verdict;
  CHECK(run_verify(VerifyConfig{.dir = dir, .cert = tmp.file("router.crt"), .role = {}}, now,
                   verdict));
  CHECK_FALSE(run_verify(
      VerifyConfig{.dir = dir, .cert = tmp.file("router.crt"), .role = crypto::Role::kGateway}, now,
      verdict));
  CHECK(verdict.str().find("REFUSED: wrong-role") != std::string::npos);
  CHECK_FALSE(run_verify(VerifyConfig{.dir = dir, .cert = tmp.file("router.crt"), .role = {}},
                         now + 31 * kSecondsPerDay, verdict));
  CHECK(verdict.str().find("REFUSED: expired") != std::string::npos);
  // The CA's own certificate is not a credential.
  CHECK_FALSE(
      run_verify(VerifyConfig{.dir = dir, .cert = dir + "/ca.crt", .role = {}}, now, verdict));

  IssueGatewayConfig g;
  g.dir = dir;
  g.gateway_id = 0xc6120001;
  g.out = tmp.file("gw");
  g.validity.not_before_offset_s = -7200;
  g.validity.length_s = 3600;
  run_issue_gateway(g, out);
  CHECK_FALSE(
      run_verify(VerifyConfig{.dir = dir, .cert = tmp.file("gw.crt"), .role = {}}, now, verdict));

  // A certificate from another CA.
  const std::string other = tmp.file("other");
  run_init(InitConfig{.dir = other, .name = "Test CA", .days = 30}, out);
  std::ostringstream foreign;
  CHECK_FALSE(run_verify(VerifyConfig{.dir = other, .cert = tmp.file("router.crt"), .role = {}},
                         now, foreign));
  CHECK(foreign.str().find("REFUSED: untrusted") != std::string::npos);

  CHECK_THROWS_AS(run_issue_provider(IssueProviderConfig{.dir = tmp.file("none"),
                                                         .provider_id = 1,
                                                         .protocols = {1},
                                                         .name = "",
                                                         .validity = {},
                                                         .out = tmp.file("x")},
                                     out),
                  ToolError);
}

}  // namespace
}  // namespace dmux::ca

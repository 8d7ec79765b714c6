// dmux-ca: the operator's certificate authority. The tool skeleton (common/app/tool.h) with
// dmux-ca's command line and its commands.
#include <ctime>
#include <iostream>
#include <variant>

#include "common/util/overloaded.h"
#include "tools/ca/commands.h"
#include "tools/ca/options.h"

namespace {

// True if the command did what was asked (verify: the certificate is good).
bool run(const dmux::ca::Config& config) {
  using namespace dmux::ca;
  return std::visit(
      dmux::Overloaded{
          [](const InitConfig& c) {
            run_init(c, std::cout);
            return true;
          },
          [](const IssueProviderConfig& c) {
            run_issue_provider(c, std::cout);
            return true;
          },
          [](const IssueGatewayConfig& c) {
            run_issue_gateway(c, std::cout);
            return true;
          },
          [](const ShowConfig& c) {
            run_show(c, std::cout);
            return true;
          },
          [](const VerifyConfig& c) { return run_verify(c, std::time(nullptr), std::cout); },
          [](const RevokeConfig& c) {
            run_revoke(c, std::cout);
            return true;
          },
          [](const CrlConfig& c) {
            run_crl(c, std::cout);
            return true;
          },
      },
      config);
}

}  // namespace

int main(int argc, char* argv[]) {
  return dmux::app::run_tool<dmux::ca::CommandLine>(
      argc, argv,
      {.name = "dmux-ca",
       .parse = dmux::ca::parse_command_line,
       .run = [](const dmux::ca::CommandLine& cl) { return run(cl.config) ? 0 : 1; }});
}

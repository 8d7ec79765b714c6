// dmux-ca: the operator's certificate authority. Parses the command line and runs one command.
#include <cstdio>
#include <ctime>
#include <exception>
#include <iostream>
#include <variant>

#include "tools/ca/commands.h"
#include "tools/ca/options.h"

namespace {

template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

// True if the command did what was asked (verify: the certificate is good).
bool run(const dmux::ca::Config& config) {
  using namespace dmux::ca;
  return std::visit(
      Overloaded{
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
  dmux::ca::CommandLine cl;
  try {
    cl = dmux::ca::parse_command_line(argc, argv);
  } catch (const dmux::ca::UsageError& e) {
    std::fprintf(stderr, "dmux-ca: error: %s\n", e.what());
    return 2;
  }
  if (cl.help) {
    std::fputs(cl.help_text.c_str(), stdout);
    return 0;
  }
  try {
    return run(cl.config) ? 0 : 1;
  } catch (const std::exception& e) {
    std::cout.flush();
    std::fprintf(stderr, "dmux-ca: error: %s\n", e.what());
    return 1;
  }
}

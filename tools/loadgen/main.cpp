// dmux-loadgen: the tool skeleton (common/app/tool.h); builds the subcommand's component from its
// config, runs it, prints its report.
#include <cstdio>
#include <string>
#include <variant>

#include "common/util/overloaded.h"
#include "tools/loadgen/options.h"
#include "tools/loadgen/report.h"
#include "tools/loadgen/stop_signal.h"

namespace {

// The report line, and why the run failed ("" if it did not).
struct Outcome {
  std::string line;
  std::string failure;
};

Outcome run(const dmux::loadgen::Config& config) {
  using namespace dmux::loadgen;
  return std::visit(
      dmux::Overloaded{
          [](const SendConfig& c) {
            return Outcome{to_json_line(c, Sender(c).run()), ""};
          },
          [](const SinkConfig& c) {
            const SinkReport r = Sink(c).run();
            return Outcome{
                to_json_line(c, r),
                r.bad_tag == 0 ? "" : std::to_string(r.bad_tag) + " TUNNELs had a wrong tag"};
          },
          [](const PingConfig& c) {
            return Outcome{to_json_line(c, Pinger(c).run()), ""};
          },
          [](const EchoConfig& c) {
            return Outcome{to_json_line(c, Echoer(c).run()), ""};
          },
      },
      config);
}

}  // namespace

int main(int argc, char* argv[]) {
  return dmux::app::run_tool<dmux::loadgen::CommandLine>(
      argc, argv,
      {.name = "dmux-loadgen",
       .parse = dmux::loadgen::parse_command_line,
       .run = [](const dmux::loadgen::CommandLine& cl) {
         dmux::loadgen::install_stop_handlers();
         const Outcome outcome = run(cl.config);
         std::printf("%s\n", outcome.line.c_str());
         return outcome.failure.empty() ? 0
                                        : dmux::app::tool_error("dmux-loadgen", outcome.failure, 1);
       }});
}

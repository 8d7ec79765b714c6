// dmux-loadgen: builds the subcommand's component from its config, runs it, prints its report.
#include <cstdio>
#include <exception>
#include <string>
#include <variant>

#include "tools/loadgen/options.h"
#include "tools/loadgen/report.h"
#include "tools/loadgen/stop_signal.h"

namespace {

template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

// The report line, and why the run failed ("" if it did not).
struct Outcome {
  std::string line;
  std::string failure;
};

Outcome run(const dmux::loadgen::Config& config) {
  using namespace dmux::loadgen;
  return std::visit(
      Overloaded{
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
  dmux::loadgen::CommandLine cl;
  try {
    cl = dmux::loadgen::parse_command_line(argc, argv);
  } catch (const dmux::loadgen::UsageError& e) {
    std::fprintf(stderr, "dmux-loadgen: %s\n", e.what());
    return 2;
  }
  if (cl.help) {
    std::fputs(cl.help_text.c_str(), stdout);
    return 0;
  }
  dmux::loadgen::install_stop_handlers();
  try {
    const Outcome outcome = run(cl.config);
    std::printf("%s\n", outcome.line.c_str());
    std::fflush(stdout);
    if (!outcome.failure.empty()) {
      std::fprintf(stderr, "dmux-loadgen: %s\n", outcome.failure.c_str());
      return 1;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dmux-loadgen: %s\n", e.what());
    return 1;
  }
  return 0;
}

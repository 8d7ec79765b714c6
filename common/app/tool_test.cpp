#include "common/app/tool.h"

#include <doctest/doctest.h>

#include <stdexcept>
#include <string>

namespace dmux::app {
namespace {

struct CommandLine : ToolFlags {
  std::string command;
};

// A tool whose parse reads argv[1]: "help", "version", "usage", "option", or a command that
// run() answers: "ok" (0), "refused" (1) or "throws" (1).
int run(const char* arg) {
  const char* argv[] = {"tool", arg, nullptr};
  return run_tool<CommandLine>(2, const_cast<char**>(argv),
                               {.name = "tool",
                                .parse =
                                    [](int, const char* const* v) {
                                      CommandLine cl;
                                      cl.command = v[1];
                                      if (cl.command == "usage")
                                        throw UsageError("no such command");
                                      if (cl.command == "option") throw ConfigError("opt", "bad");
                                      cl.help = cl.command == "help";
                                      cl.version = cl.command == "version";
                                      return cl;
                                    },
                                .run =
                                    [](const CommandLine& cl) {
                                      if (cl.command == "throws")
                                        throw std::runtime_error("failed");
                                      return cl.command == "ok" ? 0 : 1;
                                    }});
}

TEST_CASE("run_tool: exit codes of help, version, usage errors and failures") {
  CHECK(run("help") == 0);
  CHECK(run("version") == 0);
  CHECK(run("usage") == 2);
  CHECK(run("option") == 2);
  CHECK(run("ok") == 0);
  CHECK(run("refused") == 1);
  CHECK(run("throws") == 1);
}

}  // namespace
}  // namespace dmux::app

#include "common/app/program.h"

#include <doctest/doctest.h>

#include <stdexcept>
#include <string>

#include "common/app/daemon_wiring.h"

namespace dmux::app {
namespace {

struct Config {
  log::Level log_level = log::Level::kInfo;
  int value = 0;
};

struct CommandLine : StandardFlags {
  Config config;
  bool own = false;
};

// A program whose parse reads argv[1]: "help", "version", "own", "check", "bad", "bad-file",
// "fails" or "run"; `ran` tells what its run() did.
int run(const char* arg, std::string& ran) {
  const char* argv[] = {"prog", arg, nullptr};
  return run_program<CommandLine, Config>(
      2, const_cast<char**>(argv),
      {.name = "prog",
       .parse =
           [](int, const char* const* v) {
             CommandLine cl;
             const std::string a = v[1];
             if (a == "bad") throw ConfigError("opt", "bad value");
             cl.help = a == "help";
             cl.version = a == "version";
             cl.own = a == "own";
             cl.check_config = a == "check";
             cl.config.value = a == "bad-file" ? -1 : a == "fails" ? -2 : 1;
             return cl;
           },
       .own_action = [](const CommandLine& cl) { return cl.own; },
       .load =
           [](CommandLine& cl) {
             if (cl.config.value == -1) throw std::runtime_error("cannot read the file");
             return cl.config;
           },
       .summary = [](const Config&) { return std::string("config OK"); },
       .run =
           [&ran](Config& c) {
             if (c.value == -2) throw std::runtime_error("cannot bind");
             ran = "ran";
           }});
}

TEST_CASE("run_program: exit codes of the standard options and of failures") {
  std::string ran;
  CHECK(run("help", ran) == 0);
  CHECK(run("version", ran) == 0);
  CHECK(run("own", ran) == 0);
  CHECK(run("check", ran) == 0);
  CHECK(ran.empty());  // none of these runs the App
  CHECK(run("bad", ran) == 2);
  CHECK(run("bad-file", ran) == 2);
  CHECK(run("fails", ran) == 1);
  CHECK(ran.empty());
  CHECK(run("run", ran) == 0);
  CHECK(ran == "ran");
}

TEST_CASE("signal_name names the stop and reload signals") {
  CHECK(std::string(signal_name(SIGTERM)) == "SIGTERM");
  CHECK(std::string(signal_name(SIGINT)) == "SIGINT");
  CHECK(std::string(signal_name(SIGHUP)) == "SIGHUP");
}

}  // namespace
}  // namespace dmux::app

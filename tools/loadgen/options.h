// dmux-loadgen's command line: `dmux-loadgen SUBCOMMAND [options]`. The only code that knows
// Boost.Program_options; every option's name is written once, in options.cpp.
#pragma once

#include <stdexcept>
#include <string>
#include <variant>

#include "tools/loadgen/config.h"

namespace dmux::loadgen {

// A bad command line. what() is one line naming the subcommand and option; main prints it and
// exits 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

using Config = std::variant<SendConfig, SinkConfig, PingConfig, EchoConfig>;

struct CommandLine {
  Config config;
  bool help = false;      // print help_text and exit 0
  std::string help_text;  // for the subcommand given, or the overview
};

// Throws UsageError.
CommandLine parse_command_line(int argc, const char* const argv[]);

}  // namespace dmux::loadgen

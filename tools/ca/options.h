// dmux-ca's command line: `dmux-ca COMMAND [options]`. The only code that knows
// Boost.Program_options; every option's name is written once, in options.cpp.
#pragma once

#include <stdexcept>
#include <string>

#include "tools/ca/config.h"

namespace dmux::ca {

// A bad command line. what() is one line naming the command and option; main prints it and
// exits 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct CommandLine {
  Config config;
  bool help = false;      // print help_text and exit 0
  std::string help_text;  // for the command given, or the overview
};

// Throws UsageError.
CommandLine parse_command_line(int argc, const char* const argv[]);

}  // namespace dmux::ca

// dmux-ca's command line: `dmux-ca COMMAND [options]`. The only code that knows
// Boost.Program_options; every option's name is written once, in options.cpp.
#pragma once

#include <string>

#include "common/app/tool.h"
#include "tools/ca/config.h"

namespace dmux::ca {

// A bad command line (the tool skeleton prints it and exits 2).
using UsageError = app::UsageError;

struct CommandLine : app::ToolFlags {
  Config config;
};

// Throws UsageError.
CommandLine parse_command_line(int argc, const char* const argv[]);

}  // namespace dmux::ca

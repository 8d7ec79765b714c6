// dmux-loadgen's command line: `dmux-loadgen SUBCOMMAND [options]`. The only code that knows
// Boost.Program_options; every option's name is written once, in options.cpp.
#pragma once

#include <string>
#include <variant>

#include "common/app/tool.h"
#include "tools/loadgen/config.h"

namespace dmux::loadgen {

// A bad command line (the tool skeleton prints it and exits 2).
using UsageError = app::UsageError;

using Config = std::variant<SendConfig, SinkConfig, PingConfig, EchoConfig>;

struct CommandLine : app::ToolFlags {
  Config config;
};

// Throws UsageError.
CommandLine parse_command_line(int argc, const char* const argv[]);

}  // namespace dmux::loadgen

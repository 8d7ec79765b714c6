// rendezvous-router's command line (Boost.Program_options, through common/app's standard options).
#pragma once

#include <ipdmux/router.h>

#include "common/app/program.h"
#include "triggers.h"

namespace rendezvous {

struct Config {
  ipdmux::sdk::RouterOptions router;  // what the SDK's Router is built from
  TriggerLimits limits;
  dmux::log::Level log_level = dmux::log::Level::kInfo;
};

struct CommandLine : dmux::app::StandardFlags {
  Config config;
};

// Parses and validates argv (the SDK's Router checks the files when it is built). Throws
// dmux::ConfigError.
CommandLine parse_command_line(int argc, const char* const argv[]);

}  // namespace rendezvous

// dmux-healthcheck's command line. The only code of the program that knows Boost.Program_options.
#pragma once

#include "bgp-glue/healthcheck/healthcheck_config.h"
#include "common/app/program.h"

namespace dmux::bgp_glue {

struct CommandLine : app::StandardFlags {
  HealthcheckConfig config;
};

// Parses and validates argv (not the key file: main's load step reads it). Throws ConfigError.
CommandLine parse_healthcheck_options(int argc, const char* const argv[]);

}  // namespace dmux::bgp_glue

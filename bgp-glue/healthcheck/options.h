// dmux-healthcheck's command line. The only code of the program that knows Boost.Program_options.
#pragma once

#include <optional>
#include <string>

#include "bgp-glue/healthcheck/healthcheck_config.h"

namespace dmux::bgp_glue {

// The config, or nullopt after printing help. Throws std::runtime_error naming a bad option.
std::optional<HealthcheckConfig> parse_healthcheck_options(int argc, const char* const argv[]);

}  // namespace dmux::bgp_glue

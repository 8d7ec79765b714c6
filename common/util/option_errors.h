// Turns Boost.Program_options exceptions into ConfigError naming the option. Only the options
// code of each program's main includes this.
#pragma once

#include <boost/program_options/errors.hpp>
#include <string>

#include "common/util/config_error.h"

namespace dmux {

// Call from a catch block: rethrows the exception in flight as a ConfigError.
[[noreturn]] inline void rethrow_as_config_error() {
  try {
    throw;
  } catch (const ConfigError&) {
    throw;
  } catch (const boost::program_options::error_with_option_name& e) {
    std::string name = e.get_option_name();
    while (!name.empty() && name.front() == '-') name.erase(0, 1);
    throw ConfigError(name.empty() ? "command line" : name, e.what());
  } catch (const boost::program_options::error& e) {
    throw ConfigError("command line", e.what());
  }
}

}  // namespace dmux

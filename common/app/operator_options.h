// Checks of the options every daemon offers its operator alike (--control-socket, --control-group,
// --metrics-listen, --log-level), so each program's options.cpp spells only the option's name.
// Start-up code: throws ConfigError naming the option.
#pragma once

#include <optional>
#include <string>

#include "common/control/socket_group.h"
#include "common/net/endpoint.h"
#include "common/util/config_error.h"
#include "common/util/log.h"

namespace dmux {

// `group` if a group of that name exists.
inline std::string checked_control_group(const std::string& group, const char* option) {
  if (!control::find_group(group)) throw ConfigError(option, "no group named '" + group + "'");
  return group;
}

// A control socket path: 1-100 characters (sun_path has room for 107).
inline std::string checked_control_socket(const std::string& path, const char* option) {
  if (path.empty() || path.size() > 100) throw ConfigError(option, "path must be 1-100 characters");
  return path;
}

inline log::Level checked_log_level(const std::string& text, const char* option) {
  log::Level level{};
  if (!log::parse_level(text, level))
    throw ConfigError(option, "'" + text + "' is not one of debug, info, warn, error");
  return level;
}

// "off" (nullopt) or IPV4:PORT (port 0: any).
inline std::optional<net::Endpoint> checked_metrics_listen(const std::string& text,
                                                           const char* option) {
  if (text == "off") return std::nullopt;
  const auto ep = net::parse_endpoint(text, true);
  if (!ep) throw ConfigError(option, "'" + text + "' is not IPV4:PORT or off");
  return ep;
}

}  // namespace dmux

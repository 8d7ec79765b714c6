// Checks of the options every daemon offers its operator alike (--control-group,
// --metrics-listen), so each program's options.cpp spells only the option's name. Start-up
// code: throws ConfigError naming the option.
#pragma once

#include <optional>
#include <string>

#include "common/control/socket_group.h"
#include "common/net/endpoint.h"
#include "common/util/config_error.h"

namespace dmux {

// `group` if a group of that name exists.
inline std::string checked_control_group(const std::string& group, const char* option) {
  if (!control::find_group(group)) throw ConfigError(option, "no group named '" + group + "'");
  return group;
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

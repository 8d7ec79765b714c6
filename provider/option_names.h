// Every dmux-provider option's name, written once (the options every agent shares, in
// agent/agent_options.h). options.cpp declares the options with these;
// code that reports a problem with an option (ConfigError) names it with these.
#pragma once

#include "agent/agent_options.h"

namespace dmux::provider::opt {

inline constexpr const char* kHelp = "help";
inline constexpr const char* kVersion = "version";
inline constexpr const char* kCheckConfig = "check-config";
inline constexpr const char* kConfig = "config";
inline constexpr const char* kGateway = "gateway";
inline constexpr const char* kListen = "listen";
inline constexpr const char* kCert = "cert";
inline constexpr const char* kKey = "key";
inline constexpr const char* kProtocol = "protocol";
inline constexpr const char* kClientPrefix = "client-prefix";
inline constexpr const char* kTun = "tun";
inline constexpr const char* kReturnKey = agent::opt::kReturnKey;
inline constexpr const char* kStaticTunnelKey = agent::opt::kStaticTunnelKey;
inline constexpr const char* kAllowDestination = agent::opt::kAllowDestination;
inline constexpr const char* kControlSocket = "control-socket";
inline constexpr const char* kControlGroup = "control-group";
inline constexpr const char* kMetricsListen = "metrics-listen";
inline constexpr const char* kLogLevel = "log-level";

}  // namespace dmux::provider::opt

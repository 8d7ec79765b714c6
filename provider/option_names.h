// Every dmux-provider option's name, written once (the options every agent shares, in
// agent/agent_options.h). options.cpp declares the options with these;
// code that reports a problem with an option (ConfigError) names it with these.
#pragma once

#include "agent/agent_options.h"
#include "common/app/option_names.h"

namespace dmux::provider::opt {

inline constexpr const char* kHelp = app::opt::kHelp;
inline constexpr const char* kVersion = app::opt::kVersion;
inline constexpr const char* kCheckConfig = app::opt::kCheckConfig;
inline constexpr const char* kConfig = app::opt::kConfig;
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
inline constexpr const char* kControlSocket = app::opt::kControlSocket;
inline constexpr const char* kControlGroup = app::opt::kControlGroup;
inline constexpr const char* kMetricsListen = app::opt::kMetricsListen;
inline constexpr const char* kLogLevel = app::opt::kLogLevel;

}  // namespace dmux::provider::opt

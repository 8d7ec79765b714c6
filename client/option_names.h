// Every option name of dmux-client, written once (command line and config file keys).
#pragma once

#include "common/app/option_names.h"

namespace dmux::client::opt {

inline constexpr const char* kHelp = app::opt::kHelp;
inline constexpr const char* kVersion = app::opt::kVersion;
inline constexpr const char* kCheckConfig = app::opt::kCheckConfig;
inline constexpr const char* kCleanup = "cleanup";
inline constexpr const char* kConfig = app::opt::kConfig;
inline constexpr const char* kGateway = "gateway";
inline constexpr const char* kBind = "bind";
inline constexpr const char* kCapture = "capture";
inline constexpr const char* kTun = "tun";
inline constexpr const char* kMtu = "mtu";
inline constexpr const char* kOffload = "offload";
inline constexpr const char* kChain = "chain";
inline constexpr const char* kFwmark = "fwmark";
inline constexpr const char* kRouteTable = "route-table";
inline constexpr const char* kRoute = "route";
inline constexpr const char* kPhaseOut = "phase-out";
inline constexpr const char* kSolicitInterval = "solicit-interval-ms";
inline constexpr const char* kControlSocket = app::opt::kControlSocket;
inline constexpr const char* kControlGroup = app::opt::kControlGroup;
inline constexpr const char* kMetricsListen = app::opt::kMetricsListen;
inline constexpr const char* kLogLevel = app::opt::kLogLevel;

}  // namespace dmux::client::opt

// Every option name of dmux-client, written once (command line and config file keys).
#pragma once

namespace dmux::client::opt {

inline constexpr const char* kHelp = "help";
inline constexpr const char* kVersion = "version";
inline constexpr const char* kCheckConfig = "check-config";
inline constexpr const char* kCleanup = "cleanup";
inline constexpr const char* kConfig = "config";
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
inline constexpr const char* kControlSocket = "control-socket";
inline constexpr const char* kControlGroup = "control-group";
inline constexpr const char* kMetricsListen = "metrics-listen";
inline constexpr const char* kLogLevel = "log-level";

}  // namespace dmux::client::opt

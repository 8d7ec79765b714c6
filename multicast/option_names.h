// Every dmux-mcast option's name, written once (the options every agent shares, in
// agent/agent_options.h). options.cpp declares the options with these;
// code that reports a problem with an option (ConfigError) names it with these.
#pragma once

#include "agent/agent_options.h"

namespace dmux::multicast::opt {

inline constexpr const char* kHelp = "help";
inline constexpr const char* kVersion = "version";
inline constexpr const char* kCheckConfig = "check-config";
inline constexpr const char* kConfig = "config";
inline constexpr const char* kGateway = "gateway";
inline constexpr const char* kListen = "listen";
inline constexpr const char* kCert = "cert";
inline constexpr const char* kKey = "key";
inline constexpr const char* kPeer = "peer";
inline constexpr const char* kPeerKey = "peer-key";
inline constexpr const char* kMembershipTimeout = "membership-timeout-ms";
inline constexpr const char* kQueryInterval = "query-interval-ms";
inline constexpr const char* kQueryResponse = "query-response-ms";
inline constexpr const char* kSummaryInterval = "summary-interval-ms";
inline constexpr const char* kPeerDead = "peer-dead-ms";
inline constexpr const char* kMaxGroupsPerClient = "max-groups-per-client";
inline constexpr const char* kMaxClientsPerAddress = "max-clients-per-address";
inline constexpr const char* kMaxMembersPerGroup = "max-members-per-group";
inline constexpr const char* kMaxGroups = "max-groups";
inline constexpr const char* kMaxClients = "max-clients";
inline constexpr const char* kReturnKey = agent::opt::kReturnKey;
inline constexpr const char* kStaticTunnelKey = agent::opt::kStaticTunnelKey;
inline constexpr const char* kAllowDestination = agent::opt::kAllowDestination;
inline constexpr const char* kControlSocket = "control-socket";
inline constexpr const char* kControlGroup = "control-group";
inline constexpr const char* kMetricsListen = "metrics-listen";
inline constexpr const char* kLogLevel = "log-level";

}  // namespace dmux::multicast::opt

// Every dmux-mcast option's name, written once (the options every agent shares, in
// agent/agent_options.h). options.cpp declares the options with these;
// code that reports a problem with an option (ConfigError) names it with these.
#pragma once

#include "agent/agent_options.h"
#include "common/app/option_names.h"

namespace dmux::multicast::opt {

inline constexpr const char* kHelp = app::opt::kHelp;
inline constexpr const char* kVersion = app::opt::kVersion;
inline constexpr const char* kCheckConfig = app::opt::kCheckConfig;
inline constexpr const char* kConfig = app::opt::kConfig;
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
inline constexpr const char* kControlSocket = app::opt::kControlSocket;
inline constexpr const char* kControlGroup = app::opt::kControlGroup;
inline constexpr const char* kMetricsListen = app::opt::kMetricsListen;
inline constexpr const char* kLogLevel = app::opt::kLogLevel;

}  // namespace dmux::multicast::opt

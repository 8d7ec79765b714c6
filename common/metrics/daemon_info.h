// What every IPdmux daemon exports about itself besides its own counters: build, start time,
// certificate expiry and reload outcome (dmux_build_info and friends, docs/operations.md
// "Metrics"). A plain struct the daemon fills; its metrics exporter turns it into families
// (daemon_families.h), so core code never sees prometheus-cpp.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace dmux::metrics {

struct CertificateExpiry {
  std::string certificate;       // label: "ca", "mesh", "provider"
  double not_after_seconds = 0;  // Unix time the certificate stops being valid
};

struct ReloadStatus {
  bool last_successful = true;      // the latest SIGHUP re-read the configuration
  double last_success_seconds = 0;  // Unix time of the latest good reload (or of the start)
  std::uint64_t failures = 0;       // reloads refused since start (bad file, bad key ...)
};

struct DaemonInfo {
  std::string daemon;  // label: dmuxd, dmux-provider, dmux-mcast, dmux-client
  double start_time_seconds = 0;
  std::vector<CertificateExpiry> certificates;
  std::optional<ReloadStatus> reload;  // daemons that re-read their configuration on SIGHUP
};

}  // namespace dmux::metrics

// dmuxd as an object: the control thread's event loop, the table, the data plane, the control
// socket and the metrics exporter, wired together. main() builds one and calls run().
#pragma once

#include <functional>
#include <memory>
#include <optional>

#include "bgp-glue/announcement.h"
#include "bgp-glue/systemd_notifier.h"
#include "common/app/daemon_wiring.h"
#include "common/control/control_server.h"
#include "common/evloop/event_loop.h"
#include "common/metrics/daemon_info.h"
#include "gateway/config.h"
#include "gateway/dataplane/data_plane.h"
#include "gateway/dataplane/table_publisher.h"
#include "gateway/metrics_exporter.h"
#include "gateway/old_version_log.h"
#include "gateway/registration_server.h"
#include "gateway/table_builder.h"
#include "mesh/mesh_server.h"

namespace dmux::gateway {

class GatewayApp {
 public:
  // Produces a fresh config on SIGHUP (throws on a bad file; the old config then stays).
  using Reloader = std::function<GatewayConfig()>;

  // Opens every socket and starts nothing yet; throws with a message naming what failed.
  GatewayApp(GatewayConfig config, Reloader reloader);
  ~GatewayApp();

  // Starts the workers and serves until SIGTERM or SIGINT; then stops them and returns. With
  // --announce-prefix, SIGTERM first drains (graceful shutdown, then withdrawal) and a second
  // SIGTERM, or SIGINT, stops at once.
  void run();

  [[nodiscard]] GatewayStats stats() const;

 private:
  // gateway_routing.cpp: routers from registration, the mesh and the config into the table;
  // revocation.
  void on_registrations_changed(const std::vector<registry::RouterChange>& changes);
  void on_mesh_changed(const mesh::MeshChanges& changes);
  void schedule_publish() noexcept;
  void publish_table() noexcept;
  void load_crl(const std::string& path);  // throws naming the file
  void on_crl_adopted(const crypto::Crl& crl);
  std::string crl_command(std::string_view path);
  void reload() noexcept;
  void report_old_versions();  // once a second: logs old-version DATA at most once a minute
  std::string handle_command(std::string_view command);
  std::string announce_command(std::string_view command);
  void shut_down(bool graceful) noexcept;
  // True if every data-plane worker's heartbeat moved since the previous call with `last`.
  bool data_plane_progressed(std::vector<std::uint64_t>& last) const;
  // Health of the whole gateway for the announcement: data plane progressing, and (once) the
  // mesh synchronised, so a restarted gateway does not attract traffic before it knows routers.
  bool healthy();
  bool mesh_synced();

  GatewayConfig config_;
  Reloader reloader_;
  double start_time_ = 0;
  metrics::ReloadStatus reload_status_;  // outcome of the latest SIGHUP, for metrics
  std::vector<metrics::CertificateExpiry> certificates_;  // read at start and on reload
  evloop::EventLoop loop_;
  TablePublisher tables_;
  TableBuilder builder_;  // kept up to date by deltas; built at most once per publish tick
  evloop::Timer publish_timer_;
  std::chrono::steady_clock::time_point last_publish_{};
  std::chrono::steady_clock::duration last_build_cost_{};  // of the last publish_table()
  std::uint64_t crl_number_ = 0;  // of the CRL in force (lone gateway; the mesh keeps its own)
  std::unique_ptr<DataPlane> data_plane_;
  std::unique_ptr<control::ControlServer> control_;
  std::unique_ptr<RegistrationServer> registration_;
  std::unique_ptr<mesh::MeshServer> mesh_;
  std::unique_ptr<MetricsExporter> metrics_;
  std::unique_ptr<app::StopSignals> signals_;
  std::unique_ptr<bgp_glue::Announcement> announce_;
  std::unique_ptr<bgp_glue::SystemdNotifier> notifier_;
  std::unique_ptr<evloop::Timer> old_version_timer_;
  OldVersionLog old_versions_;
  std::vector<std::uint64_t> health_beats_;    // heartbeats at the last health sample
  std::vector<std::uint64_t> watchdog_beats_;  // heartbeats at the last watchdog ping
  bool shutting_down_ = false;
  bool mesh_synced_ = false;
};

}  // namespace dmux::gateway

#include "gateway/gateway_app.h"

#include <ctime>
#include <map>

#include "common/app/daemon_wiring.h"
#include "common/crypto/crypto.h"
#include "common/util/config_error.h"
#include "common/util/log.h"
#include "common/util/wall_clock.h"
#include "gateway/listen_probe.h"
#include "gateway/mesh_table.h"
#include "gateway/status_json.h"

namespace dmux::gateway {
namespace {

using util::unix_time_s;

// The expiry of every certificate dmuxd uses (the CA's and its mesh certificate), for
// dmux_certificate_expiry_timestamp_seconds. One that cannot be read is left out: start-up and
// reload have checked them already, and a metric is no reason to stop.
std::vector<metrics::CertificateExpiry> certificate_expiry(const GatewayConfig& c) {
  std::vector<std::pair<std::string, std::string>> files;
  if (c.registration) files.emplace_back("ca", c.registration->ca_cert_path);
  if (c.mesh) {
    if (!c.registration) files.emplace_back("ca", c.mesh->ca_cert_path);
    files.emplace_back("mesh", c.mesh->cert_path);
  }
  std::vector<metrics::CertificateExpiry> out;
  for (const auto& [name, path] : files) {
    try {
      out.push_back(
          {name, static_cast<double>(crypto::Certificate::load_pem(path).info().not_after)});
    } catch (const std::exception& e) {
      LOG_WARN("certificate expiry metric: %s", e.what());
    }
  }
  return out;
}

WorkerConfig worker_config(const GatewayConfig& c) {
  return WorkerConfig{.listen = c.listen,
                      .tunnel_source = c.tunnel_source,
                      .gateway_id = c.gateway_id,
                      .batch_size = c.batch_size,
                      .max_datagram_bytes = c.max_datagram_bytes,
                      .socket_buffer_bytes = c.socket_buffer_bytes,
                      .use_gso = c.use_gso,
                      .use_gro = c.use_gro};
}

}  // namespace

GatewayApp::GatewayApp(GatewayConfig config, Reloader reloader)
    : config_(std::move(config)),
      reloader_(std::move(reloader)),
      start_time_(unix_time_s()),
      builder_(config_.selection, config_.mesh.has_value(),
               [this](wire::GatewayId gw) -> std::optional<std::chrono::microseconds> {
                 return mesh_ ? mesh_->rtt_to(gw) : std::nullopt;
               }),
      publish_timer_(loop_, [this] { publish_table(); }) {
  reload_status_.last_success_seconds = start_time_;
  certificates_ = certificate_expiry(config_);
  builder_.set_static(config_.static_routers);
  publish_table();
  refuse_taken_listen_endpoints(config_.listen);
  data_plane_ = std::make_unique<DataPlane>(worker_config(config_), config_.workers, tables_,
                                            util::unix_time_us());
  old_version_timer_ = std::make_unique<evloop::Timer>(loop_, [this] { report_old_versions(); });
  old_version_timer_->start_periodic(std::chrono::seconds(1));
  if (config_.registration) {
    registration_ = std::make_unique<RegistrationServer>(
        loop_, *config_.registration,
        [this](const std::vector<registry::RouterChange>& c) { on_registrations_changed(c); });
  }
  if (config_.mesh) {
    mesh_ = std::make_unique<mesh::MeshServer>(
        loop_, *config_.mesh, [this](const mesh::MeshChanges& c) { on_mesh_changed(c); },
        [this](const crypto::Crl& crl) { on_crl_adopted(crl); });
  }
  if (!config_.crl_path.empty()) load_crl(config_.crl_path);  // throws: a bad CRL stops the start
  control_ = app::control_socket(loop_, config_.control_socket, config_.control_group,
                                 [this](std::string_view cmd) { return handle_command(cmd); });
  if (config_.metrics_listen) {
    metrics_ =
        std::make_unique<MetricsExporter>(*config_.metrics_listen, [this] { return stats(); });
  }
  if (config_.announce) {
    announce_ = std::make_unique<bgp_glue::Announcement>(loop_, *config_.announce,
                                                         [this] { return healthy(); });
  }
  notifier_ = std::make_unique<bgp_glue::SystemdNotifier>(
      loop_, [this] { return data_plane_progressed(watchdog_beats_); });
  signals_ = std::make_unique<app::StopSignals>(
      loop_,
      [this](int signo) {
        LOG_INFO("%s: shutting down", app::signal_name(signo));
        shut_down(signo == SIGTERM);
      },
      [this] { reload(); });
}

GatewayApp::~GatewayApp() {
  metrics_.reset();
  announce_.reset();  // withdraws before the data plane stops
  if (data_plane_) data_plane_->stop();
}

void GatewayApp::run() {
  data_plane_->start();
  std::string listen;
  for (const auto& ep : config_.listen) {
    listen += ' ';
    listen += ep.to_string();
  }
  std::string registration = "off";
  if (config_.registration) {
    registration.clear();
    for (const auto& ep : config_.registration->listen) {
      registration += ep.to_string();
      registration += ' ';
    }
    registration += "(CA " + config_.registration->ca_cert_path + ")";
  }
  std::string mesh = "off";
  if (mesh_) {
    mesh = mesh_->listen_endpoint().to_string() + " (" +
           std::to_string(config_.mesh->seeds.size()) + " seeds)";
  }
  LOG_INFO(
      "dmuxd up: gateway-id %s, %zu workers, listening on%s, %zu static routers, "
      "registration %s, mesh %s, control %s, metrics %s",
      net::ipv4_to_string(config_.gateway_id.value()).c_str(), data_plane_->worker_count(),
      listen.c_str(), config_.static_routers.size(), registration.c_str(), mesh.c_str(),
      control_->path().c_str(),
      config_.metrics_listen ? config_.metrics_listen->to_string().c_str() : "off");
  notifier_->ready(announce_ ? "serving; announcing once healthy" : "serving");
  loop_.run();
  if (announce_) announce_->withdraw();
  data_plane_->stop();
  const auto t = data_plane_->totals();
  std::uint64_t rx = 0, tx = 0;
  for (std::size_t i = 0; i < t.rx_packets.size(); ++i) {
    rx += t.rx_packets[i];
    tx += t.tx_packets[i];
  }
  LOG_INFO("dmuxd stopped: %llu datagrams received, %llu forwarded",
           static_cast<unsigned long long>(rx), static_cast<unsigned long long>(tx));
}

void GatewayApp::reload() noexcept {
  try {
    GatewayConfig fresh = reloader_();
    if (fresh.listen != config_.listen || fresh.workers != config_.workers ||
        fresh.control_socket != config_.control_socket) {
      LOG_WARN("reload: listen, workers and control-socket changes need a restart; ignoring them");
    }
    if (!fresh.crl_path.empty()) load_crl(fresh.crl_path);
    config_.static_routers = std::move(fresh.static_routers);
    config_.crl_path = fresh.crl_path;
    log::set_level(fresh.log_level);
    builder_.set_static(config_.static_routers);
    publish_table();
    certificates_ = certificate_expiry(fresh);
    reload_status_.last_successful = true;
    reload_status_.last_success_seconds = unix_time_s();
    LOG_INFO("reload: %zu static routers now", config_.static_routers.size());
    return;
  } catch (const ConfigError& e) {
    LOG_ERROR("reload failed, keeping the running configuration: --%s: %s", e.option().c_str(),
              e.what());
  } catch (const std::exception& e) {
    LOG_ERROR("reload failed, keeping the running configuration: %s", e.what());
  }
  reload_status_.last_successful = false;
  ++reload_status_.failures;
}

void GatewayApp::report_old_versions() {
  const auto t = data_plane_->totals();
  const auto line =
      old_versions_.on_sample(t.drops[static_cast<std::size_t>(DropReason::kUnsupportedVersion)],
                              t.old_version_sender, OldVersionLog::Clock::now());
  if (!line.empty()) LOG_WARN("%s", line.c_str());
}

GatewayStats GatewayApp::stats() const {
  GatewayStats s;
  s.totals = data_plane_->totals();
  s.table = tables_.snapshot();
  s.workers = data_plane_->worker_count();
  s.worker_received_packets = data_plane_->received_per_worker();
  s.table_generation = tables_.generation();
  s.start_time_seconds = start_time_;
  s.daemon = metrics::DaemonInfo{.daemon = "dmuxd",
                                 .start_time_seconds = start_time_,
                                 .certificates = certificates_,
                                 .reload = reload_status_};
  if (registration_) s.registration = registration_->snapshot();
  if (mesh_) s.mesh = mesh_->snapshot();
  if (announce_) {
    s.announce = announce_->snapshot();
    s.announce_stray_packets = announce_->stray_packets();
  }
  return s;
}

std::string GatewayApp::handle_command(std::string_view command) {
  if (command == "status") return status_json(config_, stats(), unix_time_s());
  if (command == "routers") return routers_json(stats());
  if (command == "peers") return peers_json(stats());
  if (command == "ping") return R"({"ok":true})";
  if (command == "drain" || command == "undrain") return announce_command(command);
  if (command.starts_with("crl ")) return crl_command(command.substr(4));
  return R"({"error":"unknown command; try status, routers, peers, ping, drain, undrain or crl FILE"})";
}

std::string GatewayApp::announce_command(std::string_view command) {
  if (!announce_) {
    return R"json({"error":"this gateway does not announce (no --announce-prefix)"})json";
  }
  if (command == "drain") {
    LOG_INFO("drain requested over the control socket");
    announce_->drain();
    notifier_->status("draining");
  } else {
    if (shutting_down_) return R"({"error":"shutting down: undrain refused"})";
    LOG_INFO("undrain requested over the control socket");
    announce_->undrain();
    notifier_->status("serving");
  }
  return status_json(config_, stats(), unix_time_s());
}

void GatewayApp::shut_down(bool graceful) noexcept {
  notifier_->stopping();
  if (!graceful || shutting_down_ || !announce_) {
    loop_.stop();
    return;
  }
  shutting_down_ = true;
  LOG_INFO("draining %s for %lld ms before exit (SIGTERM again or SIGINT: exit now)",
           config_.announce->prefix.to_string().c_str(),
           static_cast<long long>(config_.announce->drain_withdraw.count()));
  announce_->drain_then_withdraw([this] {
    LOG_INFO("withdrawn; exiting");
    loop_.stop();
  });
}

bool GatewayApp::healthy() {
  const bool progressed = data_plane_progressed(health_beats_);
  return mesh_synced() && progressed;
}

bool GatewayApp::mesh_synced() {
  if (mesh_synced_ || !mesh_) return true;
  const auto m = mesh_->snapshot();
  std::size_t up = 0;
  for (const auto& p : m.peers) up += std::string_view(p.state) == "up" ? 1 : 0;
  const bool all_up = up > 0 && up == m.peers.size() && m.counters.full_states_received >= up;
  const double waited = unix_time_s() - start_time_;
  const double limit = std::chrono::duration<double>(config_.mesh->grace).count();
  if (all_up || m.peers.empty() || waited >= limit) {
    mesh_synced_ = true;
    if (all_up) {
      LOG_INFO("mesh synchronised with %zu peers after %.1f s", up, waited);
    } else {
      LOG_WARN("mesh: %zu of %zu peers up after %.1f s; announcing with what is known", up,
               m.peers.size(), waited);
    }
  }
  return mesh_synced_;
}

bool GatewayApp::data_plane_progressed(std::vector<std::uint64_t>& last) const {
  auto now = data_plane_->heartbeats();
  bool progressed = now.size() == last.size();
  for (std::size_t i = 0; progressed && i < now.size(); ++i) progressed = now[i] != last[i];
  last = std::move(now);
  return progressed;
}

}  // namespace dmux::gateway

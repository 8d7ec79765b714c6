// GatewayApp: routers into the forwarding table, by what changed (issue 12), and revocation
// (docs/protocol.md 10.1). Registrations and the mesh report typed deltas; the TableBuilder
// applies them and a new table is published no sooner than 20x the last build's cost after the
// previous one (between kPublishMin and kPublishMax): a small table follows every change at once,
// a burst of changes to a huge one costs one build per interval, and the control thread stays
// free for keepalives and the watchdog (at most ~5% of it goes to builds).
#include <algorithm>
#include <ctime>
#include <nlohmann/json.hpp>

#include "common/crypto/crl.h"
#include "common/util/config_error.h"
#include "common/util/log.h"
#include "gateway/gateway_app.h"
#include "gateway/mesh_table.h"

namespace dmux::gateway {
namespace {

constexpr auto kPublishMin = std::chrono::milliseconds(1);
constexpr auto kPublishMax = std::chrono::milliseconds(100);

std::string ca_of(const GatewayConfig& c) {
  if (c.registration) return c.registration->ca_cert_path;
  if (c.mesh) return c.mesh->ca_cert_path;
  return {};
}

}  // namespace

void GatewayApp::on_registrations_changed(const std::vector<registry::RouterChange>& changes) {
  builder_.apply(changes);
  if (mesh_) {
    for (const auto& c : changes) {
      if (c.router) {
        mesh_->local_router_up(local_router_of(*c.router));
      } else {
        mesh_->local_router_down(c.id);
      }
    }
  }
  schedule_publish();
}

void GatewayApp::on_mesh_changed(const mesh::MeshChanges& changes) {
  builder_.apply(changes.routers);
  builder_.gateway_rtt_moved(changes.rtt_moved);
  schedule_publish();
}

void GatewayApp::schedule_publish() noexcept {
  if (publish_timer_.pending() || !builder_.dirty()) return;
  const auto since = std::chrono::steady_clock::now() - last_publish_;
  const auto every = std::clamp<std::chrono::steady_clock::duration>(20 * last_build_cost_,
                                                                     kPublishMin, kPublishMax);
  const auto wait = since >= every
                        ? std::chrono::microseconds(0)
                        : std::chrono::duration_cast<std::chrono::microseconds>(every - since);
  try {
    publish_timer_.start_once(wait);
  } catch (const std::exception& e) {
    LOG_ERROR("cannot schedule a table update: %s; updating now", e.what());
    publish_table();
  }
}

void GatewayApp::publish_table() noexcept {
  try {
    last_publish_ = std::chrono::steady_clock::now();
    tables_.publish(builder_.build(last_publish_));
    last_build_cost_ = std::chrono::steady_clock::now() - last_publish_;
    schedule_publish();  // the catalog may still be behind
  } catch (const std::exception& e) {
    LOG_ERROR("building the forwarding table failed, keeping the previous one: %s", e.what());
  }
}

// The CRL named by --crl: checked against our CA, then in force here and passed to the mesh.
void GatewayApp::load_crl(const std::string& path) {
  const crypto::Crl crl = crypto::Crl::load(path);
  const std::string ca_path = ca_of(config_);
  if (ca_path.empty()) throw ConfigError("crl", "needs --ca-cert");
  if (!crl.signed_by(crypto::Certificate::load_pem(ca_path))) {
    throw ConfigError("crl", path + " is not signed by the CA in " + ca_path);
  }
  if (crl.next_update() != 0 && crl.next_update() < std::time(nullptr)) {
    LOG_WARN("crl: %s was due for an update at %lld; using it anyway (dmux-ca crl makes a new one)",
             path.c_str(), static_cast<long long>(crl.next_update()));
  }
  if (mesh_) {
    if (!mesh_->install_crl(crl)) {
      LOG_INFO("crl: %s (number %llu) is not newer than the one in force", path.c_str(),
               static_cast<unsigned long long>(crl.number()));
    }
    return;  // the mesh calls on_crl_adopted
  }
  if (crl_number_ != 0 && crl.number() <= crl_number_) return;
  on_crl_adopted(crl);
}

void GatewayApp::on_crl_adopted(const crypto::Crl& crl) {
  crl_number_ = crl.number();
  const auto serials = crl.revoked();
  LOG_INFO("crl: number %llu in force, %zu certificate(s) revoked",
           static_cast<unsigned long long>(crl.number()), serials.size());
  if (registration_) registration_->revoke(serials);
}

std::string GatewayApp::crl_command(std::string_view path) {
  try {
    load_crl(std::string(path));
    return R"({"ok":true})";
  } catch (const std::exception& e) {
    LOG_WARN("crl %.*s refused: %s", static_cast<int>(path.size()), path.data(), e.what());
    return nlohmann::json{{"error", e.what()}}.dump();
  }
}

}  // namespace dmux::gateway

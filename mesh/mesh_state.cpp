// MeshServer: frames, peers' router records (through RecordIntake), and this gateway's own
// routers (through LocalRecords). docs/protocol.md 12.2-12.4, 12.7, 12.8.
#include <ctime>
#include <set>

#include "common/util/log.h"
#include "mesh/mesh_server.h"

namespace dmux::mesh {
namespace {

namespace mw = wire::mesh;

std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string id_text(std::uint32_t id) { return net::ipv4_to_string(id); }

}  // namespace

void MeshServer::dispatch(Link& link, mw::Type type, std::span<const std::byte> body) {
  if (!link.established) {
    if (type == mw::Type::kHello && link.peer_id != 0) {
      on_hello(link, body);
    } else {
      ++counters_.protocol_violations;
      link.close(CloseReason::kBeforeHello);
    }
    return;
  }
  switch (type) {
    case mw::Type::kHello:
      ++counters_.protocol_violations;
      link.close(CloseReason::kSecondHello);
      return;
    case mw::Type::kFullState:
      on_full_state(link, body);
      return;
    case mw::Type::kUpdate:
      on_update(link, body);
      return;
    case mw::Type::kCertificate:
      on_certificate(link, body);
      return;
    case mw::Type::kCrl:
      on_crl(link, body);
      return;
    case mw::Type::kProbe:
      on_probe(link, body);
      return;
    case mw::Type::kProbeReply:
      on_probe_reply(link, body);
      return;
    case mw::Type::kPeers:
      on_peers(link, body);
      return;
  }
}

void MeshServer::on_hello(Link& link, std::span<const std::byte> body) {
  mw::Hello hello;
  if (const auto s = mw::parse_hello(body, hello); s != mw::Status::kOk) {
    on_link_bad_frame(link, s);
    link.close(CloseReason::kBadBody, "HELLO");
    return;
  }
  if (hello.gateway_id != wire::GatewayId{link.peer_id}) {
    ++counters_.hello_mismatch;
    LOG_WARN("mesh: %s says it is %s but its certificate is for %s",
             link.remote().to_string().c_str(), id_text(hello.gateway_id.value()).c_str(),
             id_text(link.peer_id).c_str());
    link.close(CloseReason::kHelloMismatch);
    return;
  }
  establish(link, hello);
}

void MeshServer::establish(Link& link, const mw::Hello& hello) {
  const std::uint32_t id = link.peer_id;
  LinkData& d = data(link);
  if (d.limited) {
    limiter_.on_authenticated(d.source);
    d.limited = false;
  }
  if (link.outbound()) directory_.on_dial_done(d.dialled, id, std::chrono::steady_clock::now());
  Peer& p = peers_[id];
  if (Link* other = find_link(p.link_id); other != nullptr && other->established) {
    // One link per pair: keep the one opened by the lower gateway id (both ends agree).
    const bool keep_outbound = config_.gateway_id.value() < id;
    ++counters_.duplicate_links;
    if (link.outbound() != keep_outbound) {
      link.close(CloseReason::kDuplicate);
      return;
    }
    other->established = false;  // superseded: its close does not take the peer down
    p.link_id = 0;
    other->close(CloseReason::kDuplicate);
  }
  link.established = true;
  p.link_id = link.id();
  p.serial = d.peer_serial;
  p.mesh_endpoint = hello.mesh_listen;
  if (p.mesh_endpoint.addr == 0) p.mesh_endpoint.addr = link.remote().addr;
  p.since_us = now_us();
  remote_.on_peer_up(id);
  LOG_INFO("mesh: peer %s up (%s link with %s)", id_text(id).c_str(),
           link.outbound() ? "outbound" : "inbound", link.remote().to_string().c_str());
  send_crl(link);
  send_full_state(link);
  broadcast_peers();
  refresh_snapshot();
}

void MeshServer::send_full_state(Link& link) {
  std::vector<std::byte> out;
  local_.append_full_state(data(link).sent, out);
  link.send(out);
  ++counters_.full_states_sent;
}

void MeshServer::broadcast_local(const std::vector<LocalChange>& changes) {
  if (changes.empty()) return;
  for (Link* link : established_links()) {
    std::vector<std::byte> out;
    local_.append_changes(changes, data(*link).sent, out);
    link->send(out);
    counters_.updates_sent += changes.size();
  }
  refresh_snapshot();
}

void MeshServer::set_local_routers(const std::vector<LocalRouter>& routers) {
  broadcast_local(local_.set(routers));
}

void MeshServer::local_router_up(const LocalRouter& router) {
  broadcast_local(local_.upsert(router));
}

void MeshServer::local_router_down(const RouterId& id) { broadcast_local(local_.remove(id)); }

void MeshServer::broadcast_peers() {
  std::vector<mw::Peer> list;
  list.push_back(mw::Peer{config_.gateway_id, listen_});
  for (const auto& [id, p] : peers_) {
    if (p.link_id != 0 && list.size() < 256)
      list.push_back(mw::Peer{wire::GatewayId{id}, p.mesh_endpoint});
  }
  std::vector<std::byte> out;
  mw::encode_peers(list, out);
  for (Link* link : established_links()) link->send(out);
}

void MeshServer::on_peers(Link& link, std::span<const std::byte> body) {
  std::vector<mw::Peer> list;
  if (const auto s = mw::parse_peers(body, list); s != mw::Status::kOk || list.size() > 256) {
    on_link_bad_frame(link, s == mw::Status::kOk ? mw::Status::kMalformed : s);
    link.close(CloseReason::kBadBody, "PEERS");
    return;
  }
  directory_.on_peers(link.peer_id, list);
}

void MeshServer::on_certificate(Link& link, std::span<const std::byte> body) {
  if (const auto s = mw::parse_der_body(body, mw::kMaxCertificateBody); s != mw::Status::kOk) {
    on_link_bad_frame(link, s);
    link.close(CloseReason::kBadBody, "CERTIFICATE");
    return;
  }
  LinkData& d = data(link);
  const std::size_t before = d.certs.size();
  if (!d.certs.add(body, verifier_, std::time(nullptr))) {
    ++counters_.protocol_violations;
    link.close(CloseReason::kProtocolViolation, "too many certificates");
    return;
  }
  if (d.certs.size() == before) return;  // one it had sent already
  ++counters_.certificates_received;
  const auto entry = d.certs.find(crypto::sha256(body));
  if (entry && entry->verdict != crypto::VerifyResult::kOk) {
    ++counters_.certificates_refused;
    LOG_WARN("mesh: peer %s sent a provider certificate that is %s", id_text(link.peer_id).c_str(),
             crypto::to_string(entry->verdict));
  }
}

void MeshServer::on_full_state(Link& link, std::span<const std::byte> body) {
  mw::FullState fs;
  if (const auto s = mw::parse_full_state(body, fs); s != mw::Status::kOk) {
    on_link_bad_frame(link, s);
    link.close(CloseReason::kBadBody, "FULL_STATE");
    return;
  }
  if (fs.origin !=
      wire::GatewayId{link.peer_id}) {  // full mesh: each gateway speaks only for itself
    ++counters_.protocol_violations;
    link.close(CloseReason::kProtocolViolation, "FULL_STATE for another origin");
    return;
  }
  ++counters_.full_states_received;
  const Version v{fs.version.incarnation, fs.version.seq};
  peers_[link.peer_id].version = std::max(peers_[link.peer_id].version, v);
  intake_.on_full_state_part(link.peer_id, std::move(fs), data(link).certs);
  schedule_intake();
}

void MeshServer::on_update(Link& link, std::span<const std::byte> body) {
  mw::Update u;
  if (const auto s = mw::parse_update(body, u); s != mw::Status::kOk) {
    on_link_bad_frame(link, s);
    link.close(CloseReason::kBadBody, "UPDATE");
    return;
  }
  if (u.origin != wire::GatewayId{link.peer_id}) {
    ++counters_.protocol_violations;
    link.close(CloseReason::kProtocolViolation, "UPDATE for another origin");
    return;
  }
  ++counters_.updates_received;
  const Version v{u.version.incarnation, u.version.seq};
  peers_[link.peer_id].version = std::max(peers_[link.peer_id].version, v);
  intake_.on_update(link.peer_id, u, data(link).certs);
  schedule_intake();
}

void MeshServer::send_crl(Link& link) {
  if (!crl_) return;
  std::vector<std::byte> out;
  mw::encode_der(mw::Type::kCrl, crl_->der(), out);
  link.send(out);
}

void MeshServer::on_crl(Link& link, std::span<const std::byte> body) {
  if (const auto s = mw::parse_der_body(body, mw::kMaxCrlBody); s != mw::Status::kOk) {
    on_link_bad_frame(link, s);
    link.close(CloseReason::kBadBody, "CRL");
    return;
  }
  try {
    if (install_crl(crypto::Crl::from_der(body))) {
      LOG_INFO("mesh: adopted CRL number %llu from peer %s",
               static_cast<unsigned long long>(crl_->number()), id_text(link.peer_id).c_str());
    }
  } catch (const crypto::CryptoError& e) {
    ++counters_.crls_ignored;
    LOG_WARN("mesh: peer %s sent something that is not a CRL: %s", id_text(link.peer_id).c_str(),
             e.what());
  }
}

bool MeshServer::install_crl(const crypto::Crl& crl) {
  if (!crl.signed_by(ca_) || (crl_ && crl.number() <= crl_->number())) {
    ++counters_.crls_ignored;
    return false;
  }
  crl_ = crl.copy();
  const auto serials = crl.revoked();
  revoked_ = RevokedSerials(serials.begin(), serials.end());
  verifier_.set_revoked(serials);
  ++counters_.crls_adopted;
  counters_.crl_number = crl.number();
  LOG_INFO("mesh: CRL number %llu in force: %zu certificate(s) revoked",
           static_cast<unsigned long long>(crl.number()), serials.size());
  // Revoked gateways go at once, with their routers (no grace time); every link hears of it.
  std::set<std::uint32_t> revoked_gateways;
  for (const auto& [id, p] : peers_) {
    if (revoked_.contains(p.serial)) revoked_gateways.insert(id);
  }
  for (Link* link : established_links()) {
    if (revoked_gateways.contains(link->peer_id)) {
      LOG_WARN("mesh: closing the link to %s: its certificate is revoked",
               id_text(link->peer_id).c_str());
      link->close(CloseReason::kRevoked);
    } else {
      send_crl(*link);
    }
  }
  MeshChanges changes;
  changes.routers = remote_.drop_if([&](const RemoteRouter& r) {
    return revoked_gateways.contains(r.origin.value()) ||
           (r.cert && revoked_.contains(r.cert->info.serial));
  });
  if (!changes.routers.empty()) changed(std::move(changes));
  if (on_crl_) on_crl_(crl);
  refresh_snapshot();
  return true;
}

void MeshServer::schedule_intake() noexcept {
  if (intake_.pending() && !intake_timer_.pending()) {
    try {
      intake_timer_.start_once(std::chrono::microseconds(0));
    } catch (const std::exception& e) {
      LOG_ERROR("mesh: cannot schedule record verification: %s", e.what());
    }
  }
}

// One slice: verify and apply peers' records for at most config_.slice, then yield to the loop
// (keepalives, status, the watchdog, other links) and come back.
void MeshServer::run_intake() noexcept {
  const auto start = std::chrono::steady_clock::now();
  const auto deadline = start + config_.slice;
  MeshChanges changes;
  try {
    changes.routers =
        intake_.run([deadline] { return std::chrono::steady_clock::now() >= deadline; });
  } catch (const std::exception& e) {
    LOG_ERROR("mesh: verifying records: %s", e.what());
  }
  const auto took = std::chrono::duration_cast<std::chrono::microseconds>(
                        std::chrono::steady_clock::now() - start)
                        .count();
  ++counters_.slices;
  counters_.longest_slice_us =
      std::max<std::uint64_t>(counters_.longest_slice_us, static_cast<std::uint64_t>(took));
  if (!changes.routers.empty()) changed(std::move(changes));
  schedule_intake();
  if (!intake_.pending()) refresh_snapshot();
}

}  // namespace dmux::mesh

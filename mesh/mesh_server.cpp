#include "mesh/mesh_server.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <system_error>

#include "common/util/log.h"
#include "common/util/wall_clock.h"

namespace dmux::mesh {
namespace {

using std::chrono::microseconds;
namespace mw = wire::mesh;

constexpr auto kTick = std::chrono::milliseconds(100);
constexpr std::size_t kMaxLinks = 4096;  // accepted sockets beyond this are closed at once

std::int64_t now_us() {
  return std::chrono::duration_cast<microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string id_text(std::uint32_t id) { return net::ipv4_to_string(id); }

net::UniqueFd open_listener(net::Endpoint& ep) {
  net::UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) throw std::system_error(errno, std::generic_category(), "mesh socket");
  const int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  const sockaddr_in sa = ep.to_sockaddr();
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0) {
    throw std::system_error(errno, std::generic_category(), "mesh bind " + ep.to_string());
  }
  if (::listen(fd.get(), 128) != 0) {
    throw std::system_error(errno, std::generic_category(), "mesh listen " + ep.to_string());
  }
  sockaddr_in bound{};
  socklen_t len = sizeof bound;
  ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&bound), &len);
  ep = net::Endpoint::from_sockaddr(bound);
  return fd;
}

RouterRecord to_record(const mw::Router& r) {
  return RouterRecord{r.proto_id, r.provider_id, r.address, r.router_rtt_us};
}

mw::Router to_wire(const RouterRecord& r) {
  mw::Router out;
  out.proto_id = r.proto_id;
  out.provider_id = r.provider_id;
  out.address = r.address;
  out.router_rtt_us = r.router_rtt_us;
  return out;
}

}  // namespace

MeshServer::MeshServer(evloop::EventLoop& loop, const MeshConfig& config, OnChange on_change)
    : loop_(loop),
      config_(config),
      on_change_(std::move(on_change)),
      tls_(config.cert_path, config.key_path),
      verifier_(crypto::Certificate::load_pem(config.ca_cert_path)),
      remote_(config.grace),
      listen_(config.listen),
      tick_(loop, [this] { on_tick(); }),
      probe_timer_(loop, [this] { on_probe_timer(); }),
      reap_(loop, [this] { graveyard_.clear(); }) {
  // Our own certificate must be one our peers accept, for the id we claim.
  const auto own = crypto::Certificate::load_pem(config.cert_path);
  crypto::CertInfo info;
  const auto r = verifier_.verify(own.der(), crypto::Role::kGateway, std::time(nullptr), info);
  if (r != crypto::VerifyResult::kOk) {
    throw std::runtime_error("mesh certificate " + config.cert_path + ": " + crypto::to_string(r));
  }
  if (info.gateway_id != config.gateway_id) {
    throw std::runtime_error("mesh certificate " + config.cert_path + " is for gateway " +
                             id_text(info.gateway_id) + ", not " + id_text(config.gateway_id));
  }
  version_ = Version{util::unix_time_us(), 1};
  listen_fd_ = open_listener(listen_);
  accept_watcher_ = std::make_unique<evloop::IoWatcher>(loop, listen_fd_.get(), [this] {
    on_accept();
  });
  for (const auto& seed : config_.seeds) add_target(seed, std::nullopt);
  tick_.start_periodic(kTick);
  probe_timer_.start_periodic(config_.probe_interval);
  refresh_snapshot();
}

// Links are destroyed with the server (their sockets close); no callbacks run then.
MeshServer::~MeshServer() = default;

Link* MeshServer::find_link(std::uint64_t id) noexcept {
  auto it = links_.find(id);
  return it == links_.end() ? nullptr : it->second.get();
}

void MeshServer::add_target(const net::Endpoint& ep, std::optional<std::uint32_t> id) {
  if (ep.port == 0) return;
  if (ep == listen_) return;  // ourselves
  auto [it, inserted] = targets_.try_emplace(ep);
  if (inserted) it->second.backoff = config_.reconnect_min;
  if (id && !it->second.gateway_id) it->second.gateway_id = id;
}

void MeshServer::on_accept() noexcept {
  for (int i = 0; i < 64; ++i) {
    sockaddr_in from{};
    socklen_t len = sizeof from;
    net::UniqueFd fd(::accept4(listen_fd_.get(), reinterpret_cast<sockaddr*>(&from), &len,
                               SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (fd.get() < 0) return;
    if (links_.size() >= kMaxLinks) continue;  // closed by UniqueFd
    const int one = 1;
    ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    try {
      const std::uint64_t id = next_link_id_++;
      auto link = std::make_unique<Link>(loop_, tls_, std::move(fd), false,
                                         net::Endpoint::from_sockaddr(from), id, static_cast<LinkEvents&>(*this));
      link->opened_us = now_us();
      links_.emplace(id, std::move(link));
      ++counters_.links_accepted;
    } catch (const std::exception& e) {
      LOG_WARN("mesh: cannot accept a link: %s", e.what());
    }
  }
}

void MeshServer::dial(const net::Endpoint& ep, Target& t) noexcept {
  t.next_attempt_us = now_us() + std::chrono::duration_cast<microseconds>(t.backoff).count();
  t.backoff = std::min(t.backoff * 2, config_.reconnect_max);
  net::UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return;
  const int one = 1;
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  const sockaddr_in sa = ep.to_sockaddr();
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0 &&
      errno != EINPROGRESS) {
    ++counters_.links_failed;
    return;
  }
  try {
    const std::uint64_t id = next_link_id_++;
    auto link = std::make_unique<Link>(loop_, tls_, std::move(fd), true, ep, id, static_cast<LinkEvents&>(*this));
    link->opened_us = now_us();
    links_.emplace(id, std::move(link));
    t.link_id = id;
    ++counters_.links_dialed;
  } catch (const std::exception& e) {
    LOG_WARN("mesh: cannot dial %s: %s", ep.to_string().c_str(), e.what());
  }
}

void MeshServer::on_link_open(Link& link) {
  const auto der = link.peer_certificate_der();
  crypto::CertInfo info;
  const auto r = verifier_.verify(der, crypto::Role::kGateway, std::time(nullptr), info);
  if (r != crypto::VerifyResult::kOk) {
    ++counters_.auth_refused[static_cast<std::size_t>(r)];
    LOG_WARN("mesh: refused %s: certificate %s", link.remote().to_string().c_str(),
             crypto::to_string(r));
    link.close(std::string("certificate refused: ") + crypto::to_string(r));
    return;
  }
  if (info.gateway_id == config_.gateway_id) {
    ++counters_.self_links;
    for (auto& [ep, t] : targets_) {
      if (t.link_id == link.id()) t.self = true;
    }
    link.close("a link to ourselves");
    return;
  }
  link.peer_id = info.gateway_id;
  std::vector<std::byte> out;
  mw::encode_hello(mw::Hello{config_.gateway_id, listen_, {version_.incarnation, version_.seq}},
                   out);
  link.send(out);
}

void MeshServer::on_link_bad_frame(Link& link, mw::Status status) {
  ++counters_.bad_frames[static_cast<std::size_t>(status)];
  LOG_WARN("mesh: bad frame from %s (%s): %s", link.remote().to_string().c_str(),
           id_text(link.peer_id).c_str(), std::string(mw::to_string(status)).c_str());
}

void MeshServer::on_link_frame(Link& link, mw::Type type, std::span<const std::byte> body) {
  link.last_rx_us = now_us();
  try {
    if (!link.established) {
      if (type == mw::Type::kHello && link.peer_id != 0) {
        on_hello(link, body);
      } else {
        ++counters_.protocol_violations;
        link.close("a frame before HELLO");
      }
      return;
    }
    switch (type) {
      case mw::Type::kHello:
        ++counters_.protocol_violations;
        link.close("a second HELLO");
        return;
      case mw::Type::kFullState:
        on_full_state(link, body);
        return;
      case mw::Type::kUpdate:
        on_update(link, body);
        return;
      case mw::Type::kCertificate:
      case mw::Type::kCrl:
        return;  // not yet used
      case mw::Type::kProbe: {
        mw::Probe p;
        if (const auto s = mw::parse_probe(body, p); s != mw::Status::kOk) {
          on_link_bad_frame(link, s);
          link.close("bad PROBE");
          return;
        }
        std::vector<std::byte> out;
        mw::encode_probe(mw::Type::kProbeReply, p, out);
        link.send(out);
        return;
      }
      case mw::Type::kProbeReply:
        on_probe_reply(link, body);
        return;
      case mw::Type::kPeers:
        on_peers(body);
        return;
    }
  } catch (const std::exception& e) {
    LOG_ERROR("mesh: error handling a frame from %s: %s", id_text(link.peer_id).c_str(), e.what());
    link.close("internal error");
  }
}

void MeshServer::on_hello(Link& link, std::span<const std::byte> body) {
  mw::Hello hello;
  if (const auto s = mw::parse_hello(body, hello); s != mw::Status::kOk) {
    on_link_bad_frame(link, s);
    link.close("bad HELLO");
    return;
  }
  if (hello.gateway_id != link.peer_id) {
    ++counters_.hello_mismatch;
    LOG_WARN("mesh: %s says it is %s but its certificate is for %s",
             link.remote().to_string().c_str(), id_text(hello.gateway_id).c_str(),
             id_text(link.peer_id).c_str());
    link.close("HELLO does not match the certificate");
    return;
  }
  establish(link, hello);
}

void MeshServer::establish(Link& link, const mw::Hello& hello) {
  const std::uint32_t id = link.peer_id;
  Peer& p = peers_[id];
  if (Link* other = find_link(p.link_id); other != nullptr && other->established) {
    // One link per pair: keep the one opened by the lower gateway id (both ends agree).
    const bool keep_outbound = config_.gateway_id < id;
    ++counters_.duplicate_links;
    if (link.outbound() != keep_outbound) {
      link.close("duplicate link");
      return;
    }
    other->established = false;  // superseded: its close does not take the peer down
    p.link_id = 0;
    other->close("duplicate link");
  }
  link.established = true;
  p.link_id = link.id();
  p.mesh_endpoint = hello.mesh_listen;
  if (p.mesh_endpoint.addr == 0) p.mesh_endpoint.addr = link.remote().addr;
  p.since_us = now_us();
  remote_.on_peer_up(id);
  add_target(p.mesh_endpoint, id);
  for (auto& [ep, t] : targets_) {
    if (t.link_id == link.id()) {
      t.gateway_id = id;
      t.backoff = config_.reconnect_min;
    }
  }
  LOG_INFO("mesh: peer %s up (%s link with %s)", id_text(id).c_str(),
           link.outbound() ? "outbound" : "inbound", link.remote().to_string().c_str());
  send_full_state(link);
  broadcast_peers();
  refresh_snapshot();
}

void MeshServer::send_full_state(Link& link) {
  mw::FullState fs{config_.gateway_id, {version_.incarnation, version_.seq}, 0, 1, {}};
  fs.routers.reserve(local_.size());
  for (const auto& r : local_) fs.routers.push_back(to_wire(r));
  std::vector<std::byte> out;
  mw::encode_full_state(fs, out);
  link.send(out);
  ++counters_.full_states_sent;
}

// A send can fail and close its link, which moves it from links_ to the graveyard (reaped
// later), so loops that send iterate over this copy, never over links_ itself.
std::vector<Link*> MeshServer::established_links() const {
  std::vector<Link*> out;
  for (const auto& [id, link] : links_) {
    if (link->established) out.push_back(link.get());
  }
  return out;
}

void MeshServer::broadcast_peers() {
  std::vector<mw::Peer> list;
  list.push_back(mw::Peer{config_.gateway_id, listen_});
  for (const auto& [id, p] : peers_) {
    if (p.link_id != 0) list.push_back(mw::Peer{id, p.mesh_endpoint});
  }
  std::vector<std::byte> out;
  mw::encode_peers(list, out);
  for (Link* link : established_links()) link->send(out);
}

void MeshServer::on_peers(std::span<const std::byte> body) {
  std::vector<mw::Peer> list;
  if (mw::parse_peers(body, list) != mw::Status::kOk) {
    ++counters_.bad_frames[static_cast<std::size_t>(mw::Status::kMalformed)];
    return;
  }
  for (const auto& p : list) {
    if (p.gateway_id != config_.gateway_id && p.mesh_listen.addr != 0) {
      add_target(p.mesh_listen, p.gateway_id);
    }
  }
}

void MeshServer::on_full_state(Link& link, std::span<const std::byte> body) {
  mw::FullState fs;
  if (const auto s = mw::parse_full_state(body, fs); s != mw::Status::kOk) {
    on_link_bad_frame(link, s);
    link.close("bad FULL_STATE");
    return;
  }
  if (fs.origin != link.peer_id) {  // full mesh: each gateway speaks only for itself
    ++counters_.protocol_violations;
    link.close("FULL_STATE for another origin");
    return;
  }
  ++counters_.full_states_received;
  std::vector<RouterRecord> records;
  records.reserve(fs.routers.size());
  for (const auto& r : fs.routers) records.push_back(to_record(r));
  const Version v{fs.version.incarnation, fs.version.seq};
  peers_[fs.origin].version = std::max(peers_[fs.origin].version, v);
  if (remote_.on_full_state(fs.origin, v, records)) changed();
}

void MeshServer::on_update(Link& link, std::span<const std::byte> body) {
  mw::Update u;
  if (const auto s = mw::parse_update(body, u); s != mw::Status::kOk) {
    on_link_bad_frame(link, s);
    link.close("bad UPDATE");
    return;
  }
  if (u.origin != link.peer_id) {
    ++counters_.protocol_violations;
    link.close("UPDATE for another origin");
    return;
  }
  ++counters_.updates_received;
  const Version v{u.version.incarnation, u.version.seq};
  peers_[u.origin].version = std::max(peers_[u.origin].version, v);
  if (remote_.on_update(u.origin, v, u.present, to_record(u.router))) {
    changed();
  } else {
    ++counters_.updates_not_applied;
  }
}

void MeshServer::on_probe_reply(Link& link, std::span<const std::byte> body) {
  mw::Probe p;
  if (const auto s = mw::parse_probe(body, p); s != mw::Status::kOk) {
    on_link_bad_frame(link, s);
    link.close("bad PROBE_REPLY");
    return;
  }
  Peer& peer = peers_[link.peer_id];
  const std::int64_t rtt = now_us() - static_cast<std::int64_t>(p.sent_us);
  if (p.seq == 0 || p.seq > peer.probe_seq || rtt < 0) {
    ++counters_.protocol_violations;  // not an echo of ours: ignored
    return;
  }
  ++counters_.probe_replies;
  peer.rtt.on_probe_reply(microseconds(rtt), static_cast<std::size_t>(peer.probe_seq - p.seq));
}

void MeshServer::on_probe_timer() noexcept {
  const std::int64_t now = now_us();
  bool moved = false;
  for (auto& [id, p] : peers_) {
    Link* link = find_link(p.link_id);
    if (link == nullptr || !link->established) continue;
    ++p.probe_seq;
    p.rtt.on_probe_sent();
    try {
      std::vector<std::byte> out;
      mw::encode_probe(mw::Type::kProbe, mw::Probe{p.probe_seq, static_cast<std::uint64_t>(now)},
                       out);
      link->send(out);
      ++counters_.probes_sent;
    } catch (const std::exception&) {
      continue;
    }
    // Republish the table only when a distance moved noticeably (median: rarely).
    const auto rtt = p.rtt.rtt();
    if (rtt && (!p.published_rtt ||
                std::chrono::abs(*rtt - *p.published_rtt) >
                    std::max(microseconds(100), *p.published_rtt / 10))) {
      p.published_rtt = rtt;
      moved = true;
    }
  }
  if (moved && !remote_.routers().empty()) changed();
  refresh_snapshot();
}

void MeshServer::on_link_closed(Link& link, const std::string& reason) {
  closed_bytes_in_ += link.bytes_in();
  closed_bytes_out_ += link.bytes_out();
  const std::int64_t now = now_us();
  if (link.established) {
    Peer& p = peers_[link.peer_id];
    if (p.link_id == link.id()) {
      p.link_id = 0;
      p.since_us = now;
      remote_.on_peer_down(link.peer_id, std::chrono::steady_clock::now());
      LOG_INFO("mesh: peer %s down: %s", id_text(link.peer_id).c_str(), reason.c_str());
    }
  } else if (link.peer_id == 0 || reason != "duplicate link") {
    ++counters_.links_failed;
    LOG_DEBUG("mesh: link with %s closed before HELLO: %s", link.remote().to_string().c_str(),
              reason.c_str());
  }
  for (auto& [ep, t] : targets_) {
    if (t.link_id == link.id()) t.link_id = 0;
  }
  auto it = links_.find(link.id());
  if (it != links_.end()) {
    graveyard_.push_back(std::move(it->second));
    links_.erase(it);
    reap_.start_once(microseconds(0));
  }
}

void MeshServer::on_tick() noexcept {
  const std::int64_t now = now_us();
  const std::int64_t handshake_us =
      std::chrono::duration_cast<microseconds>(config_.handshake_timeout).count();
  const std::int64_t dead_us =
      std::chrono::duration_cast<microseconds>(config_.probe_interval).count() *
      config_.dead_after_probes;
  std::vector<std::pair<std::uint64_t, const char*>> to_close;
  for (auto& [id, link] : links_) {
    if (!link->established && now - link->opened_us > handshake_us) {
      to_close.emplace_back(id, "no HELLO within the handshake timeout");
    } else if (link->established && now - link->last_rx_us > dead_us) {
      ++counters_.dead_links;
      to_close.emplace_back(id, "peer silent");
    }
  }
  for (const auto& [id, why] : to_close) {
    if (Link* l = find_link(id)) l->close(why);
  }
  try {
    if (remote_.expire(std::chrono::steady_clock::now()) > 0) {
      LOG_INFO("mesh: dropped the routers of a gateway gone for %lld ms",
               static_cast<long long>(config_.grace.count()));
      changed();
    }
    for (auto& [ep, t] : targets_) {
      if (t.self || t.link_id != 0 || now < t.next_attempt_us) continue;
      if (t.gateway_id) {
        auto p = peers_.find(*t.gateway_id);
        if (p != peers_.end() && p->second.link_id != 0) continue;
      }
      dial(ep, t);
    }
  } catch (const std::exception& e) {
    LOG_ERROR("mesh: tick: %s", e.what());
  }
  refresh_snapshot();
}

void MeshServer::set_local_routers(const std::vector<RouterRecord>& routers) {
  const std::set<RouterRecord> fresh(routers.begin(), routers.end());
  std::vector<std::byte> out;
  std::size_t n = 0;
  auto emit = [&](const RouterRecord& r, bool present) {
    ++version_.seq;
    mw::encode_update(mw::Update{config_.gateway_id,
                                 {version_.incarnation, version_.seq},
                                 present,
                                 to_wire(r)},
                      out);
    ++n;
  };
  // Routers are identified without their RTT: a changed RTT is one UPDATE (present) that
  // replaces the record at the receivers, not a removal and an addition.
  auto same_router = [](const RouterRecord& a, const RouterRecord& b) {
    return a.proto_id == b.proto_id && a.provider_id == b.provider_id && a.address == b.address;
  };
  auto contains_router = [&](const std::set<RouterRecord>& set, const RouterRecord& r) {
    auto it = set.lower_bound(RouterRecord{r.proto_id, r.provider_id, r.address, 0});
    return it != set.end() && same_router(*it, r);
  };
  for (const auto& r : local_) {
    if (!contains_router(fresh, r)) emit(r, false);
  }
  for (const auto& r : fresh) {
    if (!local_.contains(r)) emit(r, true);
  }
  local_ = fresh;
  if (out.empty()) return;
  for (Link* link : established_links()) {
    link->send(out);
    counters_.updates_sent += n;
  }
  refresh_snapshot();
}

std::optional<std::chrono::microseconds> MeshServer::rtt_to(std::uint32_t gateway) const {
  auto it = peers_.find(gateway);
  if (it == peers_.end()) return std::nullopt;
  return it->second.rtt.rtt();
}

void MeshServer::changed() noexcept {
  try {
    on_change_();
  } catch (const std::exception& e) {
    LOG_ERROR("mesh: publishing the table failed: %s", e.what());
  }
}

MeshSnapshot MeshServer::snapshot() const {
  std::lock_guard lock(snapshot_mu_);
  return snapshot_;
}

void MeshServer::refresh_snapshot() noexcept {
  try {
    MeshSnapshot s;
    const std::int64_t now = now_us();
    std::map<std::uint32_t, std::size_t> per_origin;
    const auto remote = remote_.routers();
    for (const auto& r : remote) ++per_origin[r.origin_gateway];
    s.counters = counters_;
    s.counters.bytes_in = closed_bytes_in_;
    s.counters.bytes_out = closed_bytes_out_;
    for (const auto& [id, link] : links_) {
      s.counters.bytes_in += link->bytes_in();
      s.counters.bytes_out += link->bytes_out();
    }
    for (const auto& [id, p] : peers_) {
      PeerStatus ps;
      ps.gateway_id = id;
      ps.mesh_endpoint = p.mesh_endpoint;
      const Link* link = nullptr;
      if (auto it = links_.find(p.link_id); it != links_.end()) link = it->second.get();
      ps.state = link != nullptr ? "up" : "down";
      if (link == nullptr) {
        for (const auto& [ep, t] : targets_) {
          if (t.gateway_id == id && t.link_id != 0) ps.state = "connecting";
        }
      }
      ps.outbound = link != nullptr && link->outbound();
      ps.rtt = p.rtt.rtt();
      ps.loss = p.rtt.loss();
      ps.routers = per_origin[id];
      ps.version = p.version;
      ps.state_seconds = static_cast<double>(now - p.since_us) / 1e6;
      s.peers.push_back(ps);
    }
    for (const auto& [ep, t] : targets_) {
      if (t.gateway_id || t.self) continue;
      PeerStatus ps;
      ps.mesh_endpoint = ep;
      ps.state = t.link_id != 0 ? "connecting" : "down";
      s.peers.push_back(ps);
    }
    s.local_version = version_;
    s.local_routers = local_.size();
    s.remote_routers = remote.size();
    s.listen = listen_;
    std::lock_guard lock(snapshot_mu_);
    snapshot_ = std::move(s);
  } catch (const std::exception&) {
    // Out of memory: keep the previous snapshot.
  }
}

}  // namespace dmux::mesh

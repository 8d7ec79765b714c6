// MeshServer: construction, links (accept, dial, open, close) and the housekeeping tick.
#include "mesh/mesh_server.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>
#include <ctime>
#include <system_error>

#include "common/util/log.h"
#include "common/util/wall_clock.h"

namespace dmux::mesh {
namespace {

using std::chrono::microseconds;
namespace mw = wire::mesh;

constexpr auto kTick = std::chrono::milliseconds(100);
constexpr std::size_t kMaxLinks = 4096;           // accepted sockets beyond this are closed at once
constexpr std::size_t kSignatureCache = 1 << 17;  // verified records remembered

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

DirectoryConfig directory_config(const MeshConfig& c) {
  DirectoryConfig d = c.directory;
  d.seed_backoff_min = c.reconnect_min;
  d.seed_backoff_max = c.reconnect_max;
  return d;
}

}  // namespace

const char* to_string(PeerState s) noexcept {
  switch (s) {
    case PeerState::kDown:
      return "down";
    case PeerState::kConnecting:
      return "connecting";
    case PeerState::kUp:
      return "up";
  }
  return "unknown";
}

MeshServer::MeshServer(evloop::EventLoop& loop, const MeshConfig& config, OnChange on_change,
                       OnCrl on_crl)
    : loop_(loop),
      config_(config),
      on_change_(std::move(on_change)),
      on_crl_(std::move(on_crl)),
      ca_(crypto::Certificate::load_pem(config.ca_cert_path)),
      tls_(config.cert_path, config.key_path),
      verifier_(ca_),
      remote_(RemoteRoutersConfig{config.grace, config.max_routers_per_origin,
                                  config.max_routers_per_provider}),
      signatures_(kSignatureCache),
      intake_(remote_, signatures_, revoked_),
      local_(config.gateway_id, util::unix_time_us()),
      limiter_(config.handshakes),
      directory_(directory_config(config), config.gateway_id.value(), config.listen),
      listen_(config.listen),
      tick_(loop, [this] { on_tick(); }),
      probe_timer_(loop, [this] { on_probe_timer(); }),
      reap_(loop, [this] { graveyard_.clear(); }),
      intake_timer_(loop, [this] { run_intake(); }) {
  // Our own certificate must be one our peers accept, for the id we claim.
  const auto own = crypto::Certificate::load_pem(config.cert_path);
  crypto::CertInfo info;
  const auto r = verifier_.verify(own.der(), crypto::Role::kGateway, std::time(nullptr), info);
  if (r != crypto::VerifyResult::kOk) {
    throw std::runtime_error("mesh certificate " + config.cert_path + ": " + crypto::to_string(r));
  }
  if (wire::GatewayId{info.gateway_id} != config.gateway_id) {
    throw std::runtime_error("mesh certificate " + config.cert_path + " is for gateway " +
                             id_text(info.gateway_id) + ", not " +
                             id_text(config.gateway_id.value()));
  }
  listen_fd_ = open_listener(listen_);
  directory_ = PeerDirectory(directory_config(config), config.gateway_id.value(), listen_);
  accept_watcher_ =
      std::make_unique<evloop::IoWatcher>(loop, listen_fd_.get(), [this] { on_accept(); });
  for (const auto& seed : config_.seeds) directory_.add_seed(seed);
  last_tick_us_ = now_us();
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

MeshServer::LinkData& MeshServer::data(const Link& link) { return link_data_.at(link.id()); }

void MeshServer::on_accept() noexcept {
  for (int i = 0; i < 64; ++i) {
    sockaddr_in from{};
    socklen_t len = sizeof from;
    net::UniqueFd fd(::accept4(listen_fd_.get(), reinterpret_cast<sockaddr*>(&from), &len,
                               SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (fd.get() < 0) return;
    const auto remote = net::Endpoint::from_sockaddr(from);
    if (links_.size() >= kMaxLinks ||
        limiter_.on_accept(remote.addr, std::chrono::steady_clock::now()) !=
            HandshakeLimiter::Verdict::kAccept) {
      ++counters_.handshakes_refused;  // closed by UniqueFd before any TLS work
      continue;
    }
    const int one = 1;
    ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    try {
      const std::uint64_t id = next_link_id_++;
      auto& d = link_data_.emplace(id, LinkData(config_.max_certificates_per_link)).first->second;
      d.source = remote.addr;
      d.limited = true;
      auto link = std::make_unique<Link>(loop_, tls_, std::move(fd), false, remote, id,
                                         static_cast<LinkEvents&>(*this));
      link->opened_us = now_us();
      links_.emplace(id, std::move(link));
      ++counters_.links_accepted;
    } catch (const std::exception& e) {
      limiter_.on_failed(remote.addr, std::chrono::steady_clock::now());
      link_data_.erase(next_link_id_ - 1);
      LOG_WARN("mesh: cannot accept a link: %s", e.what());
    }
  }
}

void MeshServer::dial(const net::Endpoint& ep) noexcept {
  const auto now = std::chrono::steady_clock::now();
  net::UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  const sockaddr_in sa = ep.to_sockaddr();
  if (fd.get() < 0 ||
      (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0 &&
       errno != EINPROGRESS)) {
    ++counters_.links_failed;
    directory_.on_dial_done(ep, std::nullopt, now);
    return;
  }
  const int one = 1;
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  try {
    const std::uint64_t id = next_link_id_++;
    link_data_.emplace(id, LinkData(config_.max_certificates_per_link)).first->second.dialled = ep;
    auto link = std::make_unique<Link>(loop_, tls_, std::move(fd), true, ep, id,
                                       static_cast<LinkEvents&>(*this));
    link->opened_us = now_us();
    links_.emplace(id, std::move(link));
    ++counters_.links_dialed;
  } catch (const std::exception& e) {
    link_data_.erase(next_link_id_ - 1);
    directory_.on_dial_done(ep, std::nullopt, now);
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
    link.close(CloseReason::kCertificateRefused, crypto::to_string(r));
    return;
  }
  if (wire::GatewayId{info.gateway_id} == config_.gateway_id) {
    ++counters_.self_links;
    if (link.outbound()) directory_.mark_self(data(link).dialled);
    link.close(CloseReason::kSelf);
    return;
  }
  link.peer_id = info.gateway_id;
  data(link).peer_serial = info.serial;
  std::vector<std::byte> out;
  const Version v = local_.version();
  mw::encode_hello(mw::Hello{config_.gateway_id, listen_, {v.incarnation, v.seq}}, out);
  link.send(out);
}

void MeshServer::on_link_bad_frame(Link& link, mw::Status status) {
  ++counters_.bad_frames[static_cast<std::size_t>(status)];
  LOG_WARN("mesh: bad frame from %s (%s): %s%s", link.remote().to_string().c_str(),
           id_text(link.peer_id).c_str(), std::string(mw::to_string(status)).c_str(),
           status == mw::Status::kUnsupportedVersion
               ? " (a gateway of another protocol version: upgrade it, docs/protocol.md 17)"
               : "");
}

void MeshServer::on_link_frame(Link& link, mw::Type type, std::span<const std::byte> body) {
  link.last_rx_us = now_us();
  try {
    dispatch(link, type, body);
  } catch (const std::exception& e) {
    LOG_ERROR("mesh: error handling a frame from %s: %s", id_text(link.peer_id).c_str(), e.what());
    link.close(CloseReason::kInternal, e.what());
  }
}

void MeshServer::on_link_closed(Link& link, CloseReason reason, const std::string& detail) {
  ++counters_.closes[static_cast<std::size_t>(reason)];
  closed_bytes_in_ += link.bytes_in();
  closed_bytes_out_ += link.bytes_out();
  const std::int64_t now = now_us();
  const auto steady = std::chrono::steady_clock::now();
  LinkData& d = data(link);
  if (d.limited) limiter_.on_failed(d.source, steady);  // closed before it authenticated
  if (link.outbound() && !link.established)
    directory_.on_dial_done(d.dialled, std::nullopt, steady);
  if (link.established) {
    Peer& p = peers_[link.peer_id];
    if (p.link_id == link.id()) {
      p.link_id = 0;
      p.since_us = now;
      remote_.on_peer_down(link.peer_id, steady);
      intake_.on_link_down(link.peer_id);
      directory_.on_voucher_gone(link.peer_id);
      LOG_INFO("mesh: peer %s down: %s%s%s", id_text(link.peer_id).c_str(),
               std::string(to_string(reason)).c_str(), detail.empty() ? "" : ": ", detail.c_str());
    }
  } else if (reason != CloseReason::kDuplicate) {
    ++counters_.links_failed;
    LOG_DEBUG("mesh: link with %s closed before HELLO: %s %s", link.remote().to_string().c_str(),
              std::string(to_string(reason)).c_str(), detail.c_str());
  }
  link_data_.erase(link.id());
  auto it = links_.find(link.id());
  if (it != links_.end()) {
    graveyard_.push_back(std::move(it->second));
    links_.erase(it);
    reap_.start_once(microseconds(0));
  }
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

void MeshServer::close_stale_links(std::int64_t now, bool own_stall) {
  const std::int64_t handshake_us =
      std::chrono::duration_cast<microseconds>(config_.handshake_timeout).count();
  const std::int64_t dead_us =
      std::chrono::duration_cast<microseconds>(config_.probe_interval).count() *
      config_.dead_after_probes;
  std::vector<std::pair<std::uint64_t, CloseReason>> to_close;
  for (auto& [id, link] : links_) {
    if (!link->established && now - link->opened_us > handshake_us) {
      to_close.emplace_back(id, CloseReason::kHandshakeTimeout);
    } else if (link->established && !own_stall && now - link->last_rx_us > dead_us) {
      ++counters_.dead_links;
      to_close.emplace_back(id, CloseReason::kSilent);
    }
  }
  for (const auto& [id, why] : to_close) {
    if (Link* l = find_link(id)) l->close(why);
  }
}

void MeshServer::on_tick() noexcept {
  const std::int64_t now = now_us();
  // After a stall of our own loop (a SIGSTOP, a slow disk), what peers sent meanwhile is still
  // unread: judge nobody silent until this loop has read it (the next tick).
  const bool own_stall =
      now - last_tick_us_ > 3 * std::chrono::duration_cast<microseconds>(kTick).count();
  last_tick_us_ = now;
  if (own_stall) ++counters_.own_stalls;
  close_stale_links(now, own_stall);
  try {
    const auto steady = std::chrono::steady_clock::now();
    MeshChanges changes;
    changes.routers = remote_.expire(steady);
    if (!changes.routers.empty()) {
      LOG_INFO("mesh: dropped %zu routers of gateways gone for %lld ms", changes.routers.size(),
               static_cast<long long>(config_.grace.count()));
      changed(std::move(changes));
    }
    auto linked = [this](std::uint32_t id) {
      auto p = peers_.find(id);
      return p != peers_.end() && p->second.link_id != 0;
    };
    for (const auto& ep : directory_.due(steady, linked)) dial(ep);
  } catch (const std::exception& e) {
    LOG_ERROR("mesh: tick: %s", e.what());
  }
  refresh_snapshot();
}

std::optional<std::chrono::microseconds> MeshServer::rtt_to(wire::GatewayId gateway) const {
  auto it = peers_.find(gateway.value());
  if (it == peers_.end()) return std::nullopt;
  return it->second.rtt.rtt();
}

void MeshServer::changed(MeshChanges changes) noexcept {
  try {
    on_change_(changes);
  } catch (const std::exception& e) {
    LOG_ERROR("mesh: updating the forwarding table failed: %s", e.what());
  }
}

}  // namespace dmux::mesh

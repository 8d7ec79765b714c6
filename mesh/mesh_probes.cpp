// MeshServer: RTT probes over each link (docs/protocol.md 12.5).
#include "common/util/log.h"
#include "mesh/mesh_server.h"

namespace dmux::mesh {
namespace {

using std::chrono::microseconds;
namespace mw = wire::mesh;

std::int64_t now_us() {
  return std::chrono::duration_cast<microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

void MeshServer::on_probe(Link& link, std::span<const std::byte> body) {
  mw::Probe p;
  if (const auto s = mw::parse_probe(body, p); s != mw::Status::kOk) {
    on_link_bad_frame(link, s);
    link.close(CloseReason::kBadBody, "PROBE");
    return;
  }
  std::vector<std::byte> out;
  mw::encode_probe(mw::Type::kProbeReply, p, out);
  link.send(out);
}

void MeshServer::on_probe_reply(Link& link, std::span<const std::byte> body) {
  mw::Probe p;
  if (const auto s = mw::parse_probe(body, p); s != mw::Status::kOk) {
    on_link_bad_frame(link, s);
    link.close(CloseReason::kBadBody, "PROBE_REPLY");
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
  MeshChanges changes;
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
    // Report a distance only when it moved noticeably (a median: rarely).
    const auto rtt = p.rtt.rtt();
    if (rtt && (!p.published_rtt || std::chrono::abs(*rtt - *p.published_rtt) >
                                        std::max(microseconds(100), *p.published_rtt / 10))) {
      p.published_rtt = rtt;
      changes.rtt_moved.push_back(id);
    }
  }
  if (!changes.rtt_moved.empty()) changed(std::move(changes));
  refresh_snapshot();
}

}  // namespace dmux::mesh

#include "multicast/mcast_router.h"

#include <algorithm>
#include <stdexcept>

#include "common/util/log.h"
#include "common/wire/byte_writer.h"
#include "common/wire/protocols.h"
#include "multicast/ipv4_packet.h"

namespace dmux::multicast {
namespace {

constexpr std::chrono::milliseconds kMinTriggerGap{100};  // between triggered summaries
constexpr std::size_t kMaxPacket = 65535;

agent::IngressConfig ingress_config(const RouterConfig& c) {
  agent::IngressConfig i = c.ingress;
  i.proto_id = wire::ProtoId{wire::kProtoIpv4Multicast};
  i.provider_id = c.provider_id;
  return i;
}

Drop drop_for(PeerParse p) noexcept {
  switch (p) {
    case PeerParse::kTruncated:
      return Drop::kPeerTruncated;
    case PeerParse::kUnsupportedVersion:
      return Drop::kPeerUnsupportedVersion;
    case PeerParse::kBadMac:
      return Drop::kPeerBadMac;
    case PeerParse::kMalformed:
    case PeerParse::kUnexpectedType:
    case PeerParse::kOk:
      break;
  }
  return Drop::kPeerMalformed;
}

// SplitMix64 finaliser, as gateways use it (gateway/dataplane/consistent_hash.h).
constexpr std::uint64_t mix64(std::uint64_t x) noexcept {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::uint32_t age_ms(MonoTime now, MonoTime then) noexcept {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now - then).count();
  return static_cast<std::uint32_t>(std::clamp<std::int64_t>(ms, 0, 0xffffffff));
}

}  // namespace

std::uint64_t rendezvous_score(const net::Endpoint& router, wire::ProviderId provider_id,
                               std::uint32_t client_ipv4) noexcept {
  const std::uint64_t seed = mix64((std::uint64_t{router.addr} << 32) ^
                                   (std::uint64_t{router.port} << 16) ^ mix64(provider_id.value()));
  return mix64(seed ^ mix64(client_ipv4));
}

McastRouter::McastRouter(const RouterConfig& config, const PeerKey& key,
                         const crypto::ReturnKey& return_key,
                         const std::optional<crypto::TunnelKeyBytes>& static_key,
                         Transport& transport, Now now)
    : config_(config),
      key_(key),
      ingress_(ingress_config(config), return_key, static_key),
      transport_(transport),
      membership_(config.membership),
      peers_(config.peers, config.peer_dead_after),
      next_seq_(now.unix_us),
      out_(kGroupDataFixedLen + kMaxPacket + kPeerMacLen) {
  if (config_.self.addr == 0 || config_.self.port == 0 ||
      config_.provider_id == wire::ProviderId{0})
    throw std::invalid_argument("router address, port and provider id must not be 0");
  if (write_general_query(query_, config_.self.addr, config_.query_response_ds,
                          static_cast<std::uint32_t>(config_.query_interval.count() / 1000)) == 0)
    throw std::logic_error("query buffer too small");
  next_expiry_ = now.mono;
  next_query_ = now.mono + config_.query_interval;
  next_summary_ = now.mono;
  last_summary_ = now.mono - kMinTriggerGap;
}

void McastRouter::on_tunnel(std::span<std::byte> datagram, const net::Endpoint& from,
                            const Now& now) noexcept {
  ++counters_.tunnels_received;
  counters_.tunnel_bytes_received += datagram.size();
  wire::TunnelHeader h;
  std::span<const std::byte> packet;
  switch (ingress_.on_datagram(datagram, from, now.mono, h, packet, reply_)) {
    case agent::Ingress::Verdict::kDropped:
      return;  // counted by Ingress
    case agent::Ingress::Verdict::kReply:
      return send_reply();
    case agent::Ingress::Verdict::kPacket:
      break;
  }
  // Return routability first: no membership, no delivery, no RETURN for an unproven address.
  if (!ingress_.may_send(h.client_ipv4, h.client_port) || !ingress_.proven(h)) return;
  Ipv4View ip;
  if (!parse_ipv4(packet, ip)) return counters_.drop(Drop::kBadPacket);
  if (!is_multicast(ip.dst)) return counters_.drop(Drop::kNotMulticast);
  const Member sender{h.client_ipv4, h.client_port, h.token};
  if (ip.protocol == kIpProtoIgmp) return on_igmp(sender, ip.payload, ip.fragment, now);
  if (is_link_local_group(ip.dst)) return counters_.drop(Drop::kLinkLocalGroup);
  ++counters_.group_packets;
  const std::size_t n =
      deliver_local(ip.dst, sender, packet) + forward_to_peers(ip.dst, sender, packet, now);
  if (n == 0) ++counters_.no_receivers;
}

void McastRouter::on_igmp(const Member& from, std::span<const std::byte> igmp, bool fragment,
                          const Now& now) noexcept {
  std::size_t count = 0;
  const IgmpStatus s = fragment ? IgmpStatus::kMalformed : parse_igmp(igmp, changes_, count);
  if (s == IgmpStatus::kIgnored) {
    ++counters_.igmp_ignored;
    return;
  }
  if (s != IgmpStatus::kOk) return counters_.drop(Drop::kBadIgmp);
  ++counters_.igmp_messages;
  const std::uint64_t joins = membership_.counters().joins;
  const std::uint64_t leaves = membership_.counters().leaves;
  try {  // joins allocate (control plane); out of memory refuses the report
    for (std::size_t i = 0; i < count; ++i) {
      const GroupChange& c = changes_[i];
      if (!is_routable_group(c.group)) {
        ++counters_.ignored_groups;
      } else if (c.join) {
        membership_.join(from, c.group, now.mono);
      } else {
        membership_.leave(from, c.group, now.mono);
      }
    }
  } catch (const std::exception& e) {
    LOG_ERROR("membership update from %s: %s", net::ipv4_to_string(from.ipv4).c_str(), e.what());
  }
  // A new or ended membership changes what peers forward to us: tell them now.
  if (membership_.counters().joins != joins || membership_.counters().leaves != leaves)
    trigger_summary(now);
}

std::size_t McastRouter::deliver_local(std::uint32_t group, const Member& sender,
                                       std::span<const std::byte> packet) noexcept {
  const std::vector<Member>* members = membership_.members(group);
  if (members == nullptr) return 0;
  std::size_t n = 0;
  for (const Member& m : *members) {
    if (client_key(m) == client_key(sender)) continue;  // never echo a packet to its sender
    if (!send_to_member(m, packet)) continue;
    ++counters_.delivered;
    counters_.delivered_bytes += packet.size();
    ++n;
  }
  return n;
}

// Every RETURN to a member: its rt (the token it was proven with), and only to an address the
// destination filter allows.
bool McastRouter::send_to_member(const Member& to, std::span<const std::byte> packet) noexcept {
  if (!ingress_.may_send(to.ipv4, to.port)) return false;
  std::array<std::byte, wire::kReturnHeaderLen> header{};
  const wire::ShimHeader h{.flags = 0,
                           .proto_id = wire::ProtoId{wire::kProtoIpv4Multicast},
                           .provider_id = config_.provider_id,
                           .token = to.token};
  if (wire::write_shim(header, wire::MsgType::kReturn, h) != header.size()) return false;
  if (transport_.send_return(to, header, packet)) return true;
  counters_.drop(Drop::kSendFailed);
  return false;
}

// A TOKEN_OFFER Ingress wrote; its destination passed the filter.
void McastRouter::send_reply() noexcept {
  const std::span<const std::byte> whole = reply_.view();
  const Member to{reply_.to.addr, reply_.to.port, 0};
  if (!transport_.send_return(to, whole.first(wire::kReturnHeaderLen),
                              whole.subspan(wire::kReturnHeaderLen))) {
    counters_.drop(Drop::kSendFailed);
  }
}

PeerHeader McastRouter::header_for(wire::PeerType type, const Now& now) noexcept {
  return PeerHeader{.type = type,
                    .router_ipv4 = config_.self.addr,
                    .router_port = config_.self.port,
                    .part = 0,
                    .parts = 0,
                    .provider_id = config_.provider_id,
                    .seq = next_seq_++,
                    .sent_us = now.unix_us};
}

std::size_t McastRouter::forward_to_peers(std::uint32_t group, const Member& sender,
                                          std::span<const std::byte> packet,
                                          const Now& now) noexcept {
  std::size_t n = 0;
  for (const Peer& p : peers_.peers()) {
    if (!PeerSet::has_group(p, group)) continue;
    const std::size_t head = write_peer_header(out_, header_for(wire::PeerType::kGroupData, now));
    wire::ByteWriter w{std::span<std::byte>(out_).subspan(head)};
    w.u32(sender.ipv4);
    w.u16(sender.port);
    w.u16(0);
    w.u64(sender.token);
    w.bytes(packet);
    const std::size_t len = w.ok() ? seal(out_, head + w.size(), key_) : 0;
    if (head != 0 && len != 0 && transport_.send_peer(p.endpoint, std::span(out_).first(len))) {
      ++counters_.forwarded;
      ++n;
    } else {
      counters_.drop(Drop::kSendFailed);
    }
  }
  return n;
}

void McastRouter::on_peer_message(std::span<const std::byte> datagram, const Now& now) noexcept {
  PeerHeader h;
  std::span<const std::byte> body;
  if (const PeerParse s = parse_peer_header(datagram, h, body); s != PeerParse::kOk)
    return counters_.drop(drop_for(s));
  Peer* peer = peers_.find(h.router_ipv4, h.router_port);
  if (peer == nullptr) return counters_.drop(Drop::kPeerUnknown);
  if (h.provider_id != config_.provider_id) return counters_.drop(Drop::kPeerWrongProvider);
  if (!peer_mac_ok(datagram, key_)) return counters_.drop(Drop::kPeerBadMac);
  const auto skew_us = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(config_.max_clock_skew).count());
  const std::uint64_t diff =
      h.sent_us > now.unix_us ? h.sent_us - now.unix_us : now.unix_us - h.sent_us;
  if (diff > skew_us) return counters_.drop(Drop::kPeerStale);
  if (!PeerSet::accept_seq(*peer, h.seq)) return counters_.drop(Drop::kPeerReplayed);
  if (PeerSet::heard(*peer, now.mono)) {
    LOG_INFO("peer %s is up", peer->endpoint.to_string().c_str());
    trigger_summary(now);  // let it learn our members at once
  }
  if (h.type == wire::PeerType::kGroupData) return on_group_data(body, now);
  try {
    on_summary(*peer, h, body, now);
  } catch (const std::exception& e) {
    LOG_ERROR("summary from %s: %s", peer->endpoint.to_string().c_str(), e.what());
  }
}

void McastRouter::on_group_data(std::span<const std::byte> body, const Now&) noexcept {
  Member origin;
  std::span<const std::byte> packet;
  Ipv4View ip;
  if (parse_group_data(body, origin, packet) != PeerParse::kOk || !parse_ipv4(packet, ip) ||
      !is_routable_group(ip.dst) || ip.protocol == kIpProtoIgmp) {
    return counters_.drop(Drop::kPeerBadPacket);
  }
  ++counters_.from_peers;
  deliver_local(ip.dst, origin, packet);  // and never forwarded again
}

void McastRouter::on_summary(Peer& peer, const PeerHeader& h, std::span<const std::byte> body,
                             const Now& now) {
  SummaryReader reader;
  if (const PeerParse s = reader.init(body); s != PeerParse::kOk)
    return counters_.drop(s == PeerParse::kTruncated ? Drop::kPeerTruncated : Drop::kPeerMalformed);
  if (!PeerSet::on_summary_part(peer, h, reader, now.mono)) return;
  ++counters_.summaries_received;
  reconcile(peer);
}

// A client is a member at one router: the one that heard its latest report. Reports closer than
// move_tolerance are a tie, which the router with the lower (address, port) wins. Both routers
// apply the same rule to the same two report times, so exactly one keeps the client.
void McastRouter::reconcile(const Peer& peer) {
  std::vector<std::uint64_t> moved;
  for (const auto& [key, remote] : peer.clients) {
    const Membership::Client* local = membership_.client(key);
    if (local == nullptr) continue;
    const bool peer_newer = remote.report_time > local->last_report + config_.move_tolerance;
    const bool tie =
        !peer_newer && local->last_report <= remote.report_time + config_.move_tolerance;
    if (peer_newer || (tie && peer.endpoint < config_.self)) moved.push_back(key);
  }
  for (const std::uint64_t key : moved) {
    membership_.remove_client(key);
    ++counters_.moved_to_peer;
  }
}

bool McastRouter::adopter_is_self(const Peer& dead, std::uint32_t client_ipv4) const noexcept {
  const std::uint64_t mine = rendezvous_score(config_.self, config_.provider_id, client_ipv4);
  for (const Peer& p : peers_.peers()) {
    if (&p == &dead || !p.alive) continue;
    const std::uint64_t theirs = rendezvous_score(p.endpoint, config_.provider_id, client_ipv4);
    if (theirs > mine || (theirs == mine && p.endpoint < config_.self)) return false;
  }
  return true;
}

// The dead peer's members would hear nothing until their reports reach another router (after the
// gateways notice the death, and the next report). The router the gateways' own rule will pick
// takes them over at once, with their last report time, and queries them so they refresh.
void McastRouter::adopt(Peer& dead, const Now& now) {
  for (const auto& [key, remote] : dead.clients) {
    if (membership_.client(key) != nullptr) continue;
    const Member m{static_cast<std::uint32_t>(key >> 16), static_cast<std::uint16_t>(key & 0xffff),
                   remote.token};
    if (!adopter_is_self(dead, m.ipv4)) continue;
    // The peer is authenticated, but its member must be as proven as our own (14.2: the token is
    // the rt of that address).
    if (!ingress_.tokens().proven(wire::ProtoId{wire::kProtoIpv4Multicast}, m.ipv4, m.port,
                                  m.token)) {
      ingress_.drop(agent::IngressDrop::kUnproven);
      continue;
    }
    const MonoTime when = std::min(remote.report_time, now.mono);
    bool any = false;
    for (const std::uint32_t g : remote.groups) any = membership_.join(m, g, when) || any;
    if (!any) continue;
    ++counters_.adopted;
    send_query(m);
  }
  if (!dead.clients.empty()) trigger_summary(now);
}

void McastRouter::send_query(const Member& to) noexcept {
  if (send_to_member(to, query_)) ++counters_.queries_sent;
}

void McastRouter::trigger_summary(const Now& now) noexcept {
  next_summary_ = std::min(next_summary_, std::max(now.mono, last_summary_ + kMinTriggerGap));
}

void McastRouter::send_summaries(const Now& now) {
  // Split the clients into parts of at most summary_part_bytes.
  const std::size_t room = config_.summary_part_bytes - kSummaryFixedLen - kPeerMacLen;
  std::vector<std::size_t> part_sizes{0};  // clients per part
  std::size_t used = 0;
  std::size_t included = 0;
  for (const auto& [key, c] : membership_.clients()) {
    const std::size_t need = kSummaryEntryLen + 4 * c.groups.size();
    if (used + need > room) {
      if (part_sizes.size() == kMaxSummaryParts) break;
      part_sizes.push_back(0);
      used = 0;
    }
    used += need;
    ++part_sizes.back();
    ++included;
  }
  counters_.summary_overflow += membership_.clients().size() - included;
  auto it = membership_.clients().begin();
  const auto parts = static_cast<std::uint8_t>(part_sizes.size());
  for (std::uint8_t part = 0; part < parts; ++part) {
    PeerHeader h = header_for(wire::PeerType::kSummary, now);
    h.part = part;
    h.parts = parts;
    const std::size_t head = write_peer_header(out_, h);
    wire::ByteWriter w{std::span<std::byte>(out_).subspan(head)};
    w.u32(static_cast<std::uint32_t>(config_.summary_interval.count()));
    w.u16(static_cast<std::uint16_t>(part_sizes[part]));
    w.u16(0);
    for (std::size_t i = 0; i < part_sizes[part]; ++i, ++it) {
      const auto& [key, c] = *it;
      w.u32(static_cast<std::uint32_t>(key >> 16));
      w.u16(static_cast<std::uint16_t>(key & 0xffff));
      w.u16(static_cast<std::uint16_t>(c.groups.size()));
      w.u64(c.token);
      w.u32(age_ms(now.mono, c.last_report));
      for (const auto& g : c.groups) w.u32(g.group);
    }
    const std::size_t len = w.ok() ? seal(out_, head + w.size(), key_) : 0;
    for (const Peer& p : peers_.peers()) {
      if (len != 0 && transport_.send_peer(p.endpoint, std::span(out_).first(len))) {
        ++counters_.summaries_sent;
      } else {
        counters_.drop(Drop::kSendFailed);
      }
    }
  }
}

void McastRouter::on_timer(const Now& now) {
  if (now.mono >= next_expiry_) {
    membership_.expire(now.mono);
    ingress_.expire(now.mono);
    next_expiry_ = now.mono + std::clamp<std::chrono::milliseconds>(
                                  config_.membership.timeout / 10, std::chrono::milliseconds(50),
                                  std::chrono::milliseconds(1000));
  }
  for (const std::size_t i : peers_.expire(now.mono)) {
    Peer& dead = peers_.peers()[i];
    ++counters_.peer_deaths;
    LOG_WARN("peer %s is silent for %lld ms: dead; adopting its members",
             dead.endpoint.to_string().c_str(),
             static_cast<long long>(config_.peer_dead_after.count()));
    adopt(dead, now);
    PeerSet::forget(dead);
  }
  if (now.mono >= next_query_) {
    for (const auto& [key, c] : membership_.clients()) {
      send_query(Member{static_cast<std::uint32_t>(key >> 16),
                        static_cast<std::uint16_t>(key & 0xffff), c.token});
    }
    next_query_ = now.mono + config_.query_interval;
  }
  if (now.mono >= next_summary_) {
    if (!peers_.peers().empty()) send_summaries(now);
    last_summary_ = now.mono;
    next_summary_ = now.mono + config_.summary_interval;
  }
}

MonoTime McastRouter::next_deadline() const noexcept {
  MonoTime t = std::min({next_expiry_, next_query_, next_summary_});
  for (const Peer& p : peers_.peers()) {
    if (p.alive)
      t = std::min(t, p.last_heard + config_.peer_dead_after + std::chrono::milliseconds(1));
  }
  return t;
}

}  // namespace dmux::multicast

// McastRouter with fake sockets and a fake clock: membership through TUNNEL, delivery, the
// exchange between two routers (each one's peer messages handed to the other), duplicates
// across routers, and peer death with adoption.
#include "multicast/mcast_router.h"

#include <doctest/doctest.h>

#include <vector>

#include "common/util/log.h"
#include "common/wire/client_control.h"
#include "multicast/test_packets.h"

namespace dmux::multicast {
namespace {

using std::chrono::milliseconds;
using test::Bytes;

constexpr std::uint32_t kG1 = 0xef010101, kG2 = 0xef020202;
const net::Endpoint kRouterA{0xc6120202, 5000}, kRouterB{0xc6120302, 5000};
const bool kQuiet = (log::set_level(log::Level::kError), true);  // peers coming and going
const PeerKey kKey = derive_peer_key(std::as_bytes(std::span("shared secret 16", 16)));
const crypto::ReturnKey kReturnKey =
    crypto::derive_return_key(std::as_bytes(std::span("provider secret!", 16)));
const std::optional<crypto::TunnelKeyBytes> kStaticKey = agent::test::vector_key();
const net::Endpoint kGatewayAddr{0xc6120001, 4500};

// A client that learnt its rt (a TOKEN_OFFER): its token is the rt of its address.
Member proven(std::uint32_t ip, std::uint16_t port) {
  return Member{ip, port, crypto::return_token(kReturnKey, 2, 7, ip, port)};
}
const Member kC1 = proven(0xc6120b02, 40001), kC2 = proven(0xc6120c02, 40002),
             kC3 = proven(0xc6120d02, 40003);

struct Sent {
  Member to;
  std::uint64_t token;  // from the RETURN header
  Bytes packet;
};

struct FakeTransport : Transport {
  std::vector<Sent> returns;
  std::vector<std::pair<net::Endpoint, Bytes>> peer;
  bool send_return(const Member& to, std::span<const std::byte> header,
                   std::span<const std::byte> packet) noexcept override {
    wire::ShimHeader h;
    std::span<const std::byte> none;
    Bytes whole(header.begin(), header.end());
    whole.insert(whole.end(), packet.begin(), packet.end());
    (void)wire::parse_shim(whole, wire::MsgType::kReturn, h, none);
    returns.push_back(Sent{to, h.token, Bytes(packet.begin(), packet.end())});
    return true;
  }
  bool send_peer(const net::Endpoint& to, std::span<const std::byte> m) noexcept override {
    peer.emplace_back(to, Bytes(m.begin(), m.end()));
    return true;
  }
  // Group data (UDP) RETURNed to `m`.
  [[nodiscard]] std::size_t data_to(const Member& m) const {
    std::size_t n = 0;
    for (const auto& s : returns)
      n += s.to == m && s.token == m.token && s.packet[9] == std::byte{17};
    return n;
  }
  [[nodiscard]] std::size_t queries_to(const Member& m) const {
    std::size_t n = 0;
    for (const auto& s : returns) n += s.to == m && s.packet[9] == std::byte{2};
    return n;
  }
};

struct Clock {
  Now now{MonoTime(std::chrono::hours(1)), 1'700'000'000'000'000};
  const Now& advance(milliseconds d) {
    now.mono += d;
    now.unix_us += static_cast<std::uint64_t>(d.count()) * 1000;
    return now;
  }
};

RouterConfig config(const net::Endpoint& self, std::vector<net::Endpoint> peers) {
  RouterConfig c;
  c.self = self;
  c.provider_id = dmux::wire::ProviderId{7};
  c.membership.timeout = milliseconds(10000);
  c.query_interval = milliseconds(4000);
  c.peers = std::move(peers);
  c.summary_interval = milliseconds(1000);
  c.peer_dead_after = milliseconds(3500);
  c.ingress.allowed_destinations = {*net::parse_ipv4_prefix("198.18.0.0/15")};
  return c;
}

Bytes join(const Member& m, std::uint32_t g) {
  return test::tunnel(m.ipv4, m.port, m.token, test::ipv4(m.ipv4, g, 2, test::v2_report(g)));
}
Bytes leave(const Member& m, std::uint32_t g) {
  return test::tunnel(m.ipv4, m.port, m.token,
                      test::ipv4(m.ipv4, 0xe0000002, 2, test::v2_leave(g)));
}
Bytes data(const Member& m, std::uint32_t g) {
  return test::tunnel(m.ipv4, m.port, m.token, test::ipv4(m.ipv4, g, 17, Bytes(16, std::byte{7})));
}

// Hands a datagram to the router as the socket would (a mutable copy).
void tunnel(McastRouter& r, Bytes d, const Now& now) { r.on_tunnel(d, kGatewayAddr, now); }

// Two routers of one provider, peers of each other; pump() delivers their peer messages.
// `a_return_key` is A's K_r (B's is kReturnKey): another one models routers given different keys.
struct Pair {
  explicit Pair(const crypto::ReturnKey& a_return_key = kReturnKey)
      : a(config(kRouterA, {kRouterB}), kKey, a_return_key, kStaticKey, ta, clock.now),
        b(config(kRouterB, {kRouterA}), kKey, kReturnKey, kStaticKey, tb, clock.now) {}

  Clock clock;
  FakeTransport ta, tb;
  McastRouter a;
  McastRouter b;
  bool a_alive = true;

  void pump() {
    for (int round = 0; round < 4; ++round) {
      auto from_a = std::move(ta.peer);
      auto from_b = std::move(tb.peer);
      ta.peer.clear();
      tb.peer.clear();
      for (auto& [to, m] : from_a) b.on_peer_message(m, clock.now);
      for (auto& [to, m] : from_b) {
        if (a_alive) a.on_peer_message(m, clock.now);
      }
    }
  }
  void tick(milliseconds d) {
    clock.advance(d);
    if (a_alive) a.on_timer(clock.now);
    b.on_timer(clock.now);
    if (!a_alive) ta.peer.clear();
    pump();
  }
};

TEST_CASE("members receive group data, with their token; the sender and non-members do not") {
  Clock clock;
  FakeTransport t;
  McastRouter r(config(kRouterA, {}), kKey, kReturnKey, kStaticKey, t, clock.now);
  tunnel(r, join(kC1, kG1), clock.now);
  tunnel(r, join(kC2, kG1), clock.now);
  tunnel(r, join(kC3, kG2), clock.now);
  CHECK(r.membership().members(kG1)->size() == 2);
  tunnel(r, data(kC1, kG1), clock.now);
  CHECK(t.data_to(kC2) == 1);
  CHECK(t.data_to(kC1) == 0);                   // not echoed to the sender
  CHECK(t.data_to(kC3) == 0);                   // not a member of G1
  tunnel(r, data(kC3, 0xef090909), clock.now);  // nobody there
  CHECK(r.counters().no_receivers == 1);
  tunnel(r, leave(kC2, kG1), clock.now);
  tunnel(r, data(kC1, kG1), clock.now);
  CHECK(t.data_to(kC2) == 1);
  CHECK(r.counters().group_packets == 3);
  CHECK(r.counters().delivered == 1);
}

TEST_CASE("bad TUNNELs are dropped and counted by reason") {
  Clock clock;
  FakeTransport t;
  McastRouter r(config(kRouterA, {}), kKey, kReturnKey, kStaticKey, t, clock.now);
  const std::uint64_t tok = kC1.token;
  const Bytes pkt = test::ipv4(kC1.ipv4, kG1, 17, Bytes(4));
  tunnel(r, test::tunnel(kC1.ipv4, kC1.port, tok, pkt, 1), clock.now);
  tunnel(r, test::tunnel(kC1.ipv4, kC1.port, tok, pkt, 2, 8), clock.now);
  tunnel(r, test::tunnel(0x7f000001, kC1.port, tok, pkt), clock.now);
  tunnel(r, test::tunnel(kC1.ipv4, kC1.port, tok, Bytes{std::byte{0x45}, std::byte{0}}), clock.now);
  tunnel(r, test::tunnel(kC1.ipv4, kC1.port, tok, test::ipv4(kC1.ipv4, 0xc6120101, 17, Bytes(4))),
         clock.now);
  tunnel(r, test::tunnel(kC1.ipv4, kC1.port, tok, test::ipv4(kC1.ipv4, 0xe0000016, 2, Bytes(3))),
         clock.now);
  tunnel(r, test::tunnel(kC1.ipv4, kC1.port, tok, test::ipv4(kC1.ipv4, 0xe00000fb, 17, Bytes(4))),
         clock.now);
  tunnel(r, Bytes(10), clock.now);
  tunnel(r, join(kC1, 0xe00000fb), clock.now);  // a report for a link-local group: ignored
  const auto& c = r.counters();
  const auto& in = r.ingress().counters();
  CHECK(in.dropped(agent::IngressDrop::kUnsupportedProtocol) == 1);
  CHECK(in.dropped(agent::IngressDrop::kWrongProvider) == 1);
  CHECK(in.dropped(agent::IngressDrop::kForbiddenDestination) == 1);
  CHECK(c.dropped(Drop::kBadPacket) == 1);
  CHECK(c.dropped(Drop::kNotMulticast) == 1);
  CHECK(c.dropped(Drop::kBadIgmp) == 1);
  CHECK(c.dropped(Drop::kLinkLocalGroup) == 1);
  CHECK(r.ingress().receiver().counters().dropped(agent::TunnelDrop::kUnsupportedVersion) == 1);
  CHECK(c.ignored_groups == 1);
  CHECK(r.membership().clients().empty());
  CHECK(t.returns.empty());
}

TEST_CASE("forged TUNNELs and unproven joins create no membership and nothing is sent") {
  Clock clock;
  FakeTransport t;
  McastRouter r(config(kRouterA, {}), kKey, kReturnKey, kStaticKey, t, clock.now);
  const std::uint32_t victim = 0xc6126363;  // 198.18.99.99
  // 1,100 joins naming the victim on as many ports, through a real gateway (tag right) but with a
  // token the attacker had to guess.
  for (std::uint16_t port = 1000; port < 2100; ++port) {
    tunnel(r, test::tunnel(victim, port, port, test::ipv4(victim, kG1, 2, test::v2_report(kG1))),
           clock.now);
  }
  CHECK(r.ingress().counters().dropped(agent::IngressDrop::kUnproven) == 1100);
  // With the right rt but no valid tag (no gateway sealed it): dropped before anything else.
  agent::test::TestGateway forger(crypto::TunnelKeyBytes{}, 0);
  const Member v = proven(victim, 5000);
  Bytes forged = forger.tunnel(wire::TunnelHeader{.proto_id = dmux::wire::ProtoId{2},
                                                  .client_ipv4 = v.ipv4,
                                                  .client_port = v.port,
                                                  .gateway_id = {},
                                                  .token = v.token},
                               test::ipv4(victim, kG1, 2, test::v2_report(kG1)));
  tunnel(r, forged, clock.now);
  CHECK(r.ingress().receiver().counters().dropped(agent::TunnelDrop::kBadTag) == 1);
  // Group data from unproven senders is not delivered either.
  tunnel(r, join(kC1, kG1), clock.now);
  tunnel(r, test::tunnel(victim, 1, 1, test::ipv4(victim, kG1, 17, Bytes(16))), clock.now);
  CHECK(r.membership().clients().size() == 1);
  CHECK(t.data_to(kC1) == 0);
  CHECK(r.counters().group_packets == 0);
  CHECK(t.returns.empty());
}

TEST_CASE("a TOKEN_REQUEST gets a TOKEN_OFFER whose rt then joins") {
  Clock clock;
  FakeTransport t;
  McastRouter r(config(kRouterA, {}), kKey, kReturnKey, kStaticKey, t, clock.now);
  const wire::TunnelHeader h{.flags = wire::kFlagControl,
                             .proto_id = dmux::wire::ProtoId{2},
                             .client_ipv4 = 0xc6120e02,
                             .client_port = 41000,
                             .gateway_id = {},
                             .token = 0xabcdef};
  Bytes request(wire::kTokenRequestLen);
  wire::write_token_request(request);
  tunnel(r, test::gateway().tunnel(h, request), clock.now);
  REQUIRE(t.returns.size() == 1);
  const Sent& offer = t.returns.front();
  CHECK(offer.to.ipv4 == h.client_ipv4);
  CHECK(offer.token == 0xabcdef);  // the request's nonce
  wire::TokenOffer o;
  REQUIRE(wire::parse_token_offer(offer.packet, o) == wire::ParseStatus::kOk);
  const Member me{h.client_ipv4, h.client_port, o.return_token};
  CHECK(me == proven(h.client_ipv4, h.client_port));
  tunnel(r, join(me, kG1), clock.now);
  tunnel(r, data(kC1, kG1), clock.now);
  CHECK(t.data_to(me) == 1);
}

TEST_CASE("proven clients of one address are capped over all its ports") {
  Clock clock;
  FakeTransport t;
  RouterConfig c = config(kRouterA, {});
  c.membership.max_clients_per_address = 4;
  McastRouter r(c, kKey, kReturnKey, kStaticKey, t, clock.now);
  for (std::uint16_t port = 1000; port < 1100; ++port)
    tunnel(r, join(proven(0xc6126363, port), kG1), clock.now);
  CHECK(r.membership().members(kG1)->size() == 4);
  tunnel(r, data(kC1, kG1), clock.now);
  CHECK(r.counters().delivered == 4);  // one group packet: 4 copies toward that address at most
}

TEST_CASE("a peer's member is adopted only with the rt of its address") {
  // A holds another K_r than B (a misconfigured provider): its members' tokens are not B's rt.
  const crypto::ReturnKey other = crypto::derive_return_key(std::as_bytes(std::span("other", 5)));
  Pair p(other);
  const Member m{kC1.ipv4, kC1.port, crypto::return_token(other, 2, 7, kC1.ipv4, kC1.port)};
  tunnel(p.a, join(m, kG1), p.clock.now);
  p.tick(milliseconds(1000));
  REQUIRE(p.a.membership().clients().size() == 1);
  REQUIRE(p.b.peers().peers()[0].clients.size() == 1);
  p.a_alive = false;
  for (int i = 0; i < 5; ++i) p.tick(milliseconds(1000));
  CHECK(p.b.counters().peer_deaths == 1);
  CHECK(p.b.counters().adopted == 0);
  CHECK(p.b.membership().clients().empty());
  CHECK(p.b.ingress().counters().dropped(agent::IngressDrop::kUnproven) == 1);
}

TEST_CASE("members are queried every interval and expire when silent") {
  Clock clock;
  FakeTransport t;
  McastRouter r(config(kRouterA, {}), kKey, kReturnKey, kStaticKey, t, clock.now);
  tunnel(r, join(kC1, kG1), clock.now);
  r.on_timer(clock.advance(milliseconds(4000)));
  CHECK(t.queries_to(kC1) == 1);
  tunnel(r, join(kC1, kG1), clock.now);  // the answer refreshes
  r.on_timer(clock.advance(milliseconds(9000)));
  CHECK(r.membership().members(kG1) != nullptr);
  r.on_timer(clock.advance(milliseconds(1001)));
  CHECK(r.membership().members(kG1) == nullptr);
  CHECK(r.membership().counters().expired == 1);
  CHECK(r.next_deadline() > clock.now.mono);
}

TEST_CASE("two routers: each member gets each packet once, and forwarded packets stop there") {
  Pair p;
  tunnel(p.a, join(kC1, kG1), p.clock.now);
  tunnel(p.b, join(kC2, kG1), p.clock.now);
  p.tick(milliseconds(100));  // triggered summaries
  CHECK(PeerSet::has_group(p.a.peers().peers()[0], kG1));
  CHECK(PeerSet::has_group(p.b.peers().peers()[0], kG1));
  tunnel(p.a, data(kC3, kG1), p.clock.now);  // C3 (not a member) sends through A
  p.pump();
  CHECK(p.ta.data_to(kC1) == 1);
  CHECK(p.tb.data_to(kC2) == 1);
  CHECK(p.a.counters().forwarded == 1);
  CHECK(p.b.counters().from_peers == 1);
  CHECK(p.b.counters().forwarded == 0);  // never forwarded a second time
  tunnel(p.b, data(kC2, kG1), p.clock.now);
  p.pump();
  CHECK(p.ta.data_to(kC1) == 2);
  CHECK(p.tb.data_to(kC2) == 1);  // not echoed, not looped back through A
  // No member at B any more: A stops forwarding there.
  tunnel(p.b, leave(kC2, kG1), p.clock.now);
  p.tick(milliseconds(100));
  tunnel(p.a, data(kC3, kG1), p.clock.now);
  CHECK(p.a.counters().forwarded == 1);
}

TEST_CASE("a client whose reports move to another router is a member at that one only") {
  Pair p;
  tunnel(p.a, join(kC1, kG1), p.clock.now);
  p.tick(milliseconds(1000));
  CHECK(p.b.peers().peers()[0].clients.size() == 1);
  // C1's gateway now sends it to B (its router changed): B hears a newer report.
  p.tick(milliseconds(2000));
  tunnel(p.b, join(kC1, kG1), p.clock.now);
  p.tick(milliseconds(100));
  CHECK(p.a.membership().members(kG1) == nullptr);
  CHECK(p.a.counters().moved_to_peer == 1);
  REQUIRE(p.b.membership().members(kG1) != nullptr);
  tunnel(p.b, data(kC3, kG1), p.clock.now);
  tunnel(p.a, data(kC3, kG1), p.clock.now);
  p.pump();
  CHECK(p.tb.data_to(kC1) == 2);
  CHECK(p.ta.data_to(kC1) == 0);
}

TEST_CASE("reports at the same time at both routers: the lower router keeps the client") {
  Pair p;
  tunnel(p.a, join(kC1, kG1), p.clock.now);
  tunnel(p.b, join(kC1, kG1), p.clock.now);
  p.tick(milliseconds(100));
  CHECK(p.a.membership().members(kG1) != nullptr);  // A (198.18.2.2) < B (198.18.3.2)
  CHECK(p.b.membership().members(kG1) == nullptr);
}

TEST_CASE("a dead peer's members are adopted, queried, and served at once") {
  Pair p;
  tunnel(p.a, join(kC1, kG1), p.clock.now);
  tunnel(p.b, join(kC2, kG2), p.clock.now);
  p.tick(milliseconds(1000));
  p.a_alive = false;  // A crashes
  for (int i = 0; i < 3; ++i) p.tick(milliseconds(1000));
  CHECK(p.b.peers().peers()[0].alive);
  p.tick(milliseconds(1000));  // 4 s of silence > 3.5 s
  CHECK_FALSE(p.b.peers().peers()[0].alive);
  CHECK(p.b.counters().peer_deaths == 1);
  CHECK(p.b.counters().adopted == 1);
  CHECK(p.tb.queries_to(kC1) == 1);
  tunnel(p.b, data(kC2, kG1), p.clock.now);
  CHECK(p.tb.data_to(kC1) == 1);
  // The adopted membership keeps its age: without a report it expires 10 s after the last one.
  p.tick(milliseconds(4500));
  CHECK(p.b.membership().members(kG1) != nullptr);
  p.tick(milliseconds(1500));  // expiry runs every timeout / 10 (at most 1 s)
  CHECK(p.b.membership().members(kG1) == nullptr);
}

TEST_CASE("peer messages: unknown sender, bad MAC, replay, stale, wrong provider") {
  Pair p;
  tunnel(p.a, join(kC1, kG1), p.clock.now);
  p.a.on_timer(p.clock.advance(milliseconds(1000)));
  REQUIRE(!p.ta.peer.empty());
  const Bytes good = p.ta.peer.front().second;
  p.ta.peer.clear();
  p.b.on_peer_message(good, p.clock.now);
  p.b.on_peer_message(good, p.clock.now);  // replayed
  Bytes bad_mac = good;
  bad_mac.back() ^= std::byte{1};
  p.b.on_peer_message(bad_mac, p.clock.now);
  Bytes unknown = good;
  unknown[7] = std::byte{9};  // 198.18.2.9: not a peer
  p.b.on_peer_message(unknown, p.clock.now);
  Bytes other_provider = good;
  other_provider[15] = std::byte{8};
  p.b.on_peer_message(other_provider, p.clock.now);
  Clock later = p.clock;
  later.advance(milliseconds(31000));
  FakeTransport t;
  McastRouter fresh(config(kRouterB, {kRouterA}), kKey, kReturnKey, kStaticKey, t, later.now);
  fresh.on_peer_message(good, later.now);
  const auto& c = p.b.counters();
  CHECK(c.summaries_received == 1);
  CHECK(c.dropped(Drop::kPeerReplayed) == 1);
  CHECK(c.dropped(Drop::kPeerBadMac) == 1);
  CHECK(c.dropped(Drop::kPeerUnknown) == 1);
  CHECK(c.dropped(Drop::kPeerWrongProvider) == 1);
  CHECK(fresh.counters().dropped(Drop::kPeerStale) == 1);
  const PeerKey other = derive_peer_key(std::as_bytes(std::span("another secret!!", 16)));
  FakeTransport t2;
  McastRouter stranger(config(kRouterB, {kRouterA}), other, kReturnKey, kStaticKey, t2,
                       p.clock.now);
  stranger.on_peer_message(good, p.clock.now);
  CHECK(stranger.counters().dropped(Drop::kPeerBadMac) == 1);
}

TEST_CASE("a large membership is summarised in several parts and reassembled") {
  Pair p;
  for (std::uint16_t i = 0; i < 600; ++i) {
    const Member m = proven(0xc6130000u + i, static_cast<std::uint16_t>(1000 + i));
    tunnel(p.a, join(m, kG1), p.clock.now);
    tunnel(p.a, join(m, kG2), p.clock.now);
  }
  p.tick(milliseconds(1000));
  CHECK(p.a.counters().summaries_sent >= 2);
  CHECK(p.b.peers().peers()[0].clients.size() == 600);
  CHECK(p.b.counters().summaries_received >= 1);
}

TEST_CASE("rendezvous score matches the gateway's rule") {
  // Different routers score the same client differently; the score depends on nothing else.
  CHECK(rendezvous_score(kRouterA, dmux::wire::ProviderId{7}, kC1.ipv4) ==
        rendezvous_score(kRouterA, dmux::wire::ProviderId{7}, kC1.ipv4));
  CHECK(rendezvous_score(kRouterA, dmux::wire::ProviderId{7}, kC1.ipv4) !=
        rendezvous_score(kRouterB, dmux::wire::ProviderId{7}, kC1.ipv4));
}

}  // namespace
}  // namespace dmux::multicast

namespace dmux::multicast {

// iperf's default 1470-byte datagram is a 1498-byte IPv4 packet: larger than a client's tunnel
// MTU, so the sending client's host fragments it (no DF), and the router must carry each
// fragment as it came, to local members and to peers, for the receivers' hosts to reassemble.
TEST_CASE("fragments of a datagram larger than the tunnel reach every member as they came") {
  Pair p;
  tunnel(p.a, join(kC2, kG1), p.clock.now);
  tunnel(p.b, join(kC3, kG1), p.clock.now);
  p.tick(milliseconds(1000));
  const Bytes whole = test::ipv4(kC1.ipv4, kG1, 17, Bytes(1478, std::byte{0x5a}));
  const std::size_t first_len = 20 + 1376;  // a fragment payload is a multiple of 8
  std::vector<Bytes> fragments;
  for (const bool first : {true, false}) {
    Bytes payload = first ? Bytes(whole.begin() + 20, whole.begin() + first_len)
                          : Bytes(whole.begin() + first_len, whole.end());
    Bytes f = test::ipv4(kC1.ipv4, kG1, 17, payload);
    f[6] = first ? std::byte{0x20} : std::byte{0};  // MF on the first
    f[7] = first ? std::byte{0} : static_cast<std::byte>(1376 / 8);
    f[10] = f[11] = std::byte{0};
    test::put_sum(f, 0, 20, 10);
    fragments.push_back(f);
    tunnel(p.a, test::tunnel(kC1.ipv4, kC1.port, kC1.token, f), p.clock.now);
  }
  p.pump();
  REQUIRE(p.ta.returns.size() >= 2);
  std::vector<Bytes> to_c2, to_c3;
  for (const auto& s : p.ta.returns) {
    if (s.to == kC2 && s.packet[9] == std::byte{17}) to_c2.push_back(s.packet);
  }
  for (const auto& s : p.tb.returns) {
    if (s.to == kC3 && s.packet[9] == std::byte{17}) to_c3.push_back(s.packet);
  }
  CHECK(to_c2 == fragments);
  CHECK(to_c3 == fragments);
}

}  // namespace dmux::multicast

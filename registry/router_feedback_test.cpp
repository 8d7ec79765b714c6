// The ICMP quote parser and the feedback rules (docs/protocol.md 9.9) with a fake clock: only a
// refused probe withdraws a router; quotes of forged, old or foreign datagrams do nothing.
#include "registry/router_feedback.h"

#include <doctest/doctest.h>

#include <memory>
#include <vector>

#include "common/crypto/data_path_mac.h"
#include "common/wire/shim.h"
#include "common/wire/tunnel_seal.h"

using namespace dmux;
using namespace dmux::registry;
using namespace std::chrono_literals;

namespace {
constexpr std::uint32_t kGateway = 0xC6120101;  // 198.18.1.1, also the tunnel source
constexpr std::uint32_t kRouterIp = 0xC6120D02;
constexpr std::uint16_t kRouterPort = 5000;
constexpr std::uint32_t kKeyId = 0x1234abcd;
const RouterId kRouter{wire::ProtoId{41}, ProviderId{7}, net::Endpoint{kRouterIp, kRouterPort}};

void put16(std::vector<std::byte>& b, std::uint16_t v) {
  b.push_back(std::byte(v >> 8));
  b.push_back(std::byte(v & 0xff));
}
void put32(std::vector<std::byte>& b, std::uint32_t v) {
  put16(b, static_cast<std::uint16_t>(v >> 16));
  put16(b, static_cast<std::uint16_t>(v & 0xffff));
}
void ipv4(std::vector<std::byte>& b, std::uint8_t proto, std::uint16_t total, std::uint32_t src,
          std::uint32_t dst) {
  b.push_back(std::byte{0x45});
  b.push_back(std::byte{0});
  put16(b, total);
  put32(b, 0);  // id, no fragment
  b.push_back(std::byte{64});
  b.push_back(std::byte{proto});
  put16(b, 0);
  put32(b, src);
  put32(b, dst);
}

// An ICMP port unreachable from `reporter` quoting the UDP datagram src -> dst carrying
// `udp_payload`, of which the first `quoted` bytes are included (as a host cuts it).
std::vector<std::byte> icmp(std::uint32_t reporter, std::uint32_t src, std::uint32_t dst,
                            std::uint16_t dport, std::span<const std::byte> udp_payload,
                            std::size_t quoted = SIZE_MAX) {
  const std::size_t q = std::min(quoted, udp_payload.size());
  std::vector<std::byte> b;
  ipv4(b, 1, static_cast<std::uint16_t>(20 + 8 + 20 + 8 + q), reporter, src);
  b.insert(b.end(), {std::byte{3}, std::byte{3}, std::byte{0}, std::byte{0}});
  put32(b, 0);
  ipv4(b, 17, static_cast<std::uint16_t>(20 + 8 + udp_payload.size()), src, dst);
  put16(b, 40000);
  put16(b, dport);
  put16(b, static_cast<std::uint16_t>(8 + udp_payload.size()));
  put16(b, 0);
  b.insert(b.end(), udp_payload.begin(), udp_payload.begin() + static_cast<std::ptrdiff_t>(q));
  return b;
}

crypto::TunnelKeyBytes key_bytes(std::uint8_t fill) {
  crypto::TunnelKeyBytes k;
  k.fill(std::byte{fill});
  return k;
}

// A TUNNEL as the gateway sends it: header, `payload_len` payload bytes, sealed with `key`.
std::vector<std::byte> tunnel(std::uint64_t counter, const crypto::TunnelKey& key,
                              std::size_t payload_len = 64, std::uint32_t gateway = kGateway,
                              std::uint32_t key_id = kKeyId) {
  wire::TunnelHeader h;
  h.proto_id = wire::ProtoId{41};
  h.gateway_id = wire::GatewayId{gateway};
  h.key_id = key_id;
  h.counter = counter;
  std::vector<std::byte> b(wire::kTunnelHeaderLen + payload_len, std::byte{0x60});
  REQUIRE(wire::write_tunnel(b, h) == wire::kTunnelHeaderLen);
  wire::seal_tunnel(b, h.gateway_id, counter, key);
  return b;
}

std::uint64_t fixed_random() { return 0x0123456789abcdefULL; }

struct Fixture {
  RouterRegistry registry{RegistryConfig{}};
  std::shared_ptr<const crypto::TunnelKey> key = std::make_shared<crypto::TunnelKey>(key_bytes(7));
  RouterFeedback feedback{
      FeedbackConfig{.gateway_id = wire::GatewayId{kGateway}, .tunnel_source = kGateway}, registry,
      fixed_random};
  TimePoint t{};
  Fixture() {
    Session s;
    s.id = 99;
    s.key_id = kKeyId;
    s.key.fill(std::byte{3});
    RegistrationEvidence ev;
    ev.key_id = kKeyId;
    ev.key = key;
    REQUIRE(registry.on_register(kRouter, 1, s, t, ev) == AdmitResult::kAccepted);
  }
  FeedbackResult feed(const std::vector<std::byte>& packet, RouterFeedback::Probe& p) {
    return feedback.on_icmp(packet, t, p);
  }
  std::vector<std::byte> refusal_of(const RouterFeedback::Probe& p,
                                    std::uint32_t reporter = kRouterIp) {
    return icmp(reporter, kGateway, p.to.addr, p.to.port, p.bytes);
  }
};
}  // namespace

TEST_CASE("icmp quote: a port unreachable is parsed, everything else is typed") {
  const std::vector<std::byte> payload(100, std::byte{1});
  PortUnreachable pu;
  auto pkt = icmp(kRouterIp, kGateway, kRouterIp, kRouterPort, payload);
  REQUIRE(parse_port_unreachable(pkt, pu) == QuoteStatus::kOk);
  CHECK(pu.reporter == kRouterIp);
  CHECK(pu.quoted_src == kGateway);
  CHECK(pu.quoted_dst == kRouterIp);
  CHECK(pu.quoted_dport == kRouterPort);
  CHECK(pu.payload.size() == 100);
  CHECK(pu.complete());
  auto cut = icmp(kRouterIp, kGateway, kRouterIp, kRouterPort, payload, 60);
  REQUIRE(parse_port_unreachable(cut, pu) == QuoteStatus::kOk);
  CHECK_FALSE(pu.complete());
  for (std::size_t n = 0; n < 48; ++n) {  // every cut inside the headers
    CHECK(parse_port_unreachable(std::span(pkt).first(n), pu) == QuoteStatus::kTruncated);
  }
  auto echo = pkt;
  echo[20] = std::byte{8};  // echo request
  CHECK(parse_port_unreachable(echo, pu) == QuoteStatus::kNotApplicable);
  auto host_unreach = pkt;
  host_unreach[21] = std::byte{1};
  CHECK(parse_port_unreachable(host_unreach, pu) == QuoteStatus::kNotApplicable);
  auto tcp = pkt;
  tcp[28 + 9] = std::byte{6};
  CHECK(parse_port_unreachable(tcp, pu) == QuoteStatus::kNotApplicable);
  auto v6 = pkt;
  v6[0] = std::byte{0x65};
  CHECK(parse_port_unreachable(v6, pu) == QuoteStatus::kMalformed);
  auto short_udp = pkt;
  short_udp[28 + 20 + 5] = std::byte{4};  // UDP length 4
  short_udp[28 + 20 + 4] = std::byte{0};
  CHECK(parse_port_unreachable(short_udp, pu) == QuoteStatus::kMalformed);
}

TEST_CASE("a quoted TUNNEL of ours makes a probe; the refused probe withdraws the router") {
  Fixture f;
  RouterFeedback::Probe p;
  REQUIRE(f.feed(icmp(kRouterIp, kGateway, kRouterIp, kRouterPort, tunnel(1000, *f.key)), p) ==
          FeedbackResult::kProbe);
  CHECK(f.feedback.counters().tag_verified == 1);
  CHECK(f.registry.up_routers().size() == 1);  // evidence alone removes nothing
  CHECK(p.to == kRouter.address);
  wire::KeepaliveAckMsg ack;
  REQUIRE(wire::parse_keepalive_ack(p.bytes, ack) == wire::ParseStatus::kOk);
  CHECK(ack.session_id == 99);
  CHECK(ack.counter == (0x0123456789abcdefULL | (1ULL << 63)));  // above any agent's counter
  // More TUNNELs refused while the probe is out: no second probe.
  CHECK(f.feed(icmp(kRouterIp, kGateway, kRouterIp, kRouterPort, tunnel(1001, *f.key)), p) ==
        FeedbackResult::kProbeLimited);
  f.t += 2ms;
  CHECK(f.feed(f.refusal_of(p), p) == FeedbackResult::kConfirmed);
  CHECK(f.registry.up_routers().empty());
  CHECK(f.registry.liveness().confirmed_dead == 1);
}

TEST_CASE("a cut quote (large datagram) is evidence without a tag check") {
  Fixture f;
  RouterFeedback::Probe p;
  const auto big = tunnel(1000, *f.key, 1400);
  CHECK(f.feed(icmp(kRouterIp, kGateway, kRouterIp, kRouterPort, big, 520), p) ==
        FeedbackResult::kProbe);
  CHECK(f.feedback.counters().tag_unchecked == 1);
}

TEST_CASE("a quote of a GSO batch (several TUNNELs back to back) is checked on the first") {
  Fixture f;
  RouterFeedback::Probe p;
  auto batch = tunnel(1000, *f.key);
  const auto second = tunnel(1001, *f.key);
  batch.insert(batch.end(), second.begin(), second.end());
  CHECK(f.feed(icmp(kRouterIp, kGateway, kRouterIp, kRouterPort, batch), p) ==
        FeedbackResult::kProbe);
  CHECK(f.feedback.counters().tag_verified == 1);
  // Cut inside the second: the first is still whole, and checked.
  Fixture g;
  auto cut = icmp(kRouterIp, kGateway, kRouterIp, kRouterPort, batch, batch.size() - 30);
  CHECK(g.feed(cut, p) == FeedbackResult::kProbe);
  CHECK(g.feedback.counters().tag_verified == 1);
  // A batch whose first TUNNEL was tampered with is still refused.
  Fixture h;
  batch[70] ^= std::byte{1};
  CHECK(h.feed(icmp(kRouterIp, kGateway, kRouterIp, kRouterPort, batch), p) ==
        FeedbackResult::kBadTag);
}

TEST_CASE("forged or foreign quotes do nothing") {
  Fixture f;
  RouterFeedback::Probe p;
  const auto good = tunnel(1000, *f.key);
  // Guessed key_id, another gateway's id, another destination, another source.
  CHECK(f.feed(icmp(kRouterIp, kGateway, kRouterIp, kRouterPort,
                    tunnel(1000, *f.key, 64, kGateway, kKeyId + 1)),
               p) == FeedbackResult::kUnknownRouter);
  CHECK(f.feed(icmp(kRouterIp, kGateway, kRouterIp, kRouterPort,
                    tunnel(1000, *f.key, 64, kGateway + 1)),
               p) == FeedbackResult::kUnknownRouter);
  CHECK(f.feed(icmp(kRouterIp, kGateway, kRouterIp, kRouterPort + 1, good), p) ==
        FeedbackResult::kUnknownRouter);
  CHECK(f.feed(icmp(kRouterIp, kGateway + 5, kRouterIp, kRouterPort, good), p) ==
        FeedbackResult::kIgnored);
  // From an off-path host rather than the router's.
  CHECK(f.feed(icmp(0xC6120C02, kGateway, kRouterIp, kRouterPort, good), p) ==
        FeedbackResult::kWrongReporter);
  // A whole TUNNEL with a tag made without the key.
  const crypto::TunnelKey wrong(key_bytes(8));
  CHECK(f.feed(icmp(kRouterIp, kGateway, kRouterIp, kRouterPort, tunnel(1000, wrong)), p) ==
        FeedbackResult::kBadTag);
  // A probe refusal nobody asked for, or with a guessed counter.
  RouterFeedback::Probe forged;
  wire::KeepaliveAckMsg ack;
  ack.session_id = 99;
  ack.counter = 42;
  ack.gateway_id = wire::GatewayId{kGateway};
  REQUIRE(wire::write_keepalive_ack(forged.bytes, ack) == wire::kKeepaliveAckLen);
  forged.to = kRouter.address;
  CHECK(f.feed(f.refusal_of(forged), p) == FeedbackResult::kUnknownProbe);
  REQUIRE(f.feed(icmp(kRouterIp, kGateway, kRouterIp, kRouterPort, good), p) ==
          FeedbackResult::kProbe);
  CHECK(f.feed(f.refusal_of(forged), p) == FeedbackResult::kUnknownProbe);
  // The real probe's refusal but from elsewhere.
  CHECK(f.feed(f.refusal_of(p, 0xC6120C02), p) == FeedbackResult::kWrongReporter);
  // Replay of the same TUNNEL's quote: stale.
  CHECK(f.feed(icmp(kRouterIp, kGateway, kRouterIp, kRouterPort, good), p) ==
        FeedbackResult::kStale);
  CHECK(f.registry.up_routers().size() == 1);
  CHECK(f.registry.liveness().confirmed_dead == 0);
}

TEST_CASE("an unanswered probe ends the suspicion; a late refusal is not believed") {
  Fixture f;
  RouterFeedback::Probe p;
  REQUIRE(f.feed(icmp(kRouterIp, kGateway, kRouterIp, kRouterPort, tunnel(1000, *f.key)), p) ==
          FeedbackResult::kProbe);
  const RouterFeedback::Probe first = p;
  f.t += 300ms;
  f.feedback.expire(f.t);
  CHECK(f.feedback.counters().probes_expired == 1);
  CHECK(f.feed(f.refusal_of(first), p) == FeedbackResult::kUnknownProbe);
  CHECK(f.registry.up_routers().size() == 1);
  // New evidence: a new probe (after probe_gap).
  CHECK(f.feed(icmp(kRouterIp, kGateway, kRouterIp, kRouterPort, tunnel(1001, *f.key)), p) ==
        FeedbackResult::kProbe);
}

TEST_CASE("state of ended sessions is forgotten") {
  Fixture f;
  RouterFeedback::Probe p;
  REQUIRE(f.feed(icmp(kRouterIp, kGateway, kRouterIp, kRouterPort, tunnel(1000, *f.key)), p) ==
          FeedbackResult::kProbe);
  REQUIRE(f.registry.on_deregister(99, 1, f.t));
  f.feedback.expire(f.t);
  CHECK(f.feed(f.refusal_of(p), p) == FeedbackResult::kUnknownProbe);
}

TEST_CASE("a silent router is probed; its host's refusal withdraws it, silence alone does not") {
  Fixture f;
  RouterFeedback::Probe p;
  REQUIRE(f.feedback.on_silent(99, f.t, p) == FeedbackResult::kProbe);
  CHECK(f.feedback.counters().silence_probes == 1);
  CHECK(p.to == kRouter.address);
  CHECK(f.registry.up_routers().size() == 1);
  CHECK(f.feedback.on_silent(99, f.t, p) == FeedbackResult::kProbeLimited);  // one outstanding
  f.t += 1ms;
  CHECK(f.feed(f.refusal_of(p), p) == FeedbackResult::kConfirmed);
  CHECK(f.registry.up_routers().empty());
  CHECK(f.feedback.on_silent(99, f.t, p) == FeedbackResult::kUnknownRouter);  // session ended
}

#include "client/capture_path.h"

#include <doctest/doctest.h>

#include <vector>

#include "client/selector.h"
#include "client/test_support.h"
#include "common/wire/client_control.h"
#include "common/wire/inet_checksum.h"
#include "common/wire/protocols.h"
#include "common/wire/test_bytes.h"

namespace dmux::client {
namespace {

using testing::Bytes;
using testing::return_of;
using testing::v6;

constexpr std::uint64_t kRt6 = 0x21f600be122c4524;    // the ipv6 rt the router offers
constexpr std::uint64_t kRtMc = 0x0123456789abcdef;   // the ipv4-multicast rt
constexpr std::uint64_t kRtExp = 0x5555aaaa5555aaaa;  // the exp-0x8001 rt
constexpr std::uint32_t kTag = 0xdeadbeef;
constexpr std::uint32_t kHost = 0xc6120102;  // 198.18.1.2
constexpr std::uint16_t kPort = 40000;
constexpr std::uint16_t kExp = 0x8001;

Bytes token_offer(std::uint64_t rt, std::uint16_t port = kPort) {
  Bytes b(wire::kTokenOfferLen);
  wire::write_token_offer(
      b, wire::TokenOffer{
             .return_token = rt, .client_ipv4 = kHost, .client_port = port, .refresh_s = 25});
  return b;
}

// The path of a client with ipv6 (provider 7), ipv4-multicast and a generic selector of IP
// protocol 253.
struct Fixture {
  Clock::time_point t0{};
  Clock::time_point now = t0;  // when receive() sees datagrams
  testing::CountingNonces nonces;
  std::vector<Selector> selectors{parse_selector("ipv6:provider=7"),
                                  parse_selector("ipv4-multicast"),
                                  parse_selector("generic:proto=exp-0x8001,match=-p 253")};
  std::vector<TokenProtocol> protocols{
      {wire::kProtoIpv6, 7}, {wire::kProtoIpv4Multicast, 0}, {kExp, 0}};
  ReturnTokens tokens{ReturnTokensConfig{}, protocols, nonces, t0};
  CapturePath path{CapturePathConfig{.selectors = selectors, .max_packet = 1400}, tokens};
  std::vector<TokenRequest> due = std::vector<TokenRequest>(3);

  CapturePath::ReturnKind receive(const Bytes& datagram, ReturnResult& r) {
    return path.on_return(datagram, now, r);
  }
  CapturePath::ReturnKind receive(const Bytes& datagram) {
    ReturnResult r;
    return receive(datagram, r);
  }
  // Requests every token and answers each with its rt.
  void learn_tokens() {
    REQUIRE(tokens.on_timer(t0, due) == 3);
    const std::uint64_t rts[] = {kRt6, kRtMc, kRtExp};
    for (std::size_t i = 0; i < 3; ++i) {
      ReturnResult r;
      REQUIRE(
          receive(return_of(token_offer(rts[i]), due[i].nonce, due[i].proto_id, wire::kFlagControl),
                  r) == CapturePath::ReturnKind::kToken);
      CHECK(r.token.token_changed);
    }
  }
  // Our address: 2001:db8:7:c612:102:9c40:dead:beef.
  Ipv6Address address() const {
    Ipv6Address a = v6(0);
    const Bytes offered = wire::testing::hex("20010db80007c61201029c40deadbeef");
    std::copy(offered.begin(), offered.end(), a.begin());
    return a;
  }
  // Tokens learnt, our address set: returns an IPv6 packet to us.
  Bytes ready() {
    learn_tokens();
    path.set_address(address());
    return testing::ipv6_udp(v6(2), address());
  }
  std::uint64_t dropped(Drop d) const { return path.counters().dropped(d); }
  // The selectors as the path holds them (classify() returns pointers into its copy).
  const std::vector<Selector>& path_selectors() const { return path.selectors(); }
};

}  // namespace

TEST_CASE("packets read from the TUN device find their selector") {
  Fixture f;
  const Bytes p6 = testing::ipv6_udp(f.address(), v6(2));
  const Bytes mc = testing::ipv4(17, kHost, 0xef010101);
  const Bytes exp = testing::ipv4(253, kHost, 0xc6120301);
  const Bytes udp4 = testing::ipv4(17, kHost, 0xc6120301);
  CHECK(f.path.classify(p6) == &f.path_selectors()[0]);
  CHECK(f.path.classify(mc) == &f.path_selectors()[1]);
  CHECK(f.path.classify(exp) == &f.path_selectors()[2]);
  CHECK(f.path.classify(udp4) == nullptr);  // no generic selector of UDP
  Bytes link_local = p6;
  link_local[24] = std::byte{0xfe};
  link_local[25] = std::byte{0x80};
  CHECK(f.path.classify(link_local) == nullptr);
  Bytes all_nodes = p6;
  all_nodes[24] = std::byte{0xff};
  all_nodes[25] = std::byte{0x02};
  CHECK(f.path.classify(all_nodes) == nullptr);
  all_nodes[25] = std::byte{0x0e};  // global-scope multicast is IPv6 like any other
  CHECK(f.path.classify(all_nodes) == &f.path_selectors()[0]);
  CHECK(f.path.classify(Bytes{}) == nullptr);
  CHECK(f.path.classify(Bytes(19, std::byte{0x45})) == nullptr);
  CHECK(f.path.classify(Bytes(39, std::byte{0x60})) == nullptr);
  CHECK(f.path.classify(Bytes(40, std::byte{0x50})) == nullptr);
}

TEST_CASE("without its return token a protocol's packets are dropped; then DATA carries it") {
  Fixture f;
  Bytes p = testing::ipv6_udp(f.address(), v6(2));
  std::array<std::byte, wire::kDataHeaderLen> h{};
  CHECK(f.path.on_captured(p, h) == CapturePath::CaptureKind::kDrop);
  Bytes mc = testing::ipv4(17, kHost, 0xef010101);
  CHECK(f.path.on_captured(mc, h) == CapturePath::CaptureKind::kDrop);
  CHECK(f.dropped(Drop::kNoToken) == 2);
  f.learn_tokens();
  CHECK(f.path.on_captured(p, h) == CapturePath::CaptureKind::kDrop);
  CHECK(f.dropped(Drop::kNoAddress) == 1);
  f.path.set_address(f.address());
  REQUIRE(f.path.on_captured(p, h) == CapturePath::CaptureKind::kSend);
  wire::ShimHeader sh;
  std::span<const std::byte> payload;
  Bytes d(h.begin(), h.end());
  d.insert(d.end(), p.begin(), p.end());
  REQUIRE(wire::parse_shim(d, wire::MsgType::kData, sh, payload) == wire::ParseStatus::kOk);
  CHECK(sh.proto_id == wire::ProtoId{wire::kProtoIpv6});
  CHECK(sh.provider_id == wire::ProviderId{7});
  CHECK(sh.token == kRt6);  // the return token, not the tag
  CHECK(sh.flags == 0);
  REQUIRE(f.path.on_captured(mc, h) == CapturePath::CaptureKind::kSend);
  d.assign(h.begin(), h.end());
  d.insert(d.end(), mc.begin(), mc.end());
  REQUIRE(wire::parse_shim(d, wire::MsgType::kData, sh, payload) == wire::ParseStatus::kOk);
  CHECK(sh.token == kRtMc);
  Bytes other = testing::ipv6_udp(v6(9), v6(2));
  CHECK(f.path.on_captured(other, h) == CapturePath::CaptureKind::kDrop);
  CHECK(f.dropped(Drop::kStaleSource) == 1);
  Bytes big = testing::ipv6_udp(f.address(), v6(2), 1400);
  CHECK(f.path.on_captured(big, h) == CapturePath::CaptureKind::kDrop);
  CHECK(f.dropped(Drop::kOversize) == 1);
  CHECK(f.path.on_captured(testing::ipv4(17, kHost, 0xc6120301), h) ==
        CapturePath::CaptureKind::kDrop);
  CHECK(f.dropped(Drop::kUnselected) == 1);
}

TEST_CASE("a TOKEN_OFFER counts only for an outstanding nonce, and only well formed") {
  Fixture f;
  REQUIRE(f.tokens.on_timer(f.t0, f.due) == 3);
  const std::uint64_t nonce = f.due[0].nonce;
  // A forger who guesses wrong, or replays another protocol's nonce.
  CHECK(f.receive(return_of(token_offer(1), nonce + 1000, 1, wire::kFlagControl)) ==
        CapturePath::ReturnKind::kDrop);
  CHECK(f.receive(return_of(token_offer(1), f.due[1].nonce, 1, wire::kFlagControl)) ==
        CapturePath::ReturnKind::kDrop);
  CHECK(f.dropped(Drop::kBadToken) == 2);
  // The right nonce with a payload that is not an offer: refused, and the nonce stays usable.
  Bytes bad = token_offer(1);
  bad.push_back(std::byte{0});
  CHECK(f.receive(return_of(bad, nonce, 1, wire::kFlagControl)) == CapturePath::ReturnKind::kDrop);
  Bytes request(wire::kTokenRequestLen);
  wire::write_token_request(request);
  CHECK(f.receive(return_of(request, nonce, 1, wire::kFlagControl)) ==
        CapturePath::ReturnKind::kDrop);
  CHECK(f.dropped(Drop::kBadOffer) == 2);
  CHECK_FALSE(f.tokens.current(wire::kProtoIpv6));
  ReturnResult r;
  REQUIRE(f.receive(return_of(token_offer(kRt6), nonce, 1, wire::kFlagControl), r) ==
          CapturePath::ReturnKind::kToken);
  CHECK(r.proto_id == wire::kProtoIpv6);
  CHECK(r.provider_id == 7);
  CHECK(r.token.binding == Binding{kHost, kPort});
  CHECK(f.tokens.current(wire::kProtoIpv6) == kRt6);
  // Replayed: the nonce is spent.
  CHECK(f.receive(return_of(token_offer(2), nonce, 1, wire::kFlagControl)) ==
        CapturePath::ReturnKind::kDrop);
  CHECK(f.tokens.current(wire::kProtoIpv6) == kRt6);
  // Even with our rt as its token a control RETURN is not an offer (it needs the nonce).
  CHECK(f.receive(return_of(token_offer(3), kRt6, 1, wire::kFlagControl)) ==
        CapturePath::ReturnKind::kDrop);
  CHECK(f.dropped(Drop::kBadToken) == 4);
}

TEST_CASE("RETURNs carrying anything derivable from our address are never injected") {
  Fixture f;
  const Bytes good = f.ready();
  // What a server we talk to knows: our address. The tag was the token in version 1.
  const std::uint64_t derived[] = {kTag,
                                   std::uint64_t{kTag} << 32,
                                   (std::uint64_t{kHost} << 32) | kTag,
                                   (std::uint64_t{kPort} << 32) | kTag,
                                   0x01029c40deadbeef,
                                   0x20010db80007c612,
                                   0,
                                   ~std::uint64_t{0},
                                   kRt6 ^ 1};
  for (const std::uint64_t token : derived) {
    CAPTURE(token);
    CHECK(f.receive(return_of(good, token, wire::kProtoIpv6)) == CapturePath::ReturnKind::kDrop);
  }
  CHECK(f.dropped(Drop::kBadToken) == std::size(derived));
  // Another protocol's rt is not this one's.
  CHECK(f.receive(return_of(good, kRtMc, wire::kProtoIpv6)) == CapturePath::ReturnKind::kDrop);
  ReturnResult r;
  REQUIRE(f.receive(return_of(good, kRt6, wire::kProtoIpv6), r) ==
          CapturePath::ReturnKind::kInject);
  CHECK(r.packet.size() == good.size());
  CHECK(f.path.counters().injected == 0);  // the caller counts what it wrote
  // Right token, not our address.
  CHECK(f.receive(return_of(testing::ipv6_udp(v6(2), v6(3)), kRt6, wire::kProtoIpv6)) ==
        CapturePath::ReturnKind::kDrop);
  CHECK(f.dropped(Drop::kNotForUs) == 1);
  CHECK(f.receive(return_of(good, kRt6, 0x8002)) == CapturePath::ReturnKind::kDrop);
  CHECK(f.dropped(Drop::kUnknownProtocol) == 1);
  Bytes cut = good;
  cut.pop_back();
  CHECK(f.receive(return_of(cut, kRt6, wire::kProtoIpv6)) == CapturePath::ReturnKind::kDrop);
  CHECK(f.dropped(Drop::kBadReturnPacket) == 1);
  Bytes header_only = return_of(good, kRt6, wire::kProtoIpv6);
  header_only.resize(wire::kReturnHeaderLen);
  CHECK(f.receive(header_only) == CapturePath::ReturnKind::kDrop);
  CHECK(f.dropped(Drop::kMalformed) == 1);
}

TEST_CASE("a stale rt is refused once the refresh after it is answered") {
  Fixture f;
  const Bytes good = f.ready();
  using namespace std::chrono_literals;
  f.now = f.t0 + 25s;  // the refresh
  REQUIRE(f.tokens.on_timer(f.now, f.due) == 3);
  REQUIRE(f.due[0].proto_id == wire::kProtoIpv6);
  constexpr std::uint64_t kNewRt = 0x1111222233334444;
  REQUIRE(f.receive(return_of(token_offer(kNewRt), f.due[0].nonce, 1, wire::kFlagControl)) ==
          CapturePath::ReturnKind::kToken);
  CHECK(f.receive(return_of(good, kRt6, wire::kProtoIpv6)) == CapturePath::ReturnKind::kInject);
  CHECK(f.receive(return_of(good, kNewRt, wire::kProtoIpv6)) == CapturePath::ReturnKind::kInject);
  f.now += 25s;  // the next refresh, which confirms the new rt
  REQUIRE(f.tokens.on_timer(f.now, f.due) >= 1);
  REQUIRE(f.due[0].proto_id == wire::kProtoIpv6);
  REQUIRE(f.receive(return_of(token_offer(kNewRt), f.due[0].nonce, 1, wire::kFlagControl)) ==
          CapturePath::ReturnKind::kToken);
  CHECK(f.receive(return_of(good, kRt6, wire::kProtoIpv6)) == CapturePath::ReturnKind::kDrop);
  CHECK(f.dropped(Drop::kBadToken) == 1);
}

TEST_CASE("an RA is an address offer only with our rt; a forged one changes nothing") {
  Fixture f;
  f.learn_tokens();
  const Bytes ra = wire::testing::hex(testing::kAdvertC2);
  for (const std::uint64_t forged : {std::uint64_t{kTag}, std::uint64_t{0}, kRtMc}) {
    CHECK(f.receive(return_of(ra, forged, wire::kProtoIpv6)) == CapturePath::ReturnKind::kDrop);
  }
  CHECK(f.dropped(Drop::kBadToken) == 3);
  CHECK(f.path.counters().adverts == 0);
  ReturnResult r;
  REQUIRE(f.receive(return_of(ra, kRt6, wire::kProtoIpv6), r) == CapturePath::ReturnKind::kAdvert);
  CHECK(r.advert.client_port == kPort);
  Bytes broken = ra;
  broken[43] ^= std::byte{1};
  CHECK(f.receive(return_of(broken, kRt6, wire::kProtoIpv6)) == CapturePath::ReturnKind::kDrop);
  CHECK(f.dropped(Drop::kBadAdvert) == 1);
}

TEST_CASE("ipv4-multicast injects groups only; generic only its protocol to the host") {
  Fixture f;
  f.learn_tokens();
  f.path.host_addresses().replace({kHost});
  const std::uint32_t server = 0xc6120202;
  CHECK(f.receive(return_of(testing::ipv4(17, server, 0xef010101), kRtMc, 2)) ==
        CapturePath::ReturnKind::kInject);
  // A valid rt but unicast through the multicast TUN device (rp_filter off there): refused.
  CHECK(f.receive(return_of(testing::ipv4(17, server, kHost), kRtMc, 2)) ==
        CapturePath::ReturnKind::kDrop);
  CHECK(f.dropped(Drop::kNotForUs) == 1);
  CHECK(f.receive(return_of(testing::ipv4(253, server, kHost), kRtExp, kExp)) ==
        CapturePath::ReturnKind::kInject);
  CHECK(f.receive(return_of(testing::ipv4(6, server, kHost), kRtExp, kExp)) ==
        CapturePath::ReturnKind::kDrop);
  CHECK(f.receive(return_of(testing::ipv4(253, server, 0x0a000001), kRtExp, kExp)) ==
        CapturePath::ReturnKind::kDrop);
  CHECK(f.receive(return_of(testing::ipv4(253, server, 0xef010101), kRtExp, kExp)) ==
        CapturePath::ReturnKind::kDrop);
  CHECK(f.dropped(Drop::kNotForUs) == 4);
  // Each protocol's rt is its own.
  CHECK(f.receive(return_of(testing::ipv4(253, server, kHost), kRtMc, kExp)) ==
        CapturePath::ReturnKind::kDrop);
  CHECK(f.dropped(Drop::kBadToken) == 1);
}

}  // namespace dmux::client

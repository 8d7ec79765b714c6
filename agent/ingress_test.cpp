#include "agent/ingress.h"

#include <doctest/doctest.h>

#include "agent/test_gateway.h"
#include "common/util/log.h"
#include "common/wire/client_control.h"
#include "common/wire/test_bytes.h"

namespace dmux::agent {
namespace {

using std::chrono::milliseconds;
using test::Bytes;
using wire::testing::hex;

const bool kQuiet = (log::set_level(log::Level::kError), true);
const MonoTime kT0 = MonoTime(std::chrono::hours(1));
constexpr std::uint32_t kClient = 0xc6120102;  // 198.18.1.2
constexpr std::uint16_t kPort = 40000;
const net::Endpoint kGateway{0xc6120001, 4500};

// docs/protocol.md 7, vector 6: K_r of seed 00 11 .. ff; rt of 198.18.1.2:40000 for ipv6,
// provider 7.
crypto::ReturnKey vector_return_key() {
  return crypto::derive_return_key(hex("00 11 22 33 44 55 66 77 88 99 aa bb cc dd ee ff"));
}
constexpr std::uint64_t kVectorRt = 0x21f600be122c4524;

IngressConfig config(double rate = 10000, double burst = 1000) {
  return IngressConfig{.proto_id = wire::ProtoId{1},
                       .provider_id = wire::ProviderId{7},
                       .allowed_destinations = {*net::parse_ipv4_prefix("198.18.0.0/15")},
                       .offers_per_second = rate,
                       .offer_burst = burst};
}

struct Harness {
  Ingress ingress;
  test::TestGateway gw{test::vector_key(), 0};
  Reply reply;
  wire::TunnelHeader h;
  std::span<const std::byte> payload;

  explicit Harness(const IngressConfig& c = config())
      : ingress(c, vector_return_key(), test::vector_key()) {}

  Ingress::Verdict send(wire::TunnelHeader th, const Bytes& body, MonoTime now = kT0) {
    Bytes d = gw.tunnel(th, body);
    return ingress.on_datagram(d, kGateway, now, h, payload, reply);
  }
};

wire::TunnelHeader request(std::uint32_t ip = kClient, std::uint16_t port = kPort,
                           std::uint16_t proto = 1, std::uint32_t provider = 0) {
  return wire::TunnelHeader{.flags = wire::kFlagControl,
                            .proto_id = wire::ProtoId{proto},
                            .provider_id = wire::ProviderId{provider},
                            .client_ipv4 = ip,
                            .client_port = port,
                            .gateway_id = {},
                            .token = 0x1122334455667788};
}

Bytes token_request() {
  Bytes b(wire::kTokenRequestLen);
  wire::write_token_request(b);
  return b;
}

TEST_CASE("vector 6: rt of the spec's client") {
  const ReturnTokens t(vector_return_key(), wire::ProviderId{7});
  CHECK(t.rt(wire::ProtoId{1}, kClient, kPort) == kVectorRt);
  CHECK(t.proven(wire::ProtoId{1}, kClient, kPort, kVectorRt));
  CHECK_FALSE(t.proven(wire::ProtoId{1}, kClient, kPort, kVectorRt ^ 1));
  CHECK_FALSE(t.proven(wire::ProtoId{1}, kClient, kPort + 1, kVectorRt));
  CHECK_FALSE(t.proven(wire::ProtoId{2}, kClient, kPort, kVectorRt));
}

TEST_CASE("a TOKEN_REQUEST (vector 5) is answered with vector 7: 52 bytes for 84") {
  Harness x;
  REQUIRE(x.send(request(), token_request()) == Ingress::Verdict::kReply);
  const Bytes want =
      hex("02 03 14 01  00 01 00 00  00 00 00 07  11 22 33 44 55 66 77 88"
          "02 00 00 00  21 f6 00 be 12 2c 45 24  c6 12 01 02  9c 40 00 00  00 00 00 19"
          "00 00 00 00 00 00 00 00");
  CHECK(Bytes(x.reply.view().begin(), x.reply.view().end()) == want);
  CHECK(x.reply.size == 52);
  CHECK(wire::kDataHeaderLen + token_request().size() == 84);
  CHECK(x.reply.to == net::Endpoint{kClient, kPort});
  CHECK(x.ingress.counters().token_offers == 1);
}

TEST_CASE("control messages that are not answered, by reason") {
  Harness x;
  Bytes offer(wire::kTokenOfferLen);
  wire::write_token_offer(offer, wire::TokenOffer{});
  CHECK(x.send(request(), offer) == Ingress::Verdict::kDropped);
  CHECK(x.send(request(), Bytes{std::byte{9}}) == Ingress::Verdict::kDropped);
  Bytes short_request = token_request();
  short_request.pop_back();
  Bytes long_request = token_request();
  long_request.push_back(std::byte{0});
  CHECK(x.send(request(), short_request) == Ingress::Verdict::kDropped);
  CHECK(x.send(request(), long_request) == Ingress::Verdict::kDropped);
  CHECK(x.send(request(kClient, kPort, 2), token_request()) == Ingress::Verdict::kDropped);
  CHECK(x.send(request(kClient, kPort, 1, 8), token_request()) == Ingress::Verdict::kDropped);
  const auto& c = x.ingress.counters();
  CHECK(c.dropped(IngressDrop::kUnknownControl) == 2);
  CHECK(c.dropped(IngressDrop::kBadControl) == 2);
  CHECK(c.dropped(IngressDrop::kUnsupportedProtocol) == 1);
  CHECK(c.dropped(IngressDrop::kWrongProvider) == 1);
  CHECK(c.token_offers == 0);
  CHECK(x.reply.size == 0);
  // Provider 7 (ours) is answered like 0 (any).
  CHECK(x.send(request(kClient, kPort, 1, 7), token_request()) == Ingress::Verdict::kReply);
}

TEST_CASE("offers never go to special-purpose addresses or port 0") {
  Harness x;
  for (const char* a : {"10.0.0.1", "192.168.1.1", "100.64.0.1", "169.254.169.254", "127.0.0.1",
                        "224.0.0.1", "255.255.255.255"}) {
    CHECK(x.send(request(*net::parse_ipv4(a)), token_request()) == Ingress::Verdict::kDropped);
  }
  CHECK(x.send(request(kClient, 0), token_request()) == Ingress::Verdict::kDropped);
  CHECK(x.ingress.counters().dropped(IngressDrop::kForbiddenDestination) == 8);
  CHECK(x.ingress.counters().token_offers == 0);
}

TEST_CASE("offers are globally rate-limited") {
  Harness x(config(100, 10));
  int answered = 0;
  for (int i = 0; i < 50; ++i) {
    answered += x.send(request(kClient + static_cast<std::uint32_t>(i)), token_request()) ==
                Ingress::Verdict::kReply;
  }
  CHECK(answered == 10);
  CHECK(x.ingress.counters().dropped(IngressDrop::kRateLimited) == 40);
  CHECK(x.send(request(), token_request(), kT0 + milliseconds(100)) == Ingress::Verdict::kReply);
}

TEST_CASE("packets pass to the caller with the header; proven() checks the rt") {
  Harness x;
  wire::TunnelHeader th = request();
  th.flags = 0;
  th.token = kVectorRt;
  REQUIRE(x.send(th, Bytes{std::byte{0x60}}) == Ingress::Verdict::kPacket);
  CHECK(x.h.client_ipv4 == kClient);
  CHECK(x.payload.size() == 1);
  CHECK(x.ingress.proven(x.h));
  th.token = 0x1234;
  REQUIRE(x.send(th, Bytes{std::byte{0x60}}) == Ingress::Verdict::kPacket);
  CHECK_FALSE(x.ingress.proven(x.h));
  CHECK(x.ingress.counters().dropped(IngressDrop::kUnproven) == 1);
  CHECK(x.ingress.rt(kClient, kPort) == kVectorRt);
  CHECK_FALSE(x.ingress.may_send(*net::parse_ipv4("10.1.1.1"), 4500));
  CHECK(x.ingress.counters().dropped(IngressDrop::kForbiddenDestination) == 1);
}

TEST_CASE("unauthenticated datagrams never reach the later checks or answer") {
  Harness x;
  test::TestGateway forger(crypto::TunnelKeyBytes{}, 0);
  Bytes d = forger.tunnel(request(), token_request());
  CHECK(x.ingress.on_datagram(d, kGateway, kT0, x.h, x.payload, x.reply) ==
        Ingress::Verdict::kDropped);
  Bytes v1 = x.gw.tunnel(request(), token_request());
  v1[0] = std::byte{1};
  CHECK(x.ingress.on_datagram(v1, kGateway, kT0, x.h, x.payload, x.reply) ==
        Ingress::Verdict::kDropped);
  CHECK(x.ingress.receiver().counters().dropped(TunnelDrop::kBadTag) == 1);
  CHECK(x.ingress.receiver().counters().dropped(TunnelDrop::kUnsupportedVersion) == 1);
  CHECK(x.ingress.counters().token_offers == 0);
  CHECK(x.reply.size == 0);
}

TEST_CASE("an unusable config is refused at construction") {
  IngressConfig c = config();
  c.provider_id = wire::ProviderId{0};
  CHECK_THROWS(Ingress(c, vector_return_key()));
  c = config();
  c.proto_id = wire::ProtoId{0};
  CHECK_THROWS(Ingress(c, vector_return_key()));
}

}  // namespace
}  // namespace dmux::agent

#include "common/wire/mesh.h"

#include <doctest/doctest.h>

using namespace dmux;
using namespace dmux::wire::mesh;
using dmux::wire::GatewayId, dmux::wire::ProtoId, dmux::wire::ProviderId, dmux::wire::RouterId;

namespace {
std::span<const std::byte> body_of(const std::vector<std::byte>& frame) {
  return std::span(frame).subspan(kFrameHeaderLen);
}
Router router(std::uint32_t addr) {
  Router r;
  r.id = RouterId{ProtoId{1}, ProviderId{7}, net::Endpoint{addr, 5000}};
  r.router_rtt_us = 250;
  r.key_id = 0x11223344;
  r.suite = wire::kSuiteAes256Gmac;
  r.tunnel_key.fill(std::byte{0x77});
  r.proof.gateway_id = GatewayId{9};
  r.proof.timestamp_us = 1700000000000000ULL;
  r.proof.signed_rtt_us = 300;
  r.proof.cert_hash.fill(std::byte{0xcc});
  r.proof.signature.fill(std::byte{0x5a});
  return r;
}
Router router_key(std::uint16_t proto, std::uint32_t provider, net::Endpoint a) {
  Router r = router(1);
  r.id = RouterId{ProtoId{proto}, ProviderId{provider}, a};
  return r;
}
}  // namespace

TEST_CASE("mesh frames round trip with exact lengths") {
  std::vector<std::byte> f;
  encode_hello(Hello{GatewayId{0xc6120001}, net::Endpoint{0x7f000001, 7000}, Version{5, 6}}, f);
  std::uint8_t type = 0;
  std::uint32_t len = 0;
  REQUIRE(parse_header(f, type, len) == Status::kOk);
  CHECK(type == 16);
  CHECK(len == f.size() - kFrameHeaderLen);
  Hello h;
  REQUIRE(parse_hello(body_of(f), h) == Status::kOk);
  CHECK(h.gateway_id == GatewayId{0xc6120001});
  CHECK(h.mesh_listen.port == 7000);
  CHECK(h.version.seq == 6);

  f.clear();
  encode_full_state(FullState{GatewayId{9}, Version{1, 2}, 1, 3, {router(1), router(2)}}, f);
  CHECK(f.size() == kFrameHeaderLen + 28 + 2 * kRouterLen);
  FullState fs;
  REQUIRE(parse_full_state(body_of(f), fs) == Status::kOk);
  CHECK(fs.part == 1);
  CHECK(fs.parts == 3);
  CHECK(fs.routers.size() == 2);
  CHECK(fs.routers[1].id.address.addr == 2);
  CHECK(fs.routers[1].router_rtt_us == 250);
  CHECK(fs.routers[1].key_id == 0x11223344);
  CHECK(fs.routers[1].tunnel_key[31] == std::byte{0x77});
  CHECK(fs.routers[1].proof.timestamp_us == 1700000000000000ULL);
  CHECK(fs.routers[1].proof.signed_rtt_us == 300);
  CHECK(fs.routers[1].proof.cert_hash[0] == std::byte{0xcc});
  CHECK(fs.routers[1].proof.signature[63] == std::byte{0x5a});

  f.clear();
  encode_update(Update{GatewayId{9}, Version{1, 3}, false, router(4)}, f);
  CHECK(f.size() == kFrameHeaderLen + 24 + kRouterKeyLen);  // a removal carries the key only
  Update u;
  REQUIRE(parse_update(body_of(f), u) == Status::kOk);
  CHECK_FALSE(u.present);
  CHECK(u.router.id.address.addr == 4);

  f.clear();
  encode_update(Update{GatewayId{9}, Version{1, 4}, true, router(5)}, f);
  REQUIRE(parse_update(body_of(f), u) == Status::kOk);
  CHECK(u.present);
  CHECK(u.router.proof.gateway_id == GatewayId{9});

  f.clear();
  const std::vector<std::byte> der(100, std::byte{0x30});
  encode_der(Type::kCertificate, der, f);
  std::uint8_t t = 0;
  std::uint32_t n = 0;
  REQUIRE(parse_header(f, t, n) == Status::kOk);
  CHECK(t == 22);
  CHECK(parse_der_body(body_of(f), kMaxCertificateBody) == Status::kOk);
  CHECK(parse_der_body({}, kMaxCertificateBody) == Status::kTruncated);

  f.clear();
  encode_probe(Type::kProbeReply, Probe{11, 12}, f);
  Probe p;
  REQUIRE(parse_probe(body_of(f), p) == Status::kOk);
  CHECK(p.sent_us == 12);

  f.clear();
  const std::vector<Peer> peers = {{GatewayId{3}, net::Endpoint{1, 2}}};
  encode_peers(peers, f);
  std::vector<Peer> got;
  REQUIRE(parse_peers(body_of(f), got) == Status::kOk);
  CHECK(got.size() == 1);
}

TEST_CASE("declared counts are capped by the bytes present; lengths are exact") {
  std::vector<std::byte> f;
  encode_full_state(FullState{GatewayId{9}, Version{1, 2}, 0, 1, {router(1)}}, f);
  auto body = std::vector<std::byte>(f.begin() + kFrameHeaderLen, f.end());
  body[24] = std::byte{0xff};  // count = 0xff000001: far more than present
  FullState fs;
  CHECK(parse_full_state(body, fs) == Status::kTruncated);
  body[24] = std::byte{0};
  body[22] = std::byte{0};  // parts = 0
  body[23] = std::byte{0};
  CHECK(parse_full_state(body, fs) == Status::kMalformed);
  body[23] = std::byte{1};
  body.push_back(std::byte{0});
  CHECK(parse_full_state(body, fs) == Status::kMalformed);

  Hello h;
  CHECK(parse_hello(std::span(body).first(10), h) == Status::kTruncated);
  Probe p;
  CHECK(parse_probe(body, p) == Status::kMalformed);
}

TEST_CASE("header checks: version, hdr_len, size cap, unknown types") {
  std::vector<std::byte> f;
  encode_probe(Type::kProbe, Probe{1, 2}, f);
  std::uint8_t type = 0;
  std::uint32_t len = 0;
  auto g = f;
  g[0] = std::byte{1};  // a version-1 gateway
  CHECK(parse_header(g, type, len) == Status::kUnsupportedVersion);
  g = f;
  g[2] = std::byte{12};
  CHECK(parse_header(g, type, len) == Status::kMalformed);
  g = f;
  g[4] = std::byte{0x10};
  CHECK(parse_header(g, type, len) == Status::kTooLarge);
  g = f;
  g[1] = std::byte{30};
  CHECK(parse_header(g, type, len) == Status::kUnexpectedType);
  CHECK(parse_header(std::span(f).first(5), type, len) == Status::kTruncated);
}

TEST_CASE("router values no router can have are malformed") {
  std::vector<std::byte> f;
  encode_update(Update{GatewayId{9}, Version{1, 3}, true, router_key(0, 7, net::Endpoint{1, 1})},
                f);
  Update u;
  CHECK(parse_update(body_of(f), u) == Status::kMalformed);
  f.clear();
  encode_update(Update{GatewayId{9}, Version{1, 3}, true, router_key(1, 0, net::Endpoint{1, 1})},
                f);
  CHECK(parse_update(body_of(f), u) == Status::kMalformed);
  f.clear();
  Router no_key = router(1);
  no_key.key_id = 0;
  encode_update(Update{GatewayId{9}, Version{1, 3}, true, no_key}, f);
  CHECK(parse_update(body_of(f), u) == Status::kMalformed);
  f.clear();
  encode_update(Update{GatewayId{9}, Version{1, 3}, false, router(1)}, f);
  auto body = std::vector<std::byte>(f.begin() + kFrameHeaderLen, f.end());
  body.push_back(std::byte{0});
  CHECK(parse_update(body, u) == Status::kMalformed);
}

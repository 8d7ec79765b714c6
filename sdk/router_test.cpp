// The Router for real on loopback: credentials from a CA made here, a static tunnel key (the
// spec's vector-2 key, key_id 0), and a test socket playing gateway and client. Checks the
// docs/protocol.md vectors the SDK's surface exposes (6: K_r and rt), TOKEN_REQUEST -> TOKEN_OFFER
// (vector 7's layout), a proven TUNNEL reaching on_packet and its RETURN (vector 3's layout), and
// that forged, replayed or unproven TUNNELs never reach the program.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <ipdmux/router.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <thread>
#include <vector>

#include "agent/test_gateway.h"
#include "common/crypto/crypto.h"
#include "common/net/udp_socket.h"
#include "common/wire/client_control.h"
#include "common/wire/test_bytes.h"
#include "tests/temp_dir.h"

namespace {

using dmux::wire::testing::hex;
using Bytes = std::vector<std::byte>;
namespace sdk = ipdmux::sdk;

constexpr std::uint16_t kProto = 0x8001;
constexpr std::uint32_t kLoopback = 0x7f000001;

TEST_CASE("sdk: return key and token helpers match vector 6") {
  const Bytes seed = hex("00 11 22 33 44 55 66 77 88 99 aa bb cc dd ee ff");
  const sdk::ReturnKeyBytes k = sdk::return_key_from_seed(seed);
  CHECK(Bytes(k.begin(), k.end()) == hex("6b d5 2f 70 f6 3c d9 21 c9 66 bb db b1 9d ad 47"));
  CHECK(sdk::return_token(k, 1, 7, 0xc6120102, 40000) == 0x21f600be122c4524ull);
  CHECK(std::string(sdk::version_string()).find("wire protocol 2") != std::string::npos);
}

struct Fixture {
  dmux::testing::TempDir dir{"sdk-test"};
  dmux::net::UniqueFd client = dmux::net::open_udp_socket({kLoopback, 0}, {.nonblocking = false});
  dmux::net::Endpoint client_ep = dmux::net::local_endpoint(client.get());
  sdk::RouterOptions options;
  sdk::ReturnKeyBytes k_r{};

  Fixture() {
    namespace c = dmux::crypto;
    const auto ca_key = c::SigningKey::generate();
    const auto ca = c::make_ca(ca_key, "sdk test CA", 10);
    const auto key = c::SigningKey::generate();
    c::IssueRequest r;
    r.info.role = c::Role::kProvider;
    r.info.provider_id = 7;
    r.info.protocols = {kProto};
    r.info.common_name = "sdk-test-provider";
    r.subject_key = key.public_key();
    c::issue(ca, ca_key, r).save_pem(dir.file("p.crt"));
    key.save_pem(dir.file("p.key"));
    const Bytes seed = hex("00 11 22 33 44 55 66 77 88 99 aa bb cc dd ee ff");
    std::ofstream(dir.file("return.key"), std::ios::binary)
        .write(reinterpret_cast<const char*>(seed.data()),
               static_cast<std::streamsize>(seed.size()));
    std::ofstream(dir.file("tunnel.key")) << "000102030405060708090a0b0c0d0e0f"
                                             "101112131415161718191a1b1c1d1e1f\n";
    k_r = sdk::return_key_from_seed(seed);
    options.proto_id = kProto;
    options.listen = "127.0.0.1:0";
    options.cert_file = dir.file("p.crt");
    options.key_file = dir.file("p.key");
    options.return_key_file = dir.file("return.key");
    options.static_tunnel_key_file = dir.file("tunnel.key");
    options.allow_destinations = {"127.0.0.0/8"};
    options.name = "sdk_test";
  }

  [[nodiscard]] std::uint64_t rt() const {
    return sdk::return_token(k_r, kProto, 7, client_ep.addr, client_ep.port);
  }

  // A TUNNEL from the static-key gateway, as if `client` had sent a DATA with `token`.
  Bytes tunnel(dmux::agent::test::TestGateway& gw, std::uint64_t token, const Bytes& payload,
               std::uint8_t flags = 0) const {
    dmux::wire::TunnelHeader h;
    h.flags = flags;
    h.proto_id = dmux::wire::ProtoId{kProto};
    h.client_ipv4 = client_ep.addr;
    h.client_port = client_ep.port;
    h.token = token;
    return gw.tunnel(h, payload);
  }

  void send_to(const sdk::Router& r, const Bytes& d) const {
    const sockaddr_in to = dmux::net::Endpoint{r.self().ipv4, r.self().port}.to_sockaddr();
    REQUIRE(::sendto(client.get(), d.data(), d.size(), 0, reinterpret_cast<const sockaddr*>(&to),
                     sizeof to) == static_cast<ssize_t>(d.size()));
  }

  // The next datagram the client socket receives, or empty after `ms` without one.
  [[nodiscard]] Bytes receive(int ms = 5000) const {
    pollfd p{client.get(), POLLIN, 0};
    if (::poll(&p, 1, ms) != 1) return {};
    Bytes b(2048);
    const ssize_t n = ::recv(client.get(), b.data(), b.size(), 0);
    b.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    return b;
  }
};

Bytes be64(std::uint64_t v) {
  Bytes b(8);
  for (int i = 7; i >= 0; --i, v >>= 8) b[static_cast<std::size_t>(i)] = std::byte(v & 0xff);
  return b;
}

Bytes concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

TEST_CASE("sdk: TOKEN_OFFER, proven packets echoed, forged and unproven ones never seen") {
  Fixture f;
  sdk::Router router(f.options);
  std::vector<Bytes> seen;
  sdk::Counter echoed = router.counter("echoed", "echoes");
  router.on_packet([&](const sdk::Packet& p) {
    seen.emplace_back(p.payload.begin(), p.payload.end());
    if (router.send(p.client, p.payload)) echoed.add();
  });
  std::thread loop([&] { router.run(); });
  dmux::agent::test::TestGateway gw;

  // Vector 5's request, answered as in vector 7 (with this client's address and rt).
  Bytes request(dmux::wire::kTokenRequestLen);
  dmux::wire::write_token_request(request);
  f.send_to(router, f.tunnel(gw, 0x1122334455667788ull, request, dmux::wire::kFlagControl));
  const Bytes offer = f.receive();
  Bytes addr(6);
  addr[0] = std::byte{0x7f}, addr[3] = std::byte{0x01};
  addr[4] = std::byte(f.client_ep.port >> 8), addr[5] = std::byte(f.client_ep.port & 0xff);
  CHECK(offer ==
        concat({hex("02 03 14 01 80 01 00 00 00 00 00 07 11 22 33 44 55 66 77 88"),
                hex("02 00 00 00"), be64(f.rt()), addr, hex("00 00 00 00 00 19"), Bytes(8)}));

  // Forged (a byte changed after sealing), replayed and unproven TUNNELs: nothing comes back.
  const Bytes payload = hex("60 00 00 00");
  Bytes forged = f.tunnel(gw, f.rt(), payload);
  forged.back() ^= std::byte{1};
  f.send_to(router, forged);
  const Bytes once = f.tunnel(gw, f.rt(), hex("01"));
  f.send_to(router, f.tunnel(gw, f.rt() ^ 1, payload));  // unproven
  f.send_to(router, once);
  CHECK(f.receive() ==
        concat({hex("02 03 14 00 80 01 00 00 00 00 00 07"), be64(f.rt()), hex("01")}));
  f.send_to(router, once);  // replayed
  f.send_to(router, f.tunnel(gw, f.rt(), payload));
  // Vector 3's layout, with our protocol and the client's rt.
  CHECK(f.receive() == concat({hex("02 03 14 00 80 01 00 00 00 00 00 07"), be64(f.rt()), payload}));
  router.stop();
  loop.join();

  CHECK(seen == std::vector<Bytes>{hex("01"), payload});
  CHECK(echoed.value() == 2);
  const std::string status = router.status_json();
  CHECK(status.find(R"("bad_tag":1)") != std::string::npos);
  CHECK(status.find(R"("replayed":1)") != std::string::npos);
  CHECK(status.find(R"("unproven":1)") != std::string::npos);
  CHECK(status.find(R"("echoed":2)") != std::string::npos);
}

TEST_CASE("sdk: send_batch of equal payloads arrives as separate RETURNs") {
  Fixture f;
  sdk::Router router(f.options);
  router.on_packet([&](const sdk::Packet& p) {
    const std::array<std::span<const std::byte>, 3> three = {p.payload, p.payload, p.payload};
    CHECK(router.send_batch(p.client, three) == 3);
  });
  std::thread loop([&] { router.run(); });
  dmux::agent::test::TestGateway gw;
  f.send_to(router, f.tunnel(gw, f.rt(), hex("aa bb")));
  for (int i = 0; i < 3; ++i) CHECK(f.receive().size() == 22);
  router.stop();
  loop.join();
}

TEST_CASE("sdk: configuration errors name the option") {
  Fixture f;
  auto o = f.options;
  o.proto_id = 0x8002;  // not in the certificate
  CHECK_THROWS_WITH(sdk::Router{o}, doctest::Contains("--protocol"));
  o = f.options;
  o.listen = "nonsense";
  CHECK_THROWS_WITH(sdk::Router{o}, doctest::Contains("--listen"));
  o = f.options;
  o.peers = {"127.0.0.1:9"};
  CHECK_THROWS_WITH(sdk::Router{o}, doctest::Contains("--peer-key"));
}

}  // namespace

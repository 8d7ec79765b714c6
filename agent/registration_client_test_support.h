// Test support for agent/registration_client: a fake gateway that does the gateway's side of
// docs/protocol.md section 9 with its own arithmetic (K and K_t derived here from the spec, not by
// session_key.cpp), a link and a tunnel-key sink that record, and a fake clock. Unit tests only.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <string_view>
#include <vector>

#include "agent/registration_client.h"
#include "common/util/log.h"
#include "tests/registration_spec.h"

namespace dmux::agent::testing {

using Bytes = std::vector<std::byte>;
using std::chrono::milliseconds;

inline constexpr std::uint32_t kGatewayA = 0xc6120001;  // 198.18.0.1
inline constexpr std::uint32_t kGatewayB = 0xc6120002;
inline constexpr std::uint32_t kRouterIp = 0xc6120202;  // 198.18.2.2

struct FakeLink : GatewayLink {
  std::vector<Bytes> sent;
  void send(std::span<const std::byte> m) noexcept override {
    sent.emplace_back(m.begin(), m.end());
  }
  [[nodiscard]] wire::MsgType last_type() const {
    return wire::type_of<wire::MsgType>(sent.back());
  }
};

struct FakeSink : TunnelKeySink {
  struct Installed {
    wire::ProtoId proto;
    std::uint32_t key_id = 0;
    crypto::TunnelKeyBytes key{};
  };
  std::vector<Installed> installed;
  std::vector<std::uint32_t> retired;
  void on_tunnel_key(wire::ProtoId proto, std::uint32_t key_id, const crypto::TunnelKeyBytes& key,
                     MonoTime) noexcept override {
    installed.push_back({proto, key_id, key});
  }
  void on_tunnel_key_retired(std::uint32_t key_id, MonoTime) noexcept override {
    retired.push_back(key_id);
  }
};

using FakeClock = util::ManualClock;

using dmux::testing::mac16;
using dmux::testing::spec_key;

// The gateway side: answers COOKIE_REQUESTs, checks REGISTERs and KEEPALIVEs, answers them.
struct FakeGateway {
  wire::GatewayId id{kGatewayA};
  crypto::PublicKeyBytes agent_key{};
  wire::CookieBytes cookie{};
  std::uint32_t valid_ms = 60000;
  std::uint64_t session_id = 0x1122334455667788;
  std::uint32_t key_id = 0x0badcafe;
  std::uint8_t suite = wire::kSuiteAes256Gmac;
  crypto::Digest key{};
  crypto::Digest tunnel_key{};
  std::uint64_t last_counter = 0;
  std::uint32_t last_rtt_us = 0;  // rtt_us of the last REGISTER, KEEPALIVE or DEREGISTER checked
  wire::RegisterMsg last_register;

  FakeGateway() { cookie.fill(std::byte{0xa5}); }

  Bytes cookie_reply(const Bytes& request, wire::GatewayId answering = {}) {
    wire::CookieRequestMsg m;
    REQUIRE(wire::parse_cookie_request(request, m) == wire::ParseStatus::kOk);
    Bytes out(wire::kCookieReplyLen);
    REQUIRE(wire::write_cookie(out, {answering != wire::GatewayId{} ? answering : id, m.nonce,
                                     cookie, valid_ms}) == out.size());
    return out;
  }

  // Checks the REGISTER like a gateway would (names us, carries our cookie, signed) and returns
  // the ACK bytes.
  Bytes accept(const Bytes& reg, wire::RegisterResult result = wire::RegisterResult::kAccepted) {
    wire::RegisterMsg& m = last_register;
    REQUIRE(wire::parse_register(reg, m) == wire::ParseStatus::kOk);
    CHECK(m.gateway_id == id);
    CHECK(m.cookie == cookie);
    CHECK(crypto::verify_signature(agent_key, m.signed_bytes, m.signature));
    last_rtt_us = m.rtt_us;
    wire::RegisterAckMsg ack{.result = result, .gateway_id = id, .timestamp_us = m.timestamp_us};
    if (result == wire::RegisterResult::kAccepted) {
      const crypto::KeyAgreement mine;
      crypto::Digest shared{};
      REQUIRE(mine.derive(m.session_key, shared));
      ack.session_id = session_id;
      ack.keepalive_interval_ms = 500;
      ack.hold_time_ms = 2000;
      ack.session_key = mine.public_key();
      ack.key_id = key_id;
      ack.suite = suite;
      key = spec_key("ipdmux-v2-session", shared, session_id, m.timestamp_us);
      tunnel_key = spec_key("ipdmux-v2-tunnel", shared, session_id, m.timestamp_us);
      last_counter = 0;
    }
    Bytes out(wire::kRegisterAckLen);
    REQUIRE(wire::write_register_ack(out, ack) == out.size());
    if (result == wire::RegisterResult::kAccepted) {
      ack.mac = mac16(key, std::span(out).first(wire::kRegisterAckMacOffset));
      wire::write_register_ack(out, ack);
    }
    return out;
  }

  // Checks a KEEPALIVE/DEREGISTER (MAC, increasing counter); returns its type.
  wire::MsgType check_session_message(const Bytes& msg, std::uint64_t& counter) {
    wire::MsgType type{};
    wire::KeepaliveMsg m;
    REQUIRE(wire::parse_keepalive(msg, type, m) == wire::ParseStatus::kOk);
    CHECK(m.session_id == session_id);
    CHECK(m.mac == mac16(key, std::span(msg).first(wire::kKeepaliveMacOffset)));
    CHECK(m.counter > last_counter);
    last_counter = counter = m.counter;
    last_rtt_us = m.rtt_us;
    return type;
  }

  Bytes keepalive_ack(std::uint64_t counter,
                      wire::KeepaliveResult result = wire::KeepaliveResult::kAlive,
                      wire::GatewayId answering = {}) {
    wire::KeepaliveAckMsg ack{.result = result,
                              .gateway_id = answering != wire::GatewayId{} ? answering : id,
                              .session_id = session_id,
                              .counter = counter};
    Bytes out(wire::kKeepaliveAckLen);
    REQUIRE(wire::write_keepalive_ack(out, ack) == out.size());
    if (result != wire::KeepaliveResult::kUnknownSession) {
      ack.mac = mac16(key, std::span(out).first(wire::kKeepaliveAckMacOffset));
      wire::write_keepalive_ack(out, ack);
    }
    return out;
  }
};

inline std::optional<std::uint32_t> fake_route(const net::Endpoint&) { return 0xc6120909u; }
inline std::optional<std::uint32_t> no_route(const net::Endpoint&) { return std::nullopt; }

inline RegistrationConfig client_config(std::uint32_t router_ipv4 = kRouterIp) {
  RegistrationConfig c;
  c.proto_id = wire::ProtoId{1};
  c.provider_id = wire::ProviderId{7};
  c.router_ipv4 = router_ipv4;
  c.router_port = 5000;
  c.gateway = net::Endpoint{kGatewayA, 4501};
  c.source_address = &fake_route;
  return c;
}

struct Fixture {
  crypto::SigningKey key = crypto::SigningKey::generate();
  Bytes cert = Bytes(300, std::byte{0x30});  // opaque to the client
  FakeLink link;
  FakeClock clock;
  FakeGateway gw;
  FakeSink sink;
  RegistrationClient client;

  explicit Fixture(const RegistrationConfig& c = client_config())
      : client(c, key, cert, link, &sink) {
    gw.agent_key = key.public_key();
    log::set_level(log::Level::kError);  // the state changes are checked, not read
  }

  bool deliver_cookie(const Bytes& d) {
    wire::CookieMsg m;
    REQUIRE(wire::parse_cookie(d, m) == wire::ParseStatus::kOk);
    return client.on_cookie(m, clock.now());
  }
  bool deliver_register_ack(const Bytes& d) {
    wire::RegisterAckMsg m;
    REQUIRE(wire::parse_register_ack(d, m) == wire::ParseStatus::kOk);
    return client.on_register_ack(d, m, clock.now());
  }
  bool deliver_keepalive_ack(const Bytes& d) {
    wire::KeepaliveAckMsg m;
    REQUIRE(wire::parse_keepalive_ack(d, m) == wire::ParseStatus::kOk);
    return client.on_keepalive_ack(d, m, clock.now());
  }
  // Runs the timer at `d` from now; returns how many messages it sent.
  std::size_t tick(milliseconds d) {
    const std::size_t before = link.sent.size();
    client.on_timer(clock.advance(d));
    return link.sent.size() - before;
  }
  // The COOKIE_REQUEST just sent is answered (after `rtt`); the client sends its REGISTER.
  void answer_cookie(milliseconds rtt = milliseconds(0)) {
    REQUIRE(link.last_type() == wire::MsgType::kCookieRequest);
    const Bytes request = link.sent.back();
    clock.advance(rtt);
    REQUIRE(deliver_cookie(gw.cookie_reply(request)));
    REQUIRE(link.last_type() == wire::MsgType::kRegister);
  }
  // From a COOKIE_REQUEST just sent to an accepted registration.
  void complete_registration() {
    answer_cookie();
    REQUIRE(deliver_register_ack(gw.accept(link.sent.back())));
    REQUIRE(client.state() == RegistrationState::kRegistered);
  }
  void register_now() {
    client.start(clock.now());
    complete_registration();
  }
};

}  // namespace dmux::agent::testing

// The registration state machine against a fake gateway that does the gateway's side of
// docs/protocol.md section 9 with its own crypto (K derived here independently of session_key.cpp),
// driven by a fake clock.
#include "provider/registration_client.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <string_view>
#include <vector>

#include "common/util/log.h"
#include "common/wire/byte_writer.h"

namespace dmux::provider {
namespace {

using Bytes = std::vector<std::byte>;
using std::chrono::milliseconds;

constexpr std::uint32_t kGatewayA = 0xc6120001;  // 198.18.0.1
constexpr std::uint32_t kGatewayB = 0xc6120002;

struct FakeLink : GatewayLink {
  std::vector<Bytes> sent;
  void send(std::span<const std::byte> m) noexcept override {
    sent.emplace_back(m.begin(), m.end());
  }
  [[nodiscard]] std::uint8_t last_type() const {
    return std::to_integer<std::uint8_t>(sent.back()[1]);
  }
};

struct FakeClock {
  Instant t{MonoTime(std::chrono::hours(100)), 1'700'000'000'000'000};
  Instant advance(milliseconds d) {
    t.mono += d;
    t.unix_us += static_cast<std::uint64_t>(d.count()) * 1000;
    return t;
  }
};

crypto::Digest session_key(const crypto::Digest& shared, std::uint64_t sid, std::uint64_t ts) {
  Bytes info(17 + 16);
  wire::ByteWriter w(info);
  const std::string_view label = "ipdmux-v1-session";
  w.bytes(std::as_bytes(std::span(label.data(), label.size())));
  w.u64(sid);
  w.u64(ts);
  return crypto::hmac_sha256(shared, info);
}

wire::MacBytes mac16(const crypto::Digest& k, std::span<const std::byte> covered) {
  const auto full = crypto::hmac_sha256(k, covered);
  wire::MacBytes m{};
  std::copy_n(full.begin(), m.size(), m.begin());
  return m;
}

// The gateway side: verifies REGISTERs and KEEPALIVEs, answers them.
struct FakeGateway {
  std::uint32_t id = kGatewayA;
  crypto::PublicKeyBytes agent_key{};
  std::uint64_t session_id = 0x1122334455667788;
  crypto::Digest key{};
  std::uint64_t last_counter = 0;

  // Checks the REGISTER like a gateway would and returns the ACK bytes.
  Bytes accept(const Bytes& reg, wire::RegisterResult result = wire::RegisterResult::kAccepted) {
    wire::RegisterMsg m;
    REQUIRE(wire::parse_register(reg, m) == wire::ParseStatus::kOk);
    REQUIRE(crypto::verify_signature(agent_key, m.signed_bytes, m.signature));
    wire::RegisterAckMsg ack{.result = result, .gateway_id = id, .timestamp_us = m.timestamp_us};
    if (result == wire::RegisterResult::kAccepted) {
      const crypto::KeyAgreement mine;
      crypto::Digest shared{};
      REQUIRE(mine.derive(m.session_key, shared));
      ack.session_id = session_id;
      ack.keepalive_interval_ms = 500;
      ack.hold_time_ms = 2000;
      ack.session_key = mine.public_key();
      key = session_key(shared, session_id, m.timestamp_us);
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

  std::uint32_t last_rtt_us = 0;  // rtt_us of the last KEEPALIVE/DEREGISTER checked

  // Checks a KEEPALIVE/DEREGISTER (MAC, increasing counter); returns its type.
  std::uint8_t check_session_message(const Bytes& msg, std::uint64_t& counter) {
    std::uint8_t type = 0;
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
                      std::uint32_t answering = 0) {
    wire::KeepaliveAckMsg ack{.result = result,
                              .gateway_id = answering != 0 ? answering : id,
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

struct Fixture {
  crypto::SigningKey key = crypto::SigningKey::generate();
  Bytes cert = Bytes(300, std::byte{0x30});  // opaque to the client
  FakeLink link;
  FakeClock clock;
  FakeGateway gw;
  RegistrationClient client;

  Fixture()
      : client(
            RegistrationConfig{
                .proto_id = 1, .provider_id = 7, .router_ipv4 = 0xc6120202, .router_port = 5000},
            key, cert, link) {
    gw.agent_key = key.public_key();
    log::set_level(log::Level::kError);  // the state changes are checked, not read
  }

  bool deliver_register_ack(const Bytes& d) {
    wire::RegisterAckMsg m;
    REQUIRE(wire::parse_register_ack(d, m) == wire::ParseStatus::kOk);
    return client.on_register_ack(d, m, clock.t);
  }
  bool deliver_keepalive_ack(const Bytes& d) {
    wire::KeepaliveAckMsg m;
    REQUIRE(wire::parse_keepalive_ack(d, m) == wire::ParseStatus::kOk);
    return client.on_keepalive_ack(d, m, clock.t);
  }
  // Runs the timer at `d` from now; returns how many messages it sent.
  std::size_t tick(milliseconds d) {
    const std::size_t before = link.sent.size();
    client.on_timer(clock.advance(d));
    return link.sent.size() - before;
  }
  void register_now() {
    client.start(clock.t);
    REQUIRE(link.last_type() == wire::kTypeRegister);
    REQUIRE(deliver_register_ack(gw.accept(link.sent.back())));
    REQUIRE(client.state() == RegistrationState::kRegistered);
  }
};

}  // namespace

TEST_CASE("register, ack, then keepalives every interval with increasing counters") {
  Fixture f;
  f.client.start(f.clock.t);
  REQUIRE(f.link.sent.size() == 1);
  wire::RegisterMsg reg;
  REQUIRE(wire::parse_register(f.link.sent[0], reg) == wire::ParseStatus::kOk);
  CHECK(reg.proto_id == 1);
  CHECK(reg.provider_id == 7);
  CHECK(reg.router_ipv4 == 0xc6120202);
  CHECK(reg.router_port == 5000);
  CHECK(reg.timestamp_us == f.clock.t.unix_us);
  CHECK(reg.certificate.size() == f.cert.size());
  CHECK(f.client.state() == RegistrationState::kRegistering);

  REQUIRE(f.deliver_register_ack(f.gw.accept(f.link.sent[0])));
  CHECK(f.client.state() == RegistrationState::kRegistered);
  CHECK(f.client.gateway_id() == kGatewayA);
  CHECK(f.client.session_id() == f.gw.session_id);
  CHECK(f.client.keepalive_interval() == milliseconds(500));
  CHECK(f.client.hold_time() == milliseconds(2000));

  CHECK(f.tick(milliseconds(499)) == 0);  // not yet
  for (std::uint64_t i = 1; i <= 5; ++i) {
    REQUIRE(f.tick(milliseconds(i == 1 ? 1 : 500)) == 1);
    std::uint64_t counter = 0;
    CHECK(f.gw.check_session_message(f.link.sent.back(), counter) == wire::kTypeKeepalive);
    CHECK(counter == i);
    CHECK(f.deliver_keepalive_ack(f.gw.keepalive_ack(counter)));
  }
  CHECK(f.client.counters().keepalive_acks == 5);
  CHECK(f.client.counters().registers_sent == 1);
  CHECK(f.client.state() == RegistrationState::kRegistered);
}

TEST_CASE("REGISTER timestamps increase strictly and each carries a fresh session key") {
  Fixture f;
  f.client.start(f.clock.t);
  f.clock.t.unix_us -= 5'000'000;  // the wall clock steps back
  f.tick(milliseconds(1000));
  f.tick(milliseconds(0));  // not due: nothing sent
  f.tick(milliseconds(2000));
  REQUIRE(f.link.sent.size() == 3);
  wire::RegisterMsg a, b, c;
  REQUIRE(wire::parse_register(f.link.sent[0], a) == wire::ParseStatus::kOk);
  REQUIRE(wire::parse_register(f.link.sent[1], b) == wire::ParseStatus::kOk);
  REQUIRE(wire::parse_register(f.link.sent[2], c) == wire::ParseStatus::kOk);
  CHECK(b.timestamp_us == a.timestamp_us + 1);
  CHECK(c.timestamp_us > b.timestamp_us);
  CHECK(a.session_key != b.session_key);
  CHECK(b.session_key != c.session_key);
}

TEST_CASE("while no gateway answers, REGISTER is retried after 1 s doubling to 30 s") {
  Fixture f;
  const MonoTime t0 = f.clock.t.mono;
  f.client.start(f.clock.t);
  std::vector<long long> sent_at{0};
  // Step through time in 100 ms ticks, like a coarse event loop, for two minutes.
  for (int i = 0; i < 1200; ++i) {
    if (f.tick(milliseconds(100)) != 0) {
      CHECK(f.link.last_type() == wire::kTypeRegister);
      sent_at.push_back(std::chrono::duration_cast<milliseconds>(f.clock.t.mono - t0).count());
    }
  }
  CHECK(sent_at == std::vector<long long>{0, 1000, 3000, 7000, 15000, 31000, 61000, 91000});
  CHECK(f.client.retry_delay() == milliseconds(30000));
  // An answer resets the backoff.
  REQUIRE(f.deliver_register_ack(f.gw.accept(f.link.sent.back())));
  CHECK(f.client.retry_delay() == milliseconds(1000));
}

TEST_CASE("three silent keepalive intervals make the agent re-register") {
  Fixture f;
  f.register_now();
  CHECK(f.tick(milliseconds(500)) == 1);
  CHECK(f.tick(milliseconds(500)) == 1);
  CHECK(f.link.last_type() == wire::kTypeKeepalive);
  CHECK(f.tick(milliseconds(500)) == 1);  // 1.5 s = 3 intervals without an ack
  CHECK(f.link.last_type() == wire::kTypeRegister);
  CHECK(f.client.state() == RegistrationState::kRegistering);
  CHECK(f.client.counters().reregistrations == 1);
  CHECK(f.client.retry_delay() == milliseconds(1000));
  // A valid ack for the old session no longer counts.
  CHECK_FALSE(f.deliver_keepalive_ack(f.gw.keepalive_ack(1)));
  REQUIRE(f.deliver_register_ack(f.gw.accept(f.link.sent.back())));
  CHECK(f.client.state() == RegistrationState::kRegistered);
}

TEST_CASE("an ack every interval keeps the session; acks with bad MACs do not") {
  Fixture f;
  f.register_now();
  for (int i = 0; i < 7; ++i) {
    REQUIRE(f.tick(milliseconds(500)) == 1);
    std::uint64_t counter = 0;
    f.gw.check_session_message(f.link.sent.back(), counter);
    Bytes ack = f.gw.keepalive_ack(counter);
    if (i >= 5) ack[wire::kKeepaliveAckMacOffset] ^= std::byte{1};  // forged from here on
    CHECK(f.deliver_keepalive_ack(ack) == (i < 5));
    CHECK(f.client.state() == RegistrationState::kRegistered);
  }
  CHECK(f.client.counters().bad_macs == 2);
  REQUIRE(f.tick(milliseconds(500)) == 1);  // 1.5 s since the last valid ack
  CHECK(f.link.last_type() == wire::kTypeRegister);
}

TEST_CASE("a change of the answering gateway makes the agent re-register") {
  Fixture f;
  f.register_now();
  REQUIRE(f.tick(milliseconds(500)) == 1);
  std::uint64_t counter = 0;
  f.gw.check_session_message(f.link.sent.back(), counter);
  CHECK(f.deliver_keepalive_ack(
      f.gw.keepalive_ack(counter, wire::KeepaliveResult::kAlive, kGatewayB)));
  CHECK(f.link.last_type() == wire::kTypeRegister);
  CHECK(f.client.state() == RegistrationState::kRegistering);
  f.gw.id = kGatewayB;
  REQUIRE(f.deliver_register_ack(f.gw.accept(f.link.sent.back())));
  CHECK(f.client.gateway_id() == kGatewayB);
}

TEST_CASE("'unknown session' re-registers at most once per keepalive interval") {
  Fixture f;
  f.register_now();
  REQUIRE(f.tick(milliseconds(500)) == 1);
  std::uint64_t counter = 0;
  f.gw.check_session_message(f.link.sent.back(), counter);
  // Anycast moved us: gateway B never heard of the session.
  CHECK(f.deliver_keepalive_ack(
      f.gw.keepalive_ack(counter, wire::KeepaliveResult::kUnknownSession, kGatewayB)));
  CHECK(f.link.last_type() == wire::kTypeRegister);
  REQUIRE(f.deliver_register_ack(f.gw.accept(f.link.sent.back())));
  REQUIRE(f.tick(milliseconds(100)) == 0);
  // A (forged) hint right after: ignored, no second REGISTER within the interval.
  const std::size_t sent = f.link.sent.size();
  CHECK(f.deliver_keepalive_ack(f.gw.keepalive_ack(0, wire::KeepaliveResult::kUnknownSession)));
  CHECK(f.link.sent.size() == sent);
  CHECK(f.client.state() == RegistrationState::kRegistered);
  CHECK(f.client.counters().unknown_session_hints == 2);
  CHECK(f.client.counters().reregistrations == 1);
}

TEST_CASE("REGISTER_ACKs that do not answer the REGISTER in flight or fail the MAC are ignored") {
  Fixture f;
  f.client.start(f.clock.t);
  Bytes ack = f.gw.accept(f.link.sent.back());
  Bytes forged = ack;
  forged[wire::kRegisterAckMacOffset + 3] ^= std::byte{0x40};
  CHECK_FALSE(f.deliver_register_ack(forged));
  CHECK(f.client.counters().bad_macs == 1);
  Bytes other_ts = ack;
  other_ts[27] ^= std::byte{1};  // timestamp echo
  CHECK_FALSE(f.deliver_register_ack(other_ts));
  CHECK(f.client.state() == RegistrationState::kRegistering);
  CHECK(f.deliver_register_ack(ack));
  CHECK(f.client.state() == RegistrationState::kRegistered);
  CHECK_FALSE(f.deliver_register_ack(ack));  // a replay after success
}

TEST_CASE("refusals keep the agent trying; out of scope slows it to the maximum delay") {
  Fixture f;
  f.client.start(f.clock.t);
  CHECK(f.deliver_register_ack(f.gw.accept(f.link.sent.back(), wire::RegisterResult::kSuppressed)));
  CHECK(f.client.state() == RegistrationState::kRegistering);
  CHECK(f.tick(milliseconds(1000)) == 1);
  CHECK(f.deliver_register_ack(f.gw.accept(f.link.sent.back(), wire::RegisterResult::kOutOfScope)));
  CHECK(f.client.retry_delay() == milliseconds(30000));
  CHECK(f.tick(milliseconds(29000)) == 0);
  CHECK(f.tick(milliseconds(1000)) == 1);
  CHECK(f.client.counters().refusals == 2);
}

TEST_CASE("stop sends an authenticated DEREGISTER and then nothing") {
  Fixture f;
  f.register_now();
  REQUIRE(f.tick(milliseconds(500)) == 1);
  std::uint64_t counter = 0;
  f.gw.check_session_message(f.link.sent.back(), counter);
  f.client.stop();
  CHECK(f.gw.check_session_message(f.link.sent.back(), counter) == wire::kTypeDeregister);
  CHECK(counter == 2);
  CHECK(f.client.next_deadline() == MonoTime::max());
  CHECK(f.tick(milliseconds(100000)) == 0);
}

TEST_CASE("keepalives report the median RTT of earlier keepalive exchanges, matched by counter") {
  Fixture f;
  f.register_now();
  std::uint64_t counter = 0;
  REQUIRE(f.tick(milliseconds(500)) == 1);
  f.gw.check_session_message(f.link.sent.back(), counter);
  CHECK(f.gw.last_rtt_us == 0);  // nothing measured yet
  CHECK_FALSE(f.client.rtt());
  f.clock.advance(milliseconds(20));
  REQUIRE(f.deliver_keepalive_ack(f.gw.keepalive_ack(counter)));
  CHECK(f.client.rtt() == std::chrono::microseconds(20000));
  // A duplicate of that ack adds no sample.
  f.clock.advance(milliseconds(100));
  REQUIRE(f.deliver_keepalive_ack(f.gw.keepalive_ack(counter)));
  CHECK(f.client.rtt() == std::chrono::microseconds(20000));

  // Two more at 30 ms, one outlier at 400 ms: the median stays put.
  for (const int rtt_ms : {30, 400, 30}) {
    REQUIRE(f.tick(milliseconds(500 - 120)) == 1);
    f.gw.check_session_message(f.link.sent.back(), counter);
    f.clock.advance(milliseconds(rtt_ms));
    REQUIRE(f.deliver_keepalive_ack(f.gw.keepalive_ack(counter)));
    f.clock.advance(milliseconds(120 - rtt_ms));
  }
  CHECK(f.client.rtt() == std::chrono::microseconds(30000));
  REQUIRE(f.tick(milliseconds(500)) == 1);
  f.gw.check_session_message(f.link.sent.back(), counter);
  CHECK(f.gw.last_rtt_us == 30000);

  // A late ack for the keepalive before (two outstanding) is matched by its counter.
  const std::uint64_t earlier = counter;
  REQUIRE(f.tick(milliseconds(500)) == 1);
  f.gw.check_session_message(f.link.sent.back(), counter);
  f.clock.advance(milliseconds(10));
  REQUIRE(f.deliver_keepalive_ack(f.gw.keepalive_ack(earlier)));  // sent 510 ms ago
  REQUIRE(f.deliver_keepalive_ack(f.gw.keepalive_ack(counter)));  // sent 10 ms ago
  CHECK(f.client.rtt() == std::chrono::microseconds(30000));  // median of 20,30,400,30,510,10

  // DEREGISTER carries it too.
  f.client.stop();
  CHECK(f.gw.check_session_message(f.link.sent.back(), counter) == wire::kTypeDeregister);
  CHECK(f.gw.last_rtt_us == 30000);
}

TEST_CASE("stop before registration sends nothing") {
  Fixture f;
  f.client.start(f.clock.t);
  f.client.stop();
  CHECK(f.link.sent.size() == 1);
  CHECK(f.client.state() == RegistrationState::kStopped);
}

}  // namespace dmux::provider

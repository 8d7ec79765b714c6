// The registration state machine against a fake gateway (registration_client_test_support.h),
// driven by a fake clock: the cookie exchange, REGISTER, tunnel keys, keepalives, re-registration.
#include "agent/registration_client.h"

#include "agent/registration_client_test_support.h"

namespace dmux::agent {
namespace {

using namespace testing;

}  // namespace

TEST_CASE("COOKIE_REQUEST, COOKIE, REGISTER naming the gateway, ACK, keepalives") {
  Fixture f;
  f.client.start(f.clock.now());
  REQUIRE(f.link.sent.size() == 1);
  REQUIRE(f.link.last_type() == wire::MsgType::kCookieRequest);
  wire::CookieRequestMsg creq;
  REQUIRE(wire::parse_cookie_request(f.link.sent[0], creq) == wire::ParseStatus::kOk);
  CHECK(creq.nonce != 0);
  CHECK(f.client.state() == RegistrationState::kRegistering);

  f.answer_cookie(milliseconds(4));  // the first RTT sample: 4 ms
  REQUIRE(f.link.sent.size() == 2);
  wire::RegisterMsg reg;
  REQUIRE(wire::parse_register(f.link.sent[1], reg) == wire::ParseStatus::kOk);
  CHECK(reg.proto_id == wire::ProtoId{1});
  CHECK(reg.provider_id == wire::ProviderId{7});
  CHECK(reg.router_ipv4 == kRouterIp);
  CHECK(reg.router_port == 5000);
  CHECK(reg.gateway_id == wire::GatewayId{kGatewayA});
  CHECK(reg.cookie == f.gw.cookie);
  CHECK(reg.rtt_us == 4000);
  CHECK(reg.timestamp_us == f.clock.now().unix_us);
  CHECK(reg.certificate.size() == f.cert.size());

  REQUIRE(f.deliver_register_ack(f.gw.accept(f.link.sent[1])));
  CHECK(f.client.state() == RegistrationState::kRegistered);
  CHECK(f.client.gateway_id() == wire::GatewayId{kGatewayA});
  CHECK(f.client.session_id() == f.gw.session_id);
  CHECK(f.client.key_id() == f.gw.key_id);
  CHECK(f.client.keepalive_interval() == milliseconds(500));
  CHECK(f.client.hold_time() == milliseconds(2000));
  // The tunnel key went to the sink: K_t as the spec derives it.
  REQUIRE(f.sink.installed.size() == 1);
  CHECK(f.sink.installed[0].proto == wire::ProtoId{1});
  CHECK(f.sink.installed[0].key_id == f.gw.key_id);
  CHECK(std::equal(f.sink.installed[0].key.begin(), f.sink.installed[0].key.end(),
                   f.gw.tunnel_key.begin()));
  CHECK(f.sink.retired.empty());

  CHECK(f.tick(milliseconds(499)) == 0);  // not yet
  for (std::uint64_t i = 1; i <= 5; ++i) {
    REQUIRE(f.tick(milliseconds(i == 1 ? 1 : 500)) == 1);
    std::uint64_t counter = 0;
    CHECK(f.gw.check_session_message(f.link.sent.back(), counter) == wire::MsgType::kKeepalive);
    CHECK(counter == i);
    CHECK(f.deliver_keepalive_ack(f.gw.keepalive_ack(counter)));
  }
  CHECK(f.client.counters().keepalive_acks == 5);
  CHECK(f.client.counters().registers_sent == 1);
  CHECK(f.client.counters().cookie_requests_sent == 1);
  CHECK(f.client.counters().cookies == 1);
}

TEST_CASE("a COOKIE is taken only if it echoes the outstanding nonce, and only once") {
  Fixture f;
  f.client.start(f.clock.now());
  Bytes reply = f.gw.cookie_reply(f.link.sent.back());
  Bytes wrong = reply;
  wrong[19] ^= std::byte{1};  // nonce
  CHECK_FALSE(f.deliver_cookie(wrong));
  CHECK(f.link.sent.size() == 1);
  CHECK(f.deliver_cookie(reply));
  CHECK(f.link.sent.size() == 2);
  CHECK_FALSE(f.deliver_cookie(reply));  // a duplicate sends no second REGISTER
  CHECK(f.link.sent.size() == 2);
  CHECK(f.client.counters().ignored == 2);
}

TEST_CASE("with router_ipv4 0 the kernel's source address toward the gateway is registered") {
  Fixture f(client_config(0));
  f.client.start(f.clock.now());
  f.answer_cookie();
  wire::RegisterMsg reg;
  REQUIRE(wire::parse_register(f.link.sent.back(), reg) == wire::ParseStatus::kOk);
  CHECK(reg.router_ipv4 == 0xc6120909u);
  CHECK(f.client.router_ipv4() == 0xc6120909u);

  RegistrationConfig unset = client_config(0);
  unset.gateway = {};
  Fixture nowhere(unset);
  nowhere.client.start(nowhere.clock.now());
  REQUIRE(nowhere.deliver_cookie(nowhere.gw.cookie_reply(nowhere.link.sent.back())));
  CHECK(nowhere.client.counters().registers_sent == 0);  // never guesses an address

  RegistrationConfig c = client_config(0);
  c.source_address = &no_route;
  Fixture lost(c);
  lost.client.start(lost.clock.now());
  REQUIRE(lost.deliver_cookie(lost.gw.cookie_reply(lost.link.sent.back())));
  CHECK(lost.link.last_type() == wire::MsgType::kCookieRequest);  // no REGISTER with address 0
  CHECK(lost.client.counters().registers_sent == 0);
}

TEST_CASE("REGISTER timestamps increase strictly and each carries a fresh session key") {
  Fixture f;
  f.client.start(f.clock.now());
  f.answer_cookie();
  f.clock.set(
      {f.clock.now().mono, f.clock.now().unix_us - 5'000'000});  // the wall clock steps back
  f.tick(milliseconds(1000));                                    // no ACK: a new COOKIE_REQUEST
  f.answer_cookie();
  f.tick(milliseconds(2000));
  f.answer_cookie();
  std::vector<wire::RegisterMsg> regs;
  for (const Bytes& m : f.link.sent) {
    if (wire::type_of<wire::MsgType>(m) != wire::MsgType::kRegister) continue;
    regs.emplace_back();
    REQUIRE(wire::parse_register(m, regs.back()) == wire::ParseStatus::kOk);
  }
  REQUIRE(regs.size() == 3);
  CHECK(regs[1].timestamp_us == regs[0].timestamp_us + 1);
  CHECK(regs[2].timestamp_us > regs[1].timestamp_us);
  CHECK(regs[0].session_key != regs[1].session_key);
  CHECK(regs[1].session_key != regs[2].session_key);
}

TEST_CASE("while no gateway answers, COOKIE_REQUEST is retried after 1 s doubling to 30 s") {
  Fixture f;
  const MonoTime t0 = f.clock.now().mono;
  f.client.start(f.clock.now());
  std::vector<long long> sent_at{0};
  std::uint64_t last_nonce = 0;
  for (int i = 0; i < 1200; ++i) {  // 100 ms ticks, like a coarse event loop, for two minutes
    if (f.tick(milliseconds(100)) == 0) continue;
    REQUIRE(f.link.last_type() == wire::MsgType::kCookieRequest);
    wire::CookieRequestMsg m;
    REQUIRE(wire::parse_cookie_request(f.link.sent.back(), m) == wire::ParseStatus::kOk);
    CHECK(m.nonce != last_nonce);  // a fresh nonce each time
    last_nonce = m.nonce;
    sent_at.push_back(std::chrono::duration_cast<milliseconds>(f.clock.now().mono - t0).count());
  }
  CHECK(sent_at == std::vector<long long>{0, 1000, 3000, 7000, 15000, 31000, 61000, 91000});
  CHECK(f.client.retry_delay() == milliseconds(30000));
  // An answer resets the backoff.
  f.complete_registration();
  CHECK(f.client.retry_delay() == milliseconds(1000));
}

TEST_CASE("an unanswered REGISTER starts again from a new COOKIE_REQUEST") {
  Fixture f;
  f.client.start(f.clock.now());
  f.answer_cookie();
  const Bytes first_register = f.link.sent.back();
  CHECK(f.tick(milliseconds(1000)) == 1);
  CHECK(f.link.last_type() == wire::MsgType::kCookieRequest);
  // The ACK of the abandoned REGISTER no longer counts.
  CHECK_FALSE(f.deliver_register_ack(f.gw.accept(first_register)));
  f.complete_registration();
}

TEST_CASE("refusals keep the agent trying with its cookie; an expired cookie is renewed") {
  Fixture f;
  f.gw.valid_ms = 5000;
  f.client.start(f.clock.now());
  f.answer_cookie();
  CHECK(f.deliver_register_ack(f.gw.accept(f.link.sent.back(), wire::RegisterResult::kSuppressed)));
  CHECK(f.client.state() == RegistrationState::kRegistering);
  CHECK(f.tick(milliseconds(1000)) == 1);
  CHECK(f.link.last_type() == wire::MsgType::kRegister);  // the cookie is 1 s old: still good
  CHECK(f.deliver_register_ack(f.gw.accept(f.link.sent.back(), wire::RegisterResult::kOutOfScope)));
  CHECK(f.client.retry_delay() == milliseconds(30000));
  CHECK(f.tick(milliseconds(29000)) == 0);
  CHECK(f.tick(milliseconds(1000)) == 1);
  CHECK(f.link.last_type() == wire::MsgType::kCookieRequest);  // 31 s: the cookie has expired
  CHECK(f.client.counters().refusals == 2);
  CHECK(f.sink.installed.empty());
}

TEST_CASE("an accepting ACK with an unknown tunnel suite installs nothing") {
  Fixture f;
  f.gw.suite = 7;
  f.client.start(f.clock.now());
  f.answer_cookie();
  CHECK(f.deliver_register_ack(f.gw.accept(f.link.sent.back())));
  CHECK(f.client.state() == RegistrationState::kRegistering);
  CHECK(f.sink.installed.empty());
  CHECK(f.client.counters().refusals == 1);
}

TEST_CASE("three silent keepalive intervals make the agent re-register and retire the key") {
  Fixture f;
  f.register_now();
  CHECK(f.tick(milliseconds(500)) == 1);
  CHECK(f.tick(milliseconds(500)) == 1);
  CHECK(f.link.last_type() == wire::MsgType::kKeepalive);
  CHECK(f.tick(milliseconds(500)) == 1);  // 1.5 s = 3 intervals without an ack
  CHECK(f.link.last_type() == wire::MsgType::kCookieRequest);
  CHECK(f.client.state() == RegistrationState::kRegistering);
  CHECK(f.client.counters().reregistrations == 1);
  CHECK(f.client.retry_delay() == milliseconds(1000));
  CHECK(f.sink.retired == std::vector<std::uint32_t>{f.gw.key_id});
  // A valid ack for the old session no longer counts.
  CHECK_FALSE(f.deliver_keepalive_ack(f.gw.keepalive_ack(1)));
  const std::uint32_t old_key = f.gw.key_id;
  f.gw.key_id = 0x0c0ffee0;
  f.gw.session_id += 1;
  f.complete_registration();
  REQUIRE(f.sink.installed.size() == 2);
  CHECK(f.sink.installed[1].key_id == 0x0c0ffee0);
  CHECK(f.sink.retired == std::vector<std::uint32_t>{old_key});
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
  CHECK(f.link.last_type() == wire::MsgType::kCookieRequest);
}

TEST_CASE("a change of the answering gateway makes the agent re-register there") {
  Fixture f;
  f.register_now();
  REQUIRE(f.tick(milliseconds(500)) == 1);
  std::uint64_t counter = 0;
  f.gw.check_session_message(f.link.sent.back(), counter);
  CHECK(f.deliver_keepalive_ack(
      f.gw.keepalive_ack(counter, wire::KeepaliveResult::kAlive, wire::GatewayId{kGatewayB})));
  CHECK(f.link.last_type() == wire::MsgType::kCookieRequest);
  CHECK(f.client.state() == RegistrationState::kRegistering);
  f.gw.id = wire::GatewayId{kGatewayB};  // the COOKIE now comes from B, and the REGISTER names B
  f.complete_registration();
  CHECK(f.client.gateway_id() == wire::GatewayId{kGatewayB});
  CHECK(f.gw.last_register.gateway_id == wire::GatewayId{kGatewayB});
}

TEST_CASE("'unknown session' re-registers at most once per keepalive interval") {
  Fixture f;
  f.register_now();
  REQUIRE(f.tick(milliseconds(500)) == 1);
  std::uint64_t counter = 0;
  f.gw.check_session_message(f.link.sent.back(), counter);
  // Anycast moved us: gateway B never heard of the session.
  CHECK(f.deliver_keepalive_ack(f.gw.keepalive_ack(counter, wire::KeepaliveResult::kUnknownSession,
                                                   wire::GatewayId{kGatewayB})));
  CHECK(f.link.last_type() == wire::MsgType::kCookieRequest);
  f.complete_registration();
  REQUIRE(f.tick(milliseconds(100)) == 0);
  // A (forged) hint right after: ignored, no second registration within the interval.
  const std::size_t sent = f.link.sent.size();
  CHECK(f.deliver_keepalive_ack(f.gw.keepalive_ack(0, wire::KeepaliveResult::kUnknownSession)));
  CHECK(f.link.sent.size() == sent);
  CHECK(f.client.state() == RegistrationState::kRegistered);
  CHECK(f.client.counters().unknown_session_hints == 2);
  CHECK(f.client.counters().reregistrations == 1);
}

TEST_CASE("REGISTER_ACKs that do not answer the REGISTER in flight or fail the MAC are ignored") {
  Fixture f;
  f.client.start(f.clock.now());
  f.answer_cookie();
  Bytes ack = f.gw.accept(f.link.sent.back());
  Bytes forged = ack;
  forged[wire::kRegisterAckMacOffset + 3] ^= std::byte{0x40};
  CHECK_FALSE(f.deliver_register_ack(forged));
  CHECK(f.client.counters().bad_macs == 1);
  Bytes other_ts = ack;
  other_ts[27] ^= std::byte{1};  // timestamp echo
  CHECK_FALSE(f.deliver_register_ack(other_ts));
  Bytes other_key = ack;
  other_key[70] ^= std::byte{1};  // key_id: under the MAC
  CHECK_FALSE(f.deliver_register_ack(other_key));
  CHECK(f.client.state() == RegistrationState::kRegistering);
  CHECK(f.sink.installed.empty());
  CHECK(f.deliver_register_ack(ack));
  CHECK(f.client.state() == RegistrationState::kRegistered);
  CHECK_FALSE(f.deliver_register_ack(ack));  // a replay after success
  CHECK(f.sink.installed.size() == 1);
}

TEST_CASE("stop sends an authenticated DEREGISTER, retires the key, then sends nothing") {
  Fixture f;
  f.register_now();
  REQUIRE(f.tick(milliseconds(500)) == 1);
  std::uint64_t counter = 0;
  f.gw.check_session_message(f.link.sent.back(), counter);
  f.client.stop();
  CHECK(f.gw.check_session_message(f.link.sent.back(), counter) == wire::MsgType::kDeregister);
  CHECK(counter == 2);
  CHECK(f.sink.retired == std::vector<std::uint32_t>{f.gw.key_id});
  CHECK(f.client.next_deadline() == MonoTime::max());
  CHECK(f.tick(milliseconds(100000)) == 0);
}

TEST_CASE("RTT: the COOKIE exchange, then the median of keepalive exchanges matched by counter") {
  Fixture f;
  f.client.start(f.clock.now());
  f.answer_cookie(milliseconds(20));
  REQUIRE(f.deliver_register_ack(f.gw.accept(f.link.sent.back())));
  CHECK(f.gw.last_rtt_us == 20000);  // the REGISTER carried the COOKIE's RTT
  CHECK(f.client.rtt() == std::chrono::microseconds(20000));
  std::uint64_t counter = 0;
  REQUIRE(f.tick(milliseconds(500)) == 1);
  f.gw.check_session_message(f.link.sent.back(), counter);
  CHECK(f.gw.last_rtt_us == 20000);
  f.clock.advance(milliseconds(20));
  REQUIRE(f.deliver_keepalive_ack(f.gw.keepalive_ack(counter)));
  // A duplicate of that ack adds no sample.
  f.clock.advance(milliseconds(100));
  REQUIRE(f.deliver_keepalive_ack(f.gw.keepalive_ack(counter)));
  CHECK(f.client.rtt() == std::chrono::microseconds(20000));

  // Three at 30 ms, one outlier at 400 ms: the median moves to 30 ms and stays.
  for (const int rtt_ms : {30, 400, 30, 30}) {
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
  CHECK(f.client.rtt() == std::chrono::microseconds(30000));  // median of 20,20,30,400,30,30,510,10

  // DEREGISTER carries it too.
  f.client.stop();
  CHECK(f.gw.check_session_message(f.link.sent.back(), counter) == wire::MsgType::kDeregister);
  CHECK(f.gw.last_rtt_us == 30000);
}

TEST_CASE("stop before registration sends nothing more") {
  Fixture f;
  f.client.start(f.clock.now());
  f.client.stop();
  CHECK(f.link.sent.size() == 1);  // the COOKIE_REQUEST
  CHECK(f.client.state() == RegistrationState::kStopped);
  CHECK(f.sink.retired.empty());
}

}  // namespace dmux::agent

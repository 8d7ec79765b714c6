// The order of the REGISTER checks (docs/protocol.md 9.6), each refusal reason, and the defences
// that keep a flood away from public-key work: cookie, per-source table, signature budget, the
// global COOKIE and hint rates. Fake clock throughout.
#include "registry/registration_handler.h"
#include "registry/registration_test_support.h"

using namespace dmux;
using namespace dmux::registry;
using namespace dmux::registry::testing;

namespace {

// The steps of the 9.6 table, in order, and the outcome each counts.
enum class Step {
  kSource,
  kGateway,
  kCookie,
  kSourceRate,
  kBudget,
  kCert,
  kStale,
  kSig,
  kScope,
  kReplay,
  kDampening,
  kNone
};
constexpr RegisterOutcome kOutcome[] = {
    RegisterOutcome::kWrongSource, RegisterOutcome::kWrongGateway, RegisterOutcome::kBadCookie,
    RegisterOutcome::kRateLimited, RegisterOutcome::kOverloaded,   RegisterOutcome::kForged,
    RegisterOutcome::kStale,       RegisterOutcome::kBadSignature, RegisterOutcome::kOutOfScope,
    RegisterOutcome::kReplayed,    RegisterOutcome::kSuppressed,   RegisterOutcome::kAccepted};

const net::Endpoint kElsewhere{0xc6120303u, 5000};
const net::Endpoint kOtherRouter{0xc6120404u, 5000};

struct OrderFixture {
  Gateway g;
  Pki other;
  crypto::Certificate good = g.pki.issue(crypto::Role::kProvider, 7, {1});
  crypto::Certificate foreign = other.issue(crypto::Role::kProvider, 7, {1});
  std::uint64_t t0 = static_cast<std::uint64_t>(kStartUs);

  OrderFixture()
      : g([] {
          HandlerConfig c = handler_config();
          c.rate = {.per_second = 1, .burst = 1, .max_sources = 100};
          c.signature_rate = {1, 1};
          return c;
        }()) {}

  // A cookie-valid REGISTER from `router` that spends its source's token and the budget's, and
  // then fails (stale) without touching the registry.
  void spend_tokens(const net::Endpoint& router) {
    Agent x;
    x.fields.router = router;
    x.fields.timestamp_us = t0 - 60'000'000;
    CHECK(g.send(x.valid_register(g, good), router) == 0);
  }
  void register_then(bool deregister, std::uint64_t ts) {
    Agent f;
    f.fields.timestamp_us = ts;
    const std::size_t n = g.send(f.valid_register(g, good));
    REQUIRE(n == wire::kRegisterAckLen);
    wire::RegisterAckMsg ack;
    REQUIRE(wire::parse_register_ack(g.answer(n), ack) == wire::ParseStatus::kOk);
    REQUIRE(ack.result == wire::RegisterResult::kAccepted);
    g.advance(1100ms);  // tokens again
    if (!deregister) return;
    crypto::Digest shared{};
    REQUIRE(f.agreement.derive(ack.session_key, shared));
    const auto k = spec_key("ipdmux-v2-session", shared, ack.session_id, ts);
    REQUIRE(g.send(keepalive(wire::MsgType::kDeregister, ack.session_id, 1, k)) != 0);
  }

  // Sends a REGISTER that fails every step from `first` on and passes the ones before; returns
  // the reply length and how many certificate lookups it caused.
  std::pair<std::size_t, std::uint64_t> send_failing_from(Step first) {
    const auto broken = [&](Step s) { return static_cast<int>(s) >= static_cast<int>(first); };
    Agent a;
    a.fields.timestamp_us = t0 + 100;
    if (broken(Step::kReplay) && first != Step::kNone) register_then(false, t0 + 200);
    if (first == Step::kDampening) {
      for (std::uint64_t i = 0; i < 4; ++i) register_then(true, t0 + i);
    }
    if (broken(Step::kSourceRate)) spend_tokens(kRouter);
    if (first == Step::kBudget) spend_tokens(kOtherRouter);
    a.fields.cookie = g.cookie_for();
    if (broken(Step::kGateway)) a.fields.gateway_id = kGatewayId + 1;
    if (broken(Step::kCookie)) a.fields.cookie[0] ^= std::byte{1};
    if (broken(Step::kStale)) a.fields.timestamp_us -= 31'000'000;
    if (broken(Step::kScope)) a.fields.provider = 8;
    const auto stranger = crypto::SigningKey::generate();
    const Bytes msg = a.signed_register(g, broken(Step::kCert) ? foreign : good,
                                        broken(Step::kSig) ? &stranger : nullptr);
    const auto before = g.handler.counters().certificates;
    const std::size_t n = g.send(msg, broken(Step::kSource) ? kElsewhere : kRouter);
    const auto after = g.handler.counters().certificates;
    return {n, after.hits + after.misses + after.refused_hits - before.hits - before.misses -
                   before.refused_hits};
  }
};

}  // namespace

TEST_CASE("REGISTER checks run in the order of the 9.6 table; the first failure is counted") {
  for (int i = 0; i <= static_cast<int>(Step::kNone); ++i) {
    const auto first = static_cast<Step>(i);
    const RegisterOutcome want = kOutcome[i];
    CAPTURE(to_string(want));
    OrderFixture f;
    const auto [reply, lookups] = f.send_failing_from(first);
    CHECK(f.g.registers(want) == 1);
    std::uint64_t refusals = 0;
    for (std::size_t o = 0; o < kRegisterOutcomes; ++o) {
      refusals += f.g.handler.counters().registers[o];
    }
    const std::uint64_t setup =
        f.g.registers(RegisterOutcome::kAccepted) + f.g.registers(RegisterOutcome::kStale) -
        (want == RegisterOutcome::kAccepted || want == RegisterOutcome::kStale);
    CHECK(refusals == setup + 1);  // exactly one outcome for the REGISTER under test
    // Only the certificate step and later ones look at the certificate; only 9, 11 and 12 answer.
    CHECK(lookups == (i >= static_cast<int>(Step::kCert) ? 1u : 0u));
    const bool answered =
        first == Step::kScope || first == Step::kDampening || first == Step::kNone;
    CHECK((reply != 0) == answered);
  }
}

TEST_CASE("REGISTER refusals of the parser: truncated, malformed, router_ipv4 0") {
  Gateway g;
  const auto good = g.pki.issue(crypto::Role::kProvider, 7, {1});
  Agent a;
  const Bytes msg = a.valid_register(g, good);
  CHECK(g.send(std::span(msg).first(msg.size() - 1)) == 0);
  CHECK(g.registers(RegisterOutcome::kTruncated) == 1);
  Bytes longer = msg;
  longer.push_back(std::byte{0});
  CHECK(g.send(longer) == 0);
  CHECK(g.registers(RegisterOutcome::kMalformed) == 1);
  // A captured REGISTER with router_ipv4 = 0 (version 1 allowed it) registers nothing.
  a.fields.router = net::Endpoint{0, kRouter.port};
  CHECK(g.send(a.signed_register(g, good), net::Endpoint{0, kRouter.port}) == 0);
  CHECK(g.registers(RegisterOutcome::kMalformed) == 2);
  CHECK(g.registry.up_routers().empty());
}

TEST_CASE("cookies: bound to address and port, valid for one to two periods") {
  HandlerConfig c = handler_config();
  c.cookie_valid = 1000ms;
  Gateway g(c);
  const auto good = g.pki.issue(crypto::Role::kProvider, 7, {1});
  const auto cookie = g.cookie_for();
  // Another port of the same address has another cookie.
  CHECK(g.cookie_for(net::Endpoint{kRouter.addr, 5001}) != cookie);
  CHECK(g.cookie_for() == cookie);  // no state: the same answer again
  Agent a;
  a.fields.cookie = cookie;
  g.advance(1500ms);  // one rotation: the previous secret still counts
  CHECK(g.send(a.signed_register(g, good)) == wire::kRegisterAckLen);
  Agent b;
  b.fields.cookie = cookie;
  b.fields.timestamp_us = a.fields.timestamp_us + 1;
  g.advance(1500ms);  // two rotations: too old
  CHECK(g.send(b.signed_register(g, good)) == 0);
  CHECK(g.registers(RegisterOutcome::kBadCookie) == 1);
  wire::CookieMsg m;
  REQUIRE(wire::parse_cookie(g.answer(g.send(cookie_request(9))), m) == wire::ParseStatus::kOk);
  CHECK(m.valid_ms == 1000);
  CHECK(m.gateway_id == wire::GatewayId{kGatewayId});
}

TEST_CASE("COOKIE answers are globally rate-limited and never larger than the request") {
  HandlerConfig c = handler_config();
  c.cookie_rate = {10, 5};
  Gateway g(c);
  std::size_t answered = 0;
  for (std::uint32_t i = 0; i < 20; ++i) {
    const Bytes req = cookie_request(i);
    const std::size_t n = g.send(req, net::Endpoint{0x0a000000u + i, 4000});
    CHECK(n <= req.size());
    answered += n != 0;
  }
  CHECK(answered == 5);
  CHECK(g.cookies(CookieOutcome::kRateLimited) == 15);
  g.advance(1000ms);
  CHECK(g.send(cookie_request(1)) == wire::kCookieReplyLen);
  Bytes bad = cookie_request(1);
  bad.pop_back();
  CHECK(g.send(bad) == 0);
  CHECK(g.cookies(CookieOutcome::kTruncated) == 1);
}

TEST_CASE("a spoofed flood with a genuine certificate never reaches the table or the verifier") {
  Gateway g;
  const auto good = g.pki.issue(crypto::Role::kProvider, 7, {1});
  Agent a;
  for (std::uint32_t i = 0; i < 5000; ++i) {
    const net::Endpoint spoofed{0x0b000000u + i, 5000};
    a.fields.router = spoofed;  // claims the spoofed source; has no cookie for it
    a.fields.cookie[0] = static_cast<std::byte>(i);
    CHECK(g.send(a.signed_register(g, good), spoofed) == 0);
  }
  CHECK(g.registers(RegisterOutcome::kBadCookie) == 5000);
  CHECK(g.handler.counters().tracked_sources == 0);
  CHECK(g.handler.counters().certificates.misses == 0);
}

TEST_CASE("the per-source table is capped and holds only sources that showed a cookie") {
  HandlerConfig c = handler_config();
  c.rate = {.per_second = 1, .burst = 1, .max_sources = 3};
  Gateway g(c);
  const auto good = g.pki.issue(crypto::Role::kProvider, 7, {1});
  for (std::uint32_t i = 0; i < 5; ++i) {
    Agent a;
    a.fields.router = net::Endpoint{0x0c000000u + i, 5000};
    CHECK(g.send(a.valid_register(g, good), a.fields.router) ==
          (i < 3 ? wire::kRegisterAckLen : 0u));
  }
  CHECK(g.handler.counters().tracked_sources == 3);
  CHECK(g.registers(RegisterOutcome::kRateLimited) == 2);
}

TEST_CASE(
    "the signature budget refuses a cookie-valid flood as overloaded; keepalives still pass") {
  HandlerConfig c = handler_config();
  c.signature_rate = {10, 10};
  c.rate.max_sources = 1000;
  Gateway g(c);
  const auto good = g.pki.issue(crypto::Role::kProvider, 7, {1});
  Agent legit;
  const std::size_t n = g.send(legit.valid_register(g, good));
  REQUIRE(n == wire::kRegisterAckLen);
  wire::RegisterAckMsg ack;
  REQUIRE(wire::parse_register_ack(g.answer(n), ack) == wire::ParseStatus::kOk);
  crypto::Digest shared{};
  REQUIRE(legit.agreement.derive(ack.session_key, shared));
  const auto k = spec_key("ipdmux-v2-session", shared, ack.session_id, legit.fields.timestamp_us);

  std::size_t deferred = 0;
  for (std::uint32_t i = 0; i < 100; ++i) {
    Agent a;
    a.fields.router = net::Endpoint{0x0d000000u + i, 5000};
    a.fields.cookie = g.cookie_for(a.fields.router);
    const Bytes msg = a.signed_register(g, good);
    deferred += g.handler.on_datagram(msg, a.fields.router, g.now, g.reply).deferred;
  }
  CHECK(deferred == 9);  // the budget's 10, less the legitimate REGISTER's token
  CHECK(g.registers(RegisterOutcome::kOverloaded) == 91);
  CHECK(g.handler.counters().certificates.misses == 1);  // the legitimate one only
  CHECK(g.send(keepalive(wire::MsgType::kKeepalive, ack.session_id, 1, k)) ==
        wire::kKeepaliveAckLen);
  CHECK(g.keepalives(KeepaliveOutcome::kAlive) == 1);
}

TEST_CASE("unknown-session hints are globally rate-limited") {
  HandlerConfig c = handler_config();
  c.hint_rate = {5, 3};
  Gateway g(c);
  crypto::Digest k{};
  std::size_t answered = 0;
  for (std::uint64_t i = 1; i <= 10; ++i) {
    answered += g.send(keepalive(wire::MsgType::kKeepalive, i, 1, k)) != 0;
  }
  CHECK(answered == 3);
  CHECK(g.keepalives(KeepaliveOutcome::kUnknownSession) == 3);
  CHECK(g.keepalives(KeepaliveOutcome::kRateLimited) == 7);
}

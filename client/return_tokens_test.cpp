#include "client/return_tokens.h"

#include <doctest/doctest.h>

#include <vector>

#include "client/test_support.h"
#include "common/wire/protocols.h"

namespace dmux::client {
namespace {

using namespace std::chrono_literals;

using testing::CountingNonces;

constexpr TokenProtocol kIpv6{.proto_id = wire::kProtoIpv6, .provider_id = 7};
constexpr TokenProtocol kMcast{.proto_id = wire::kProtoIpv4Multicast, .provider_id = 0};
constexpr std::uint32_t kClientIp = 0xc6120102;  // 198.18.1.2

wire::TokenOffer offer(std::uint64_t rt, std::uint16_t port = 40000, std::uint32_t refresh_s = 25) {
  return wire::TokenOffer{
      .return_token = rt, .client_ipv4 = kClientIp, .client_port = port, .refresh_s = refresh_s};
}

struct Fixture {
  Clock::time_point t0{};
  CountingNonces nonces;
  std::vector<TokenProtocol> protocols{kIpv6, kMcast};
  ReturnTokens tokens{ReturnTokensConfig{}, protocols, nonces, t0};
  std::vector<TokenRequest> due = std::vector<TokenRequest>(2);

  std::vector<TokenRequest> fire(Clock::time_point t) {
    const std::size_t n = tokens.on_timer(t, due);
    return {due.begin(), due.begin() + static_cast<std::ptrdiff_t>(n)};
  }
  bool answer(std::uint16_t proto, std::uint64_t nonce, const wire::TokenOffer& o,
              Clock::time_point t) {
    TokenUpdate u;
    return tokens.on_offer(proto, nonce, o, t, u);
  }
};

}  // namespace

TEST_CASE("a request per protocol at start, retried 1 s, 2 s, 4 s ... up to the refresh interval") {
  Fixture f;
  CHECK(f.tokens.next_deadline() == f.t0);
  auto first = f.fire(f.t0);
  REQUIRE(first.size() == 2);
  CHECK(first[0].proto_id == wire::kProtoIpv6);
  CHECK(first[0].provider_id == 7);
  CHECK(first[1].proto_id == wire::kProtoIpv4Multicast);
  CHECK(first[0].nonce != first[1].nonce);
  CHECK_FALSE(first[0].have_token);
  CHECK(f.fire(f.t0 + 999ms).empty());
  Clock::time_point t = f.t0;
  std::vector<std::chrono::milliseconds> gaps;
  for (int i = 0; i < 8; ++i) {
    const Clock::time_point next = f.tokens.next_deadline();
    gaps.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(next - t));
    t = next;
    const auto due = f.fire(t);
    REQUIRE(due.size() == 2);
    CHECK(due[0].unanswered == static_cast<std::uint32_t>(i + 2));
  }
  CHECK(gaps == std::vector<std::chrono::milliseconds>{1000ms, 2000ms, 4000ms, 8000ms, 16000ms,
                                                       25000ms, 25000ms, 25000ms});
  CHECK(f.tokens.counters().requests == 18);
  CHECK_FALSE(f.tokens.current(wire::kProtoIpv6));
}

TEST_CASE("an offer is accepted only for an outstanding nonce of its protocol, once") {
  Fixture f;
  const auto req = f.fire(f.t0);
  const std::uint64_t nonce = req[0].nonce;
  CHECK_FALSE(f.tokens.outstanding(wire::kProtoIpv6, nonce + 100));
  CHECK_FALSE(f.answer(wire::kProtoIpv6, nonce + 100, offer(0xaa), f.t0));   // wrong nonce
  CHECK_FALSE(f.answer(wire::kProtoIpv6, req[1].nonce, offer(0xaa), f.t0));  // other proto
  CHECK_FALSE(f.answer(0x8001, nonce, offer(0xaa), f.t0));                   // not ours
  CHECK_FALSE(f.answer(wire::kProtoIpv6, 0, offer(0xaa), f.t0));             // free slot
  CHECK_FALSE(f.tokens.current(wire::kProtoIpv6));
  CHECK(f.tokens.outstanding(wire::kProtoIpv6, nonce));
  TokenUpdate u;
  REQUIRE(f.tokens.on_offer(wire::kProtoIpv6, nonce, offer(0xaa), f.t0 + 10ms, u));
  CHECK(u.token_changed);
  CHECK_FALSE(u.binding_moved);
  CHECK(u.binding == Binding{kClientIp, 40000});
  CHECK(f.tokens.current(wire::kProtoIpv6) == 0xaa);
  CHECK_FALSE(f.tokens.current(wire::kProtoIpv4Multicast));
  CHECK_FALSE(f.tokens.outstanding(wire::kProtoIpv6, nonce));  // spent: a replay is refused
  CHECK_FALSE(f.answer(wire::kProtoIpv6, nonce, offer(0xbb), f.t0 + 20ms));
  CHECK(f.tokens.current(wire::kProtoIpv6) == 0xaa);
  CHECK(f.tokens.counters().offers == 1);
}

TEST_CASE("only the last 4 nonces are kept; answering one spends the older ones") {
  Fixture f;
  std::vector<std::uint64_t> nonces;
  Clock::time_point t = f.t0;
  for (int i = 0; i < 5; ++i) {
    nonces.push_back(f.fire(t)[0].nonce);
    t = f.tokens.next_deadline();
  }
  CHECK_FALSE(f.tokens.outstanding(wire::kProtoIpv6, nonces[0]));  // the 5th request pushed it out
  for (int i = 1; i < 5; ++i) CHECK(f.tokens.outstanding(wire::kProtoIpv6, nonces[i]));
  CHECK(f.answer(wire::kProtoIpv6, nonces[3], offer(0xaa), t));
  CHECK_FALSE(f.tokens.outstanding(wire::kProtoIpv6, nonces[1]));  // older than the answered one
  CHECK_FALSE(f.tokens.outstanding(wire::kProtoIpv6, nonces[2]));
  CHECK(f.tokens.outstanding(wire::kProtoIpv6, nonces[4]));  // newer: its answer is still welcome
  CHECK_FALSE(f.answer(wire::kProtoIpv6, nonces[2], offer(0xcc, 1), t));
}

TEST_CASE("the previous token is accepted until the next refresh, never one older") {
  Fixture f;
  // Refreshes ipv6 at `t` (ipv4-multicast, never answered, may be due too) and answers with rt.
  auto answer_next = [&](std::uint64_t rt, Clock::time_point t) {
    const auto due = f.fire(t);
    REQUIRE(!due.empty());
    REQUIRE(due[0].proto_id == wire::kProtoIpv6);
    TokenUpdate u;
    REQUIRE(f.tokens.on_offer(wire::kProtoIpv6, due[0].nonce, offer(rt), t, u));
    return u;
  };
  CHECK(answer_next(0xaa, f.t0).token_changed);
  CHECK(f.tokens.accepts(wire::kProtoIpv6, 0xaa));
  CHECK_FALSE(f.tokens.accepts(wire::kProtoIpv6, 0));  // no previous yet: 0 is not a token
  CHECK_FALSE(f.tokens.accepts(wire::kProtoIpv4Multicast, 0xaa));
  CHECK(f.tokens.state(0).refresh == 25s);  // refresh_s
  CHECK(answer_next(0xbb, f.t0 + 25s).token_changed);
  CHECK(f.tokens.current(wire::kProtoIpv6) == 0xbb);
  CHECK(f.tokens.accepts(wire::kProtoIpv6, 0xbb));
  CHECK(f.tokens.accepts(wire::kProtoIpv6, 0xaa));           // replaced, still in flight
  CHECK_FALSE(answer_next(0xbb, f.t0 + 50s).token_changed);  // the refresh confirms 0xbb
  CHECK_FALSE(f.tokens.accepts(wire::kProtoIpv6, 0xaa));     // stale now
  CHECK(answer_next(0xcc, f.t0 + 75s).token_changed);
  CHECK(answer_next(0xdd, f.t0 + 100s).token_changed);
  CHECK_FALSE(f.tokens.accepts(wire::kProtoIpv6, 0xbb));
  CHECK(f.tokens.accepts(wire::kProtoIpv6, 0xcc));
  CHECK(f.tokens.accepts(wire::kProtoIpv6, 0xdd));
}

TEST_CASE("refresh_s is obeyed within bounds; an answer ends the back-off") {
  Fixture f;
  auto due = f.fire(f.t0);
  f.fire(f.tokens.next_deadline());  // one retry unanswered
  due = f.fire(f.tokens.next_deadline());
  REQUIRE(f.answer(wire::kProtoIpv6, due[0].nonce, offer(1, 40000, 0), f.t0 + 3s));
  CHECK(f.tokens.state(0).refresh == 1000ms);  // 0 would be a busy loop: at least the retry
  CHECK(f.tokens.state(0).unanswered == 0);
  CHECK(f.tokens.state(0).have_token);
  due = f.fire(f.t0 + 4s);
  REQUIRE(due.size() == 1);  // ipv6 only; ipv4-multicast is still backing off
  CHECK(due[0].have_token);
  CHECK(due[0].unanswered == 1);
  REQUIRE(f.answer(wire::kProtoIpv6, due[0].nonce, offer(1, 40000, 100000), f.t0 + 4s));
  CHECK(f.tokens.state(0).refresh == 300s);  // capped
}

TEST_CASE("a moved binding makes every other protocol ask again at once") {
  Fixture f;
  auto due = f.fire(f.t0);
  REQUIRE(f.answer(wire::kProtoIpv6, due[0].nonce, offer(0xaa, 40000), f.t0));
  REQUIRE(f.answer(wire::kProtoIpv4Multicast, due[1].nonce, offer(0xbb, 40000), f.t0));
  CHECK(f.tokens.next_deadline() == f.t0 + 25s);
  const Clock::time_point t = f.t0 + 25s;
  due = f.fire(t);
  REQUIRE(due.size() == 2);
  TokenUpdate u;
  REQUIRE(f.tokens.on_offer(wire::kProtoIpv4Multicast, due[1].nonce, offer(0xcc, 40001), t, u));
  CHECK(u.binding_moved);
  CHECK(u.token_changed);
  CHECK(f.tokens.binding() == Binding{kClientIp, 40001});
  CHECK(f.tokens.counters().binding_changes == 1);
  CHECK(f.tokens.next_deadline() == t);  // ipv6 asks again now instead of after its back-off
  const auto again = f.fire(t);
  REQUIRE(again.size() == 1);
  CHECK(again[0].proto_id == wire::kProtoIpv6);
  f.tokens.request_all(t + 1s);
  CHECK(f.tokens.next_deadline() == t + 1s);
}

TEST_CASE("no nonce to be had: the request waits for the first retry, never sends 0") {
  Fixture f;
  f.nonces.zeros = 1;
  auto due = f.fire(f.t0);
  REQUIRE(due.size() == 1);
  CHECK(due[0].proto_id == wire::kProtoIpv4Multicast);
  CHECK(due[0].nonce != 0);
  due = f.fire(f.t0 + 1s);
  REQUIRE(due.size() == 2);
  CHECK(due[0].proto_id == wire::kProtoIpv6);
  CHECK(due[0].unanswered == 1);
}

}  // namespace dmux::client

// Cost of registration work at a gateway, against references measured in the same run:
//   REGISTER (certificate cached / not cached) vs one raw Ed25519 verification,
//   KEEPALIVE vs one raw HMAC-SHA256,
//   what a flood costs: a spoofed REGISTER (turned away by the cookie) and a COOKIE_REQUEST.
// Single-threaded, in-process: the handler exactly as dmuxd runs it, minus the socket (flood.py
// measures the socket too, against a real dmuxd).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/crypto/crypto.h"
#include "common/wire/registration.h"
#include "registry/registration_handler.h"
#include "tests/registration_spec.h"

using namespace dmux;
using namespace dmux::registry;
using Clock = std::chrono::steady_clock;

namespace {

double us_per(Clock::duration d, std::size_t n) {
  return std::chrono::duration<double, std::micro>(d).count() / static_cast<double>(n);
}

struct Setup {
  crypto::SigningKey ca_key = crypto::SigningKey::generate();
  crypto::Certificate ca = crypto::make_ca(ca_key, "bench CA", 10);
  crypto::SigningKey key = crypto::SigningKey::generate();
  std::vector<crypto::Certificate> certs;

  explicit Setup(std::size_t n_certs) {
    for (std::size_t i = 0; i < n_certs; ++i) {
      crypto::IssueRequest req;
      req.info.role = crypto::Role::kProvider;
      req.info.provider_id = 7;
      req.info.protocols = {1};
      req.info.common_name = "provider-" + std::to_string(i);
      req.subject_key = key.public_key();
      certs.push_back(crypto::issue(ca, ca_key, req));
    }
  }
};

net::Endpoint router(std::size_t i) {
  return net::Endpoint{0x0a000000u + static_cast<std::uint32_t>(i), 5000};
}

struct Gateway {
  Now now = util::SystemClock::read();  // first: the handler's constructor reads it
  crypto::CertVerifier verifier;
  RouterRegistry registry;
  RegistrationHandler handler;
  std::array<std::byte, 256> reply{};

  Gateway(const Setup& s, std::size_t n)
      : verifier(s.ca, 2 * n + 16),
        registry([n] {
          RegistryConfig rc;
          rc.max_routers = 10 * n;
          rc.max_routers_per_provider = 10 * n;
          return rc;
        }()),
        handler(
            [n] {
              HandlerConfig hc;
              hc.gateway_id = wire::GatewayId{1};
              hc.rate = {.per_second = 1e9, .burst = 1e9, .max_sources = 4 * n};
              hc.signature_rate = hc.cookie_rate = hc.hint_rate = {1e9, 1e9};
              return hc;
            }(),
            verifier, registry, now.mono) {}

  wire::CookieBytes cookie(const net::Endpoint& from) {
    std::array<std::byte, wire::kCookieRequestLen> req{};
    wire::write_cookie_request(req, {1});
    wire::CookieMsg c;
    wire::parse_cookie(std::span(reply).first(handler.handle(req, from, now, reply)), c);
    return c.cookie;
  }
};

std::vector<std::byte> make_register(const crypto::Certificate& cert, const crypto::SigningKey& key,
                                     const net::Endpoint& from, const wire::CookieBytes& cookie,
                                     std::uint64_t ts) {
  crypto::KeyAgreement ka;
  const auto der = cert.der();
  wire::RegisterMsg m;
  m.proto_id = wire::ProtoId{1};
  m.router_port = from.port;
  m.provider_id = wire::ProviderId{7};
  m.router_ipv4 = from.addr;
  m.gateway_id = wire::GatewayId{1};
  m.timestamp_us = ts;
  m.cookie = cookie;
  m.session_key = ka.public_key();
  m.rtt_us = 850;
  m.certificate = der;
  return testing::signed_register(m, key);
}

// Registers every message; returns the session ids, or an empty vector if one was refused.
std::vector<std::uint64_t> register_all(Gateway& g,
                                        const std::vector<std::vector<std::byte>>& msgs) {
  std::vector<std::uint64_t> sessions;
  for (std::size_t i = 0; i < msgs.size(); ++i) {
    const std::size_t n = g.handler.handle(msgs[i], router(i), g.now, g.reply);
    wire::RegisterAckMsg ack;
    if (n != wire::kRegisterAckLen ||
        wire::parse_register_ack(std::span(g.reply).first(n), ack) != wire::ParseStatus::kOk ||
        ack.result != wire::RegisterResult::kAccepted) {
      return {};
    }
    sessions.push_back(ack.session_id);
  }
  return sessions;
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t n = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 2000;
  Setup setup(n);
  Gateway g(setup, n);
  const auto ts = static_cast<std::uint64_t>(g.now.unix_us);

  // Pre-build messages so only the gateway's work is timed.
  std::vector<std::vector<std::byte>> cold, warm, spoofed;
  for (std::size_t i = 0; i < n; ++i) {
    const auto cookie = g.cookie(router(i));
    cold.push_back(make_register(setup.certs[i], setup.key, router(i), cookie, ts));
    warm.push_back(make_register(setup.certs[i], setup.key, router(i), cookie, ts + 1));
    spoofed.push_back(make_register(setup.certs[i], setup.key, router(n + i), {}, ts));
  }

  auto t0 = Clock::now();
  if (register_all(g, cold).size() != n) {
    std::fprintf(stderr, "bench: a REGISTER was refused\n");
    return 1;
  }
  const double cold_us = us_per(Clock::now() - t0, n);
  t0 = Clock::now();
  const std::vector<std::uint64_t> sessions = register_all(g, warm);
  const double warm_us = us_per(Clock::now() - t0, n);
  if (sessions.size() != n) {
    std::fprintf(stderr, "bench: a cached REGISTER was refused\n");
    return 1;
  }

  // Keepalives: the gateway's key is not visible here, so measure the path up to the MAC check
  // with a wrong MAC (identical work: lookup + HMAC + constant-time compare), counted as bad_mac.
  std::vector<std::array<std::byte, wire::kKeepaliveLen>> kas(n);
  for (std::size_t i = 0; i < n; ++i) {
    wire::write_keepalive(kas[i], wire::MsgType::kKeepalive, {sessions[i], 1, 0, {}});
  }
  const std::size_t rounds = 20;
  t0 = Clock::now();
  for (std::size_t r = 0; r < rounds; ++r) {
    for (auto& k : kas) g.handler.handle(k, router(0), g.now, g.reply);
  }
  const double ka_us = us_per(Clock::now() - t0, n * rounds);

  // What a flood costs: spoofed REGISTERs (no cookie for their source) and COOKIE_REQUESTs.
  t0 = Clock::now();
  for (std::size_t r = 0; r < rounds; ++r) {
    for (std::size_t i = 0; i < n; ++i) g.handler.handle(spoofed[i], router(n + i), g.now, g.reply);
  }
  const double spoofed_us = us_per(Clock::now() - t0, n * rounds);
  std::array<std::byte, wire::kCookieRequestLen> creq{};
  wire::write_cookie_request(creq, {42});
  t0 = Clock::now();
  for (std::size_t i = 0; i < n * rounds; ++i)
    g.handler.handle(creq, router(i % n), g.now, g.reply);
  const double cookie_us = us_per(Clock::now() - t0, n * rounds);
  const auto c = g.handler.counters();
  if (c.registers[static_cast<std::size_t>(RegisterOutcome::kBadCookie)] != n * rounds ||
      c.certificates.misses != n) {
    std::fprintf(stderr, "bench: the spoofed REGISTERs were not all refused by the cookie\n");
    return 1;
  }

  // References.
  const auto msg = std::span(cold[0]).first(100);
  const auto sig = setup.key.sign(msg);
  const auto pub = setup.key.public_key();
  t0 = Clock::now();
  std::size_t ok = 0;
  for (std::size_t i = 0; i < n; ++i) ok += crypto::verify_signature(pub, msg, sig) ? 1 : 0;
  const double ed_us = us_per(Clock::now() - t0, n);
  crypto::Digest key{};
  t0 = Clock::now();
  std::uint8_t sink = 0;
  for (std::size_t i = 0; i < n * rounds; ++i) {
    sink ^=
        std::to_integer<std::uint8_t>(crypto::hmac_sha256(key, std::span(kas[i % n]).first(20))[0]);
  }
  const double hmac_us = us_per(Clock::now() - t0, n * rounds);

  std::printf("registration cost at the gateway (%zu routers, one thread)\n", n);
  std::printf("  %-44s %8.1f us   (%.2fx one Ed25519 verify)\n",
              "REGISTER, certificate not yet cached", cold_us, cold_us / ed_us);
  std::printf("  %-44s %8.1f us   (%.2fx one Ed25519 verify)\n", "REGISTER, certificate cached",
              warm_us, warm_us / ed_us);
  std::printf("  %-44s %8.2f us   (%.2fx one HMAC-SHA256)\n", "KEEPALIVE", ka_us, ka_us / hmac_us);
  std::printf("  %-44s %8.2f us   (%.3fx one Ed25519 verify)\n",
              "spoofed REGISTER (refused by the cookie)", spoofed_us, spoofed_us / ed_us);
  std::printf("  %-44s %8.2f us\n", "COOKIE_REQUEST answered", cookie_us);
  std::printf("  reference: Ed25519 verify %.1f us, HMAC-SHA256 %.2f us\n", ed_us, hmac_us);
  std::printf(
      "{\"register_cold_us\":%.2f,\"register_cached_us\":%.2f,\"keepalive_us\":%.3f,"
      "\"spoofed_register_us\":%.3f,\"cookie_request_us\":%.3f,\"ed25519_verify_us\":%.2f,"
      "\"hmac_us\":%.3f,\"checks\":%zu,\"x\":%u}\n",
      cold_us, warm_us, ka_us, spoofed_us, cookie_us, ed_us, hmac_us, ok, sink);
  return ok == n ? 0 : 1;
}

// libFuzzer target: arbitrary bytes at a gateway's registration endpoint. Each input is offered
// to the handler as a datagram from a fixed source (the cheap checks, COOKIE and KEEPALIVE paths),
// then straight to finish_register (the certificate, signature and admission path a REGISTER
// with a valid cookie reaches), then as a KEEPALIVE of the session a genuine registration made.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "common/crypto/crypto.h"
#include "registry/registration_handler.h"

namespace {

using namespace dmux;

struct Gateway {
  crypto::SigningKey ca_key = crypto::SigningKey::generate();
  crypto::Certificate ca = crypto::make_ca(ca_key, "fuzz CA", 10);
  crypto::CertVerifier verifier{ca, 64};
  registry::RouterRegistry registry{registry::RegistryConfig{}};
  registry::HandlerConfig config = [] {
    registry::HandlerConfig c;
    c.gateway_id = wire::GatewayId{0xc6120001u};
    c.rate = {.per_second = 1e9, .burst = 1e9, .max_sources = 64};
    c.signature_rate = {1e9, 1e9};
    c.cookie_rate = {1e9, 1e9};
    c.hint_rate = {1e9, 1e9};
    return c;
  }();
  registry::RegistrationHandler handler{config, verifier, registry};
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Gateway g;
  const auto bytes = std::as_bytes(std::span(data, size));
  const registry::Now now = dmux::util::SystemClock::read();
  const net::Endpoint from{0xc6120202u, 5000};
  std::array<std::byte, 256> reply{};
  const auto r = g.handler.on_datagram(bytes, from, now, reply);
  if (r.reply > reply.size()) __builtin_trap();
  if (r.deferred) (void)g.handler.finish_register(bytes, from, now, reply);
  if (g.handler.finish_register(bytes, from, now, reply) > reply.size()) __builtin_trap();
  return 0;
}

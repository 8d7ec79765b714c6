// libFuzzer target: arbitrary datagrams at a router agent's front (TunnelReceiver and Ingress).
// The first input byte steers: bit 0 reseals the rest as a TUNNEL under a key the receiver holds
// (so fuzzed headers and control messages get past the tag into the window and the offers),
// bit 1 sets the token to the client's rt, bit 2 installs or retires a registration key named by
// the next bytes, bits 4-7 advance the clock.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "agent/ingress.h"
#include "agent/test_gateway.h"
#include "common/util/log.h"

namespace {

using namespace dmux;

agent::IngressConfig config() {
  agent::IngressConfig c;
  c.proto_id = wire::ProtoId{1};
  c.provider_id = wire::ProviderId{7};
  c.receiver.max_keys = 4;
  c.receiver.max_windows = 8;
  c.receiver.retired_key_hold = std::chrono::seconds(2);
  c.allowed_destinations = {*net::parse_ipv4_prefix("198.18.0.0/15")};
  return c;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool quiet = (log::set_level(log::Level::kError), true);
  (void)quiet;
  static agent::Ingress ingress(config(), crypto::ReturnKey{}, agent::test::vector_key());
  static agent::test::TestGateway gateway(agent::test::vector_key(), 0);
  static agent::MonoTime now = agent::MonoTime(std::chrono::hours(1));
  if (size == 0) return 0;
  const std::uint8_t steer = data[0];
  now += std::chrono::milliseconds(250) * (steer >> 4);
  std::vector<std::byte> d(reinterpret_cast<const std::byte*>(data + 1),
                           reinterpret_cast<const std::byte*>(data + size));
  if ((steer & 4) != 0 && d.size() >= 4) {
    const std::uint32_t key_id =
        (std::to_integer<std::uint32_t>(d[0]) << 8) | std::to_integer<std::uint32_t>(d[1]);
    if ((steer & 8) != 0) {
      ingress.key_sink().on_tunnel_key_retired(key_id, now);
    } else {
      ingress.key_sink().on_tunnel_key(wire::ProtoId{1}, key_id, agent::test::vector_key(), now);
    }
  }
  if ((steer & 2) != 0) agent::test::prove(d, ingress.tokens(), wire::ProtoId{1});
  if ((steer & 1) != 0) gateway.reseal(d);
  wire::TunnelHeader h;
  std::span<const std::byte> payload;
  agent::Reply reply;
  (void)ingress.on_datagram(d, net::Endpoint{0xc6120001, 4500}, now, h, payload, reply);
  if (reply.size > agent::Reply::kCapacity) __builtin_trap();
  ingress.expire(now);
  return 0;
}

// libFuzzer target: arbitrary bytes offered to the agent's data path both as a TUNNEL datagram from
// the network and as a packet from the TUN device. The first byte steers: bit 0 reseals the rest
// under the static key (so fuzzed headers and packets get past the tag), bit 1 gives it its
// client's rt as token (a proven client: RS answers and de-tunnelling).
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "agent/test_gateway.h"
#include "common/util/log.h"
#include "common/wire/protocols.h"
#include "provider/packet_path.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace dmux;
  using namespace dmux::provider;
  static const bool quiet = (log::set_level(log::Level::kError), true);
  (void)quiet;
  static PacketPath path(
      PacketPathConfig{.client_prefix = *parse_client_prefix("2001:db8:7::/48"),
                       .provider_id = dmux::wire::ProviderId{7},
                       .ingress =
                           agent::IngressConfig{
                               .allowed_destinations = {*net::parse_ipv4_prefix("198.18.0.0/15")}}},
      crypto::ReturnKey{}, agent::test::vector_key());
  static agent::test::TestGateway gateway(agent::test::vector_key(), 0);
  static const agent::MonoTime now = agent::MonoTime(std::chrono::hours(1));
  if (size == 0) return 0;
  std::vector<std::byte> d(reinterpret_cast<const std::byte*>(data + 1),
                           reinterpret_cast<const std::byte*>(data + size));
  if ((data[0] & 2) != 0)
    agent::test::prove(d, path.ingress().tokens(), wire::ProtoId{wire::kProtoIpv6});
  if ((data[0] & 1) != 0) gateway.reseal(d);
  agent::Reply reply;
  (void)path.on_tunnel(d, net::Endpoint{0xc6120001, 4500}, now, reply);
  std::array<std::byte, wire::kReturnHeaderLen> header{};
  net::Endpoint client;
  (void)path.on_tun_packet(d, header, client);
  return 0;
}

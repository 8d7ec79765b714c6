// libFuzzer target: arbitrary bytes offered to the agent's data path both as a TUNNEL datagram from
// the network and as a packet from the TUN device.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "provider/packet_path.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace dmux::provider;
  static PacketPath path(PacketPathConfig{*parse_client_prefix("2001:db8:7::/48"), 7});
  const auto bytes = std::as_bytes(std::span(data, size));
  (void)path.on_tunnel(bytes);
  std::array<std::byte, dmux::wire::kReturnHeaderLen> header{};
  dmux::net::Endpoint client;
  (void)path.on_tun_packet(bytes, header, client);
  return 0;
}

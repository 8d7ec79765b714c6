// libFuzzer target: arbitrary datagrams on dmux-mcast's listen socket, as TUNNEL and as peer
// messages. The first input byte steers: bit 0 makes it a TUNNEL (else a peer message, sealed
// with the peer key so that the summary and group-data parsers are reached); for a TUNNEL, bit 1
// gives it its client's rt (a proven client) and bit 2 reseals it under the static tunnel key, so
// that fuzzed IGMP and group data get past the tag and the proof.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "agent/test_gateway.h"
#include "common/util/log.h"
#include "common/wire/protocols.h"
#include "multicast/mcast_router.h"

namespace {

struct NullTransport : dmux::multicast::Transport {
  bool send_return(const dmux::multicast::Member&, std::span<const std::byte>,
                   std::span<const std::byte>) noexcept override {
    return true;
  }
  bool send_peer(const dmux::net::Endpoint&, std::span<const std::byte>) noexcept override {
    return true;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace dmux;
  using namespace dmux::multicast;
  static const bool quiet = (log::set_level(log::Level::kError), true);
  (void)quiet;
  static NullTransport transport;
  static const PeerKey key{};
  static const Now now{MonoTime(std::chrono::hours(1)), 1'700'000'000'000'000};
  static const RouterConfig config = [] {
    RouterConfig c;
    c.self = {0xc6120202, 5000};
    c.provider_id = dmux::wire::ProviderId{7};
    c.peers = {{0xc6120302, 5000}};
    c.ingress.allowed_destinations = {*net::parse_ipv4_prefix("198.18.0.0/15")};
    return c;
  }();
  static McastRouter router(config, key, crypto::ReturnKey{}, agent::test::vector_key(), transport,
                            now);
  static agent::test::TestGateway gateway(agent::test::vector_key(), 0);
  if (size == 0) return 0;
  std::vector<std::byte> msg(reinterpret_cast<const std::byte*>(data + 1),
                             reinterpret_cast<const std::byte*>(data + size));
  if (data[0] & 1) {
    if (data[0] & 2)
      agent::test::prove(msg, router.ingress().tokens(), wire::ProtoId{wire::kProtoIpv4Multicast});
    if (data[0] & 4) gateway.reseal(msg);
    router.on_tunnel(msg, net::Endpoint{0xc6120001, 4500}, now);
  } else {
    msg.resize(msg.size() + kPeerMacLen);
    if (msg.size() > kPeerMacLen) seal(msg, msg.size() - kPeerMacLen, key);
    router.on_peer_message(msg, now);
  }
  router.on_timer(now);
  return 0;
}

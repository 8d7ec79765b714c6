// libFuzzer target: arbitrary datagrams on dmux-mcast's listen socket, as TUNNEL and as peer
// messages (the MAC check fails for random bytes, so the first byte of the input optionally turns
// it into a correctly sealed peer message to reach the summary and group-data parsers).
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "multicast/mcast_router.h"

namespace {

struct NullTransport : dmux::mcast::Transport {
  bool send_return(const dmux::mcast::Member&, std::span<const std::byte>,
                   std::span<const std::byte>) noexcept override {
    return true;
  }
  bool send_peer(const dmux::net::Endpoint&, std::span<const std::byte>) noexcept override {
    return true;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace dmux::mcast;
  static NullTransport transport;
  static const PeerKey key{};
  static const Now now{MonoTime(std::chrono::hours(1)), 1'700'000'000'000'000};
  static const RouterConfig config = [] {
    RouterConfig c;
    c.self = {0xc6120202, 5000};
    c.provider_id = 7;
    c.peers = {{0xc6120302, 5000}};
    return c;
  }();
  static McastRouter router(config, key, transport, now);
  if (size == 0) return 0;
  const std::span<const std::byte> in(reinterpret_cast<const std::byte*>(data + 1), size - 1);
  if (data[0] & 1) {
    router.on_tunnel(in, now);
  } else {
    std::vector<std::byte> msg(in.begin(), in.end());
    msg.resize(msg.size() + kPeerMacLen);
    if (msg.size() > kPeerMacLen) seal(msg, msg.size() - kPeerMacLen, key);
    router.on_peer_message(msg, now);
  }
  router.on_timer(now);
  return 0;
}

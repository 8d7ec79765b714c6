// libFuzzer target fuzz_sdk_peer_channel: everything a peer router (or anyone) sends to a router's
// socket with type 34. The first byte chooses: even, the input as it is; odd, the input resealed
// under the channel's key with a fresh sequence, so that fuzzed payloads and headers get past the
// MAC. The clock moves by the second byte.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "sdk/peer_channel.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace dmux::sdk;
  static const PeerKey key = derive_peer_key(std::as_bytes(std::span("fuzz-peer-secret-0123")));
  static const dmux::net::Endpoint a{0xc6120202, 5000}, b{0xc6120302, 5000};
  static PeerChannel sender(PeerChannelConfig{.self = a,
                                              .proto_id = dmux::wire::ProtoId{0x8001},
                                              .provider_id = dmux::wire::ProviderId{7},
                                              .peers = {b},
                                              .dead_after = {},
                                              .max_clock_skew = {}},
                            key, 1);
  static PeerChannel receiver(PeerChannelConfig{.self = b,
                                                .proto_id = dmux::wire::ProtoId{0x8001},
                                                .provider_id = dmux::wire::ProviderId{7},
                                                .peers = {a},
                                                .dead_after = {},
                                                .max_clock_skew = {}},
                              key, 1);
  static MonoTime now{};
  static std::vector<std::byte> buf(kMaxPeerMessage);
  if (size < 2) return 0;
  now += std::chrono::milliseconds(data[1] * 10);
  std::span<const std::byte> input = std::as_bytes(std::span(data + 2, size - 2));
  if ((data[0] & 1) != 0) {
    const std::size_t n = sender.seal(buf, input.first(std::min(input.size(), kMaxPeerPayload)), 1);
    input = std::span<const std::byte>(buf).first(n);
  }
  dmux::net::Endpoint from;
  std::span<const std::byte> payload;
  bool up = false;
  receiver.open(input, now, 1, from, payload, up);
  receiver.expire(now, [](const PeerInfo&) {});
  return 0;
}

// libFuzzer target fuzz_rendezvous: the rendezvous router's two untrusted inputs. The first byte
// chooses: even, a client payload (INSERT, REMOVE, SEND...); odd, a peer router's TRIGGERS
// update. Time moves by the second byte, so expiry and refreshes interleave with the input.
#include <cstddef>
#include <cstdint>
#include <span>

#include "rv_router.h"

namespace {

struct NullOutput final : rendezvous::Output {
  bool to_client(const ipdmux::sdk::Client&, std::span<const std::byte>) noexcept override {
    return true;
  }
  void to_peers(std::span<const std::byte>) noexcept override {}
  void to_peer(const ipdmux::sdk::Client&, std::span<const std::byte>) noexcept override {}
  std::uint64_t rt(const ipdmux::sdk::Client& c) const noexcept override {
    return std::uint64_t{c.ipv4} * 31 + c.port;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static NullOutput out;
  static rendezvous::RendezvousRouter rv(rendezvous::TriggerLimits{.max_triggers = 1024}, out);
  static rendezvous::MonoTime now{};
  if (size < 2) return 0;
  now += std::chrono::milliseconds(data[1] * 100);
  const auto payload = std::as_bytes(std::span(data + 2, size - 2));
  const ipdmux::sdk::Client client{0xc6120b02u + (data[0] >> 4), 40000};
  if ((data[0] & 1) == 0) {
    rv.on_client(ipdmux::sdk::Packet{.client = client, .token = out.rt(client), .payload = payload},
                 now);
  } else {
    rv.on_peer(ipdmux::sdk::PeerMessage{.from = {1, 1}, .payload = payload}, now);
  }
  rv.expire(now);
  return 0;
}

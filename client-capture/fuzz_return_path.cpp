// libFuzzer target: RETURN datagrams (and the RAs inside) as they arrive from the network.
#include <cstddef>
#include <cstdint>

#include "client-capture/capture_path.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace dmux::client;
  static CapturePath path(CapturePathConfig{.selectors = {Selector{.kind = Selector::Kind::kIpv6, .proto_id = 1}}, .first_queue = 0,
                                            .max_packet = 1400},
                          0);
  std::span<const std::byte> packet;
  Offer offer;
  (void)path.on_return(std::span(reinterpret_cast<const std::byte*>(data), size), packet, offer);
  return 0;
}

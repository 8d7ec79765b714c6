#include "provider/counters.h"

namespace dmux::provider {

std::string_view to_string(Drop d) noexcept {
  switch (d) {
    case Drop::kBadPacket:
      return "bad_packet";
    case Drop::kSpoofedSource:
      return "spoofed_source";
    case Drop::kTunWriteFailed:
      return "tun_write_failed";
    case Drop::kTunBadPacket:
      return "tun_bad_packet";
    case Drop::kMulticast:
      return "multicast";
    case Drop::kOutsideClientPrefix:
      return "outside_client_prefix";
    case Drop::kSendFailed:
      return "send_failed";
    case Drop::kCount_:
      break;
  }
  return "unknown";
}

}  // namespace dmux::provider

#include "multicast/counters.h"

namespace dmux::multicast {

std::string_view to_string(Drop d) noexcept {
  switch (d) {
    case Drop::kBadPacket:
      return "bad_packet";
    case Drop::kNotMulticast:
      return "not_multicast";
    case Drop::kBadIgmp:
      return "bad_igmp";
    case Drop::kLinkLocalGroup:
      return "link_local_group";
    case Drop::kSendFailed:
      return "send_failed";
    case Drop::kPeerTruncated:
      return "peer_truncated";
    case Drop::kPeerMalformed:
      return "peer_malformed";
    case Drop::kPeerUnsupportedVersion:
      return "peer_unsupported_version";
    case Drop::kPeerUnknown:
      return "peer_unknown";
    case Drop::kPeerWrongProvider:
      return "peer_wrong_provider";
    case Drop::kPeerBadMac:
      return "peer_bad_mac";
    case Drop::kPeerStale:
      return "peer_stale";
    case Drop::kPeerReplayed:
      return "peer_replayed";
    case Drop::kPeerBadPacket:
      return "peer_bad_packet";
    case Drop::kCount_:
      break;
  }
  return "unknown";
}

}  // namespace dmux::multicast

#include "client/counters.h"

namespace dmux::client {

std::string_view to_string(Drop d) noexcept {
  switch (d) {
    case Drop::kUnselected:
      return "unselected";
    case Drop::kNoToken:
      return "no_token";
    case Drop::kNoAddress:
      return "no_address";
    case Drop::kStaleSource:
      return "stale_source";
    case Drop::kOversize:
      return "oversize";
    case Drop::kBadPacket:
      return "bad_packet";
    case Drop::kSendFailed:
      return "send_failed";
    case Drop::kTruncated:
      return "truncated";
    case Drop::kMalformed:
      return "malformed";
    case Drop::kUnsupportedVersion:
      return "unsupported_version";
    case Drop::kUnexpectedType:
      return "unexpected_type";
    case Drop::kBadToken:
      return "bad_token";
    case Drop::kBadOffer:
      return "bad_offer";
    case Drop::kUnknownProtocol:
      return "unknown_protocol";
    case Drop::kBadReturnPacket:
      return "bad_return_packet";
    case Drop::kNotForUs:
      return "not_for_us";
    case Drop::kBadAdvert:
      return "bad_advert";
    case Drop::kTunWriteFailed:
      return "tun_write_failed";
    case Drop::kCount_:
      break;
  }
  return "unknown";
}

}  // namespace dmux::client

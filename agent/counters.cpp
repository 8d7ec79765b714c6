#include "agent/counters.h"

namespace dmux::agent {

std::string_view to_string(TunnelDrop d) noexcept {
  switch (d) {
    case TunnelDrop::kTruncated:
      return "truncated";
    case TunnelDrop::kMalformed:
      return "malformed";
    case TunnelDrop::kUnsupportedVersion:
      return "unsupported_version";
    case TunnelDrop::kUnexpectedType:
      return "unexpected_type";
    case TunnelDrop::kUnknownKey:
      return "unknown_key";
    case TunnelDrop::kReplayed:
      return "replayed";
    case TunnelDrop::kBadTag:
      return "bad_tag";
    case TunnelDrop::kCount_:
      break;
  }
  return "unknown";
}

std::string_view to_string(IngressDrop d) noexcept {
  switch (d) {
    case IngressDrop::kUnsupportedProtocol:
      return "unsupported_protocol";
    case IngressDrop::kWrongProvider:
      return "wrong_provider";
    case IngressDrop::kUnknownControl:
      return "unknown_control";
    case IngressDrop::kBadControl:
      return "bad_control";
    case IngressDrop::kRateLimited:
      return "rate_limited";
    case IngressDrop::kForbiddenDestination:
      return "forbidden_destination";
    case IngressDrop::kUnproven:
      return "unproven";
    case IngressDrop::kCount_:
      break;
  }
  return "unknown";
}

}  // namespace dmux::agent

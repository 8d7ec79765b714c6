#include "tools/ca/render.h"

#include <sstream>

#include "common/net/endpoint.h"
#include "common/wire/protocols.h"

namespace dmux::ca {

std::string format_time(std::time_t t) {
  std::tm tm{};
  char buf[64];
  if (::gmtime_r(&t, &tm) == nullptr ||
      std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0) {
    return std::to_string(t);
  }
  return buf;
}

std::string fingerprint(std::span<const std::byte> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s = "SHA256:";
  for (const std::byte b : crypto::sha256(bytes)) {
    s += kDigits[static_cast<unsigned>(b) >> 4];
    s += kDigits[static_cast<unsigned>(b) & 0xf];
  }
  return s;
}

const char* role_name(crypto::Role role) {
  switch (role) {
    case crypto::Role::kCa:
      return "ca";
    case crypto::Role::kProvider:
      return "provider";
    case crypto::Role::kGateway:
      return "gateway";
  }
  return "unknown";
}

std::string scope_text(const crypto::CertInfo& info) {
  switch (info.role) {
    case crypto::Role::kCa:
      return "certificate authority (signs provider and gateway certificates)";
    case crypto::Role::kProvider: {
      std::string s = "provider " + std::to_string(info.provider_id) + ", protocols ";
      for (std::size_t i = 0; i < info.protocols.size(); ++i) {
        if (i > 0) s += ", ";
        s +=
            wire::protocol_name(info.protocols[i]) + " (" + std::to_string(info.protocols[i]) + ")";
      }
      return s;
    }
    case crypto::Role::kGateway:
      return "gateway " + net::ipv4_to_string(info.gateway_id) + " (" +
             std::to_string(info.gateway_id) + ")";
  }
  return "unknown";
}

std::string describe(const crypto::CertInfo& info, std::span<const std::byte> der) {
  std::ostringstream s;
  s << "  role:         " << role_name(info.role) << "\n"
    << "  scope:        " << scope_text(info) << "\n"
    << "  subject:      CN=" << info.common_name << "\n"
    << "  not before:   " << format_time(info.not_before) << "\n"
    << "  not after:    " << format_time(info.not_after) << "\n"
    << "  key:          " << fingerprint(info.public_key) << "\n"
    << "  certificate:  " << fingerprint(der) << "\n";
  return s.str();
}

}  // namespace dmux::ca

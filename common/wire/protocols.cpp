#include "common/wire/protocols.h"

#include <charconv>
#include <cstdio>

namespace dmux::wire {

std::string_view protocol_slot_name(std::size_t slot) noexcept {
  if (slot == 0 || slot > kProtocols.size()) return "other";
  return kProtocols[slot - 1].name;
}

std::optional<std::uint16_t> parse_protocol(std::string_view text) {
  for (const auto& p : kProtocols) {
    if (p.name == text) return p.id;
  }
  int base = 10;
  if (text.starts_with("exp-")) text.remove_prefix(4);
  if (text.starts_with("0x") || text.starts_with("0X")) {
    text.remove_prefix(2);
    base = 16;
  }
  unsigned value = 0;
  const auto* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value, base);
  if (text.empty() || ec != std::errc() || ptr != end || value > 0xFFFF) return std::nullopt;
  const auto id = static_cast<std::uint16_t>(value);
  if (!protocol_id_usable(id)) return std::nullopt;
  return id;
}

std::string protocol_name(std::uint16_t id) {
  for (const auto& p : kProtocols) {
    if (p.id == id) return std::string(p.name);
  }
  char buf[16];
  if (id >= kProtoExperimentalFirst && id <= kProtoExperimentalLast) {
    std::snprintf(buf, sizeof buf, "exp-0x%04x", id);
  } else {
    std::snprintf(buf, sizeof buf, "%u", id);
  }
  return buf;
}

}  // namespace dmux::wire

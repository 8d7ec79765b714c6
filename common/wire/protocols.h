// The one table of IPvN protocol identifiers (proto_id). docs/protocol.md mirrors it and a unit
// test keeps the two equal.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/wire/ids.h"

namespace dmux::wire {

struct ProtocolInfo {
  std::uint16_t id;
  std::string_view name;         // stable, lower-case; used in config, CLI and metric labels
  std::string_view description;  // for humans
};

// Assigned identifiers. 0 and 0xFFFF are reserved; 0x8000-0xFFFE are experimental (free for
// private use between consenting clients and providers, never assigned here).
inline constexpr std::array kProtocols = {
    ProtocolInfo{1, "ipv6", "IPv6 packets (RFC 8200), no link-layer header"},
    ProtocolInfo{2, "ipv4-multicast", "IPv4 packets to 224.0.0.0/4, IGMP included"},
};

inline constexpr std::uint16_t kProtoReserved = 0x0000;
inline constexpr std::uint16_t kProtoIpv6 = 1;
inline constexpr std::uint16_t kProtoIpv4Multicast = 2;
inline constexpr std::uint16_t kProtoExperimentalFirst = 0x8000;
inline constexpr std::uint16_t kProtoExperimentalLast = 0xFFFE;
inline constexpr std::uint16_t kProtoReservedLast = 0xFFFF;

// Number of per-protocol counter slots: one per assigned protocol plus slot 0 for all others.
inline constexpr std::size_t kProtocolSlots = kProtocols.size() + 1;

// Slot of a proto_id in per-protocol counter arrays: 1..N for assigned ids, 0 for the rest.
constexpr std::size_t protocol_slot(std::uint16_t id) noexcept {
  for (std::size_t i = 0; i < kProtocols.size(); ++i) {
    if (kProtocols[i].id == id) return i + 1;
  }
  return 0;
}
constexpr std::size_t protocol_slot(ProtoId id) noexcept { return protocol_slot(id.value()); }

// Label for a counter slot: the protocol name, or "other".
std::string_view protocol_slot_name(std::size_t slot) noexcept;

// Whether a proto_id may ever be carried (not one of the reserved values).
constexpr bool protocol_id_usable(std::uint16_t id) noexcept {
  return id != kProtoReserved && id != kProtoReservedLast;
}
constexpr bool protocol_id_usable(ProtoId id) noexcept { return protocol_id_usable(id.value()); }

// "ipv6", "ipv4-multicast", a decimal or 0x-hex number. Empty on unknown names or reserved ids.
std::optional<std::uint16_t> parse_protocol(std::string_view text);

// Name of an assigned id, "exp-0xNNNN" for experimental ids, or the decimal number otherwise.
std::string protocol_name(std::uint16_t id);
inline std::string protocol_name(ProtoId id) { return protocol_name(id.value()); }

}  // namespace dmux::wire

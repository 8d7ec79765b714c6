// The rendezvous protocol's own messages (examples/rendezvous/README.md, "Wire format"): what a
// client puts in the payload of DATA (so a router gets it in TUNNEL), what a router puts in
// RETURN, and the trigger updates routers exchange over the SDK's peer channel. Everything here
// parses untrusted bytes, through common/wire/byte_reader.h only; exact lengths per type; typed
// failures; never allocates or throws.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace rendezvous {

inline constexpr std::uint8_t kVersion = 1;
inline constexpr std::size_t kIdLen = 16;
inline constexpr std::size_t kHeaderLen = 4 + kIdLen;       // version, type, reserved, id
inline constexpr std::size_t kControlLen = kHeaderLen + 4;  // INSERT, REMOVE, ACK
inline constexpr std::size_t kMaxData = 1380;    // SEND/DELIVER data: 1400-byte tunnel MTU - header
inline constexpr std::size_t kEntryLen = 36;     // one trigger in a TRIGGERS update
inline constexpr std::size_t kMaxEntries = 227;  // fits the SDK's 8192-byte peer payload

using Id = std::array<std::byte, kIdLen>;

enum class Type : std::uint8_t {
  kInsert = 1,     // client -> router: insert or refresh the trigger (id -> the client's address)
  kRemove = 2,     // client -> router: remove it
  kSend = 3,       // client -> router: deliver data to every receiver of id
  kDeliver = 4,    // router -> client: data sent to id
  kAck = 5,        // router -> client: what became of an INSERT or REMOVE
  kTriggers = 16,  // router -> router (peer payload): trigger insertions and removals
};

enum class AckStatus : std::uint8_t { kInserted = 0, kRemoved = 1, kRefused = 2 };

enum class Parse : std::uint8_t {
  kOk = 0,
  kTruncated,
  kMalformed,
  kUnsupportedVersion,
  kUnknownType
};
std::string_view to_string(Parse p) noexcept;

struct Message {
  Type type{};
  Id id{};
  std::uint16_t lifetime_s = 0;       // INSERT: asked; ACK: granted
  AckStatus status{};                 // ACK
  std::span<const std::byte> data{};  // SEND, DELIVER
};

// A client's message (INSERT, REMOVE, SEND) or a router's (DELIVER, ACK).
Parse parse_message(std::span<const std::byte> payload, Message& out) noexcept;
// Writes `m` (data included) into `out`; returns the length, 0 if it does not fit or is invalid.
std::size_t write_message(std::span<std::byte> out, const Message& m) noexcept;

struct TriggerEntry {
  Id id{};
  std::uint32_t client_ipv4 = 0;
  std::uint16_t client_port = 0;
  std::uint64_t token = 0;         // the receiver's return token (the peer checks it)
  std::uint32_t remaining_ms = 0;  // 0: removed
};

// A TRIGGERS update, entry by entry. init() checks the whole payload (count capped by the bytes
// present, exact length) so next() cannot fail afterwards.
class TriggersReader {
 public:
  Parse init(std::span<const std::byte> payload) noexcept;
  bool next(TriggerEntry& out) noexcept;
  [[nodiscard]] std::uint16_t count() const noexcept { return count_; }

 private:
  std::span<const std::byte> entries_;
  std::uint16_t count_ = 0;
  std::uint16_t read_ = 0;
};

// Writes the header of an update with `count` entries, then each entry; lengths as returned.
std::size_t write_triggers_header(std::span<std::byte> out, std::uint16_t count) noexcept;
std::size_t write_trigger_entry(std::span<std::byte> out, const TriggerEntry& e) noexcept;

}  // namespace rendezvous

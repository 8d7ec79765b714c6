// Router state from peers on its way into RemoteRouters (docs/protocol.md 12.3, 12.8): FULL_STATE
// parts are collected per origin until a version is complete; then every record's certificate,
// scope, origin and signature are checked (record_check.h) in bounded slices of work, and
// messages are applied in the order they arrived, per origin. A 65,534-router FULL_STATE costs
// 65,534 Ed25519 verifications, so run() is called from the event loop with a time budget and
// yields when it is spent; nothing here holds the control thread for longer than one budget.
//
// Control thread only; the caller's clock decides when a slice is over.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "common/wire/mesh.h"
#include "mesh/record_check.h"
#include "mesh/remote_routers.h"

namespace dmux::mesh {

struct IntakeCounters {
  std::uint64_t records_verified = 0;  // signature checks that ran (cache misses included)
  std::array<std::uint64_t, kRecordVerdicts> records_refused{};  // by RecordVerdict (kOk unused)
  std::uint64_t full_states_applied = 0;
  std::uint64_t updates_applied = 0;
  std::uint64_t stale = 0;            // older than what is held or queued: dropped unverified
  std::uint64_t parts_discarded = 0;  // incomplete FULL_STATE collections replaced by another
};

class RecordIntake {
 public:
  RecordIntake(RemoteRouters& remote, SignatureCache& signatures, const RevokedSerials& revoked)
      : remote_(remote), signatures_(signatures), revoked_(revoked) {}

  // A FULL_STATE part from `origin` (already checked to be the sending link's gateway). `certs`
  // is that link's certificate store: records are matched to their certificates now.
  void on_full_state_part(std::uint32_t origin, wire::mesh::FullState part,
                          const CertificateStore& certs);
  void on_update(std::uint32_t origin, const wire::mesh::Update& update,
                 const CertificateStore& certs);
  // The origin's link went down: an incomplete FULL_STATE collection is dropped (its next link
  // sends the whole state again). Queued complete messages stay: they are valid state.
  void on_link_down(std::uint32_t origin);

  // Verifies and applies queued messages until `out_of_time()` says stop or nothing is left.
  // Returns what changed in RemoteRouters.
  RemoteChanges run(const std::function<bool()>& out_of_time);
  [[nodiscard]] bool pending() const noexcept;
  [[nodiscard]] std::size_t queued_records() const noexcept { return queued_records_; }
  [[nodiscard]] const IntakeCounters& counters() const noexcept { return counters_; }

 private:
  struct Item {
    wire::mesh::Router record;
    std::shared_ptr<const CertEntry> cert;
    RecordVerdict verdict = RecordVerdict::kOk;
  };
  struct Op {
    bool full_state = false;
    Version version;
    bool present = true;  // updates: add (true) or remove
    RouterId id;          // updates
    std::vector<Item> items;
    std::size_t next = 0;  // items verified so far
    // Full states are applied in chunks too, once verified: removals first, then merges.
    std::vector<std::shared_ptr<const RemoteRouter>> ready;  // verified, built as checked
    bool began = false;
    std::size_t merged = 0;
  };
  static constexpr std::size_t kMergeChunk = 1024;
  struct Origin {
    // A FULL_STATE being collected.
    bool collecting = false;
    Version collecting_version;
    std::vector<bool> parts_seen;
    std::size_t parts_left = 0;
    std::vector<Item> collected;
    std::deque<Op> queue;
    Version newest_queued;
  };

  static Item item_of(const wire::mesh::Router& r, const CertificateStore& certs);
  bool verify_some(std::uint32_t origin, Op& op, const std::function<bool()>& out_of_time);
  // Applies (part of) a verified message; true when it is done.
  bool apply(std::uint32_t origin, Op& op, RemoteChanges& out,
             const std::function<bool()>& out_of_time);

  RemoteRouters& remote_;
  SignatureCache& signatures_;
  const RevokedSerials& revoked_;
  std::map<std::uint32_t, Origin> origins_;
  std::size_t queued_records_ = 0;
  IntakeCounters counters_;
};

}  // namespace dmux::mesh

// This gateway's own registrations as the mesh announces them (docs/protocol.md 12.3): each
// change numbered with the next version, and the frames that carry them to one link: the
// CERTIFICATE frames that link has not had yet, then FULL_STATE parts (on link-up) or UPDATEs.
// Control thread only.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <vector>

#include "common/wire/mesh.h"
#include "mesh/remote_routers.h"

namespace dmux::mesh {

// A router registered here, with what the mesh needs to announce it.
struct LocalRouter {
  wire::mesh::Router record;  // key fields, RTT, tunnel key and the REGISTER's proof
  std::shared_ptr<const std::vector<std::byte>> certificate;  // DER; proof.cert_hash names it
  [[nodiscard]] const RouterId& id() const noexcept { return record.id; }
};

// One announced change: the router as it is now (present) or its removal.
struct LocalChange {
  Version version;
  bool present = true;
  LocalRouter router;
};

// The certificates a link has been sent, so each goes once per link.
using SentCertificates = std::set<wire::mesh::CertHash>;

class LocalRecords {
 public:
  LocalRecords(wire::GatewayId gateway_id, std::uint64_t incarnation)
      : gateway_id_(gateway_id), version_{incarnation, 1} {}

  // The whole set of local routers now: returns the changes (one per router added, removed or
  // changed in any announced field), each with its own version.
  std::vector<LocalChange> set(const std::vector<LocalRouter>& routers);
  // One router registered or changed / withdrawn.
  std::vector<LocalChange> upsert(const LocalRouter& router);
  std::vector<LocalChange> remove(const RouterId& id);

  // Frames for a link that just came up: certificates it lacks, then every router in FULL_STATE
  // parts of at most kMaxRoutersPerPart.
  void append_full_state(SentCertificates& sent, std::vector<std::byte>& out) const;
  // Frames announcing `changes` on a link.
  void append_changes(std::span<const LocalChange> changes, SentCertificates& sent,
                      std::vector<std::byte>& out) const;

  [[nodiscard]] Version version() const noexcept { return version_; }
  [[nodiscard]] std::size_t size() const noexcept { return routers_.size(); }
  [[nodiscard]] const std::map<RouterId, LocalRouter>& routers() const noexcept { return routers_; }

 private:
  static void append_certificate(const LocalRouter& r, SentCertificates& sent,
                                 std::vector<std::byte>& out);

  wire::GatewayId gateway_id_;
  Version version_;
  std::map<RouterId, LocalRouter> routers_;
};

}  // namespace dmux::mesh

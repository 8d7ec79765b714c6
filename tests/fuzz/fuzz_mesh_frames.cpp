// libFuzzer target: arbitrary bytes as a stream of mesh frames from an authenticated peer
// (docs/protocol.md 12.2-12.7), through every frame parser and, for router records, the checks of
// 12.8 with a real provider certificate (so records can get as far as the signature).
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <span>
#include <vector>

#include "common/wire/mesh.h"
#include "mesh/record_intake.h"
#include "mesh/test_records.h"

namespace mw = dmux::wire::mesh;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace dmux::mesh;
  static testing::TestProvider provider;
  static CertificateStore certs(16);
  static const bool added = certs.add(provider.cert_der, provider.verifier, std::time(nullptr));
  (void)added;
  static RevokedSerials revoked;
  RemoteRouters remote(RemoteRoutersConfig{std::chrono::milliseconds(1000), 64, 64});
  SignatureCache signatures(64);
  RecordIntake intake(remote, signatures, revoked);
  auto bytes = std::as_bytes(std::span(data, size));
  while (bytes.size() >= mw::kFrameHeaderLen) {
    std::uint8_t type = 0;
    std::uint32_t len = 0;
    const auto s = mw::parse_header(bytes, type, len);
    if (s != mw::Status::kOk && s != mw::Status::kUnexpectedType) break;
    if (bytes.size() - mw::kFrameHeaderLen < len) break;
    const auto body = bytes.subspan(mw::kFrameHeaderLen, len);
    bytes = bytes.subspan(mw::kFrameHeaderLen + len);
    if (s != mw::Status::kOk) continue;
    switch (static_cast<mw::Type>(type)) {
      case mw::Type::kHello: {
        mw::Hello h;
        (void)mw::parse_hello(body, h);
        break;
      }
      case mw::Type::kFullState: {
        mw::FullState fs;
        if (mw::parse_full_state(body, fs) == mw::Status::kOk) {
          intake.on_full_state_part(fs.origin.value(), fs, certs);
        }
        break;
      }
      case mw::Type::kUpdate: {
        mw::Update u;
        if (mw::parse_update(body, u) == mw::Status::kOk)
          intake.on_update(u.origin.value(), u, certs);
        break;
      }
      case mw::Type::kProbe:
      case mw::Type::kProbeReply: {
        mw::Probe p;
        (void)mw::parse_probe(body, p);
        break;
      }
      case mw::Type::kPeers: {
        std::vector<mw::Peer> peers;
        (void)mw::parse_peers(body, peers);
        break;
      }
      case mw::Type::kCertificate:
      case mw::Type::kCrl:
        (void)mw::parse_der_body(body, mw::kMaxCrlBody);
        break;
    }
  }
  int slices = 0;
  while (intake.pending() && slices++ < 1000) (void)intake.run([] { return false; });
  return 0;
}

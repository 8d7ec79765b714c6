// Test helper: a CA, a provider's credentials and router records signed the way an agent's
// REGISTER is (docs/protocol.md 9.2, 12.2), for the mesh's unit tests.
#pragma once

#include <vector>

#include "common/crypto/crypto.h"
#include "common/wire/mesh.h"
#include "mesh/record_check.h"

namespace dmux::mesh::testing {

struct TestProvider {
  crypto::SigningKey ca_key = crypto::SigningKey::generate();
  crypto::Certificate ca = crypto::make_ca(ca_key, "test CA", 3650);
  crypto::SigningKey key = crypto::SigningKey::generate();
  std::vector<std::byte> cert_der;
  crypto::CertVerifier verifier{ca};

  explicit TestProvider(std::uint32_t provider_id = 7, std::vector<std::uint16_t> protocols = {1}) {
    crypto::IssueRequest req;
    req.info.role = crypto::Role::kProvider;
    req.info.provider_id = provider_id;
    req.info.protocols = std::move(protocols);
    req.info.common_name = "provider";
    req.subject_key = key.public_key();
    cert_der = crypto::issue(ca, ca_key, req).der();
  }

  // A record for router 198.18.2.X:5000, registered at `gateway`, signed by this provider.
  wire::mesh::Router record(std::uint32_t addr, std::uint32_t gateway, std::uint16_t proto = 1,
                            std::uint32_t provider = 7) const {
    wire::mesh::Router r;
    r.id =
        wire::RouterId{wire::ProtoId{proto}, wire::ProviderId{provider}, net::Endpoint{addr, 5000}};
    r.router_rtt_us = 400;
    r.key_id = addr;
    r.suite = wire::kSuiteAes256Gmac;
    r.tunnel_key.fill(std::byte{0x42});
    r.proof.gateway_id = wire::GatewayId{gateway};
    r.proof.timestamp_us = 1'700'000'000'000'000ULL;
    r.proof.signed_rtt_us = 300;
    r.proof.cert_hash = crypto::sha256(cert_der);
    std::vector<std::byte> signed_bytes(wire::kRegisterFixedLen + cert_der.size());
    signed_bytes.resize(wire::mesh::signed_register_bytes(r, cert_der, signed_bytes));
    const auto sig = key.sign(signed_bytes);
    std::copy(sig.begin(), sig.end(), r.proof.signature.begin());
    return r;
  }
};

}  // namespace dmux::mesh::testing

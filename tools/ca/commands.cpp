#include "tools/ca/commands.h"

#include "common/net/endpoint.h"
#include "tools/ca/render.h"

namespace dmux::ca {
namespace {

// Generates the subject's key, has the CA sign the request, writes <out>.key and <out>.crt and
// logs the issue.
void issue_leaf(const std::string& dir, crypto::IssueRequest request, const Validity& validity,
                const std::string& out_prefix, std::ostream& out) {
  const CaFiles files(dir);
  const LoadedCa ca = load_ca(files);
  const std::string key_path = out_prefix + ".key";
  const std::string cert_path = out_prefix + ".crt";
  refuse_existing(key_path);
  refuse_existing(cert_path);

  const auto key = crypto::SigningKey::generate();
  request.subject_key = key.public_key();
  request.not_before_offset_s = validity.not_before_offset_s;
  request.not_after_offset_s = validity.not_before_offset_s + validity.length_s;
  const crypto::Certificate cert = crypto::issue(ca.cert, ca.key, request);
  const crypto::CertInfo info = cert.info();
  const auto der = cert.der();

  key.save_pem(key_path);
  cert.save_pem(cert_path);
  append_issued_log(files, format_time(std::time(nullptr)) + " " + role_name(info.role) + " \"" +
                               scope_text(info) + "\" CN=" + info.common_name + " until " +
                               format_time(info.not_after) + " " + fingerprint(der) + " " +
                               cert_path);

  out << "wrote " << key_path << " (secret, mode 0600) and " << cert_path << "\n"
      << describe(info, der);
  const auto ca_until = ca.cert.info().not_after;
  if (info.not_after > ca_until) {
    out << "warning: the certificate outlives the CA; it stops verifying at "
        << format_time(ca_until) << "\n";
  }
}

}  // namespace

void run_init(const InitConfig& c, std::ostream& out) {
  const CaFiles files(c.dir);
  prepare_new_ca_dir(files);
  const auto key = crypto::SigningKey::generate();
  const crypto::Certificate cert = crypto::make_ca(key, c.name, c.days);
  key.save_pem(files.key);
  cert.save_pem(files.cert);
  out << "created a CA in " << files.dir << ":\n"
      << "  " << files.key << "  the CA's private key: keep it secret and offline\n"
      << "  " << files.cert << "  the trust anchor: give it to every gateway\n"
      << describe(cert.info(), cert.der());
}

void run_issue_provider(const IssueProviderConfig& c, std::ostream& out) {
  crypto::IssueRequest r;
  r.info.role = crypto::Role::kProvider;
  r.info.provider_id = c.provider_id;
  r.info.protocols = c.protocols;
  r.info.common_name = c.name.empty() ? "provider-" + std::to_string(c.provider_id) : c.name;
  issue_leaf(c.dir, r, c.validity, c.out, out);
}

void run_issue_gateway(const IssueGatewayConfig& c, std::ostream& out) {
  crypto::IssueRequest r;
  r.info.role = crypto::Role::kGateway;
  r.info.gateway_id = c.gateway_id;
  r.info.common_name = c.name.empty() ? "gateway-" + net::ipv4_to_string(c.gateway_id) : c.name;
  issue_leaf(c.dir, r, c.validity, c.out, out);
}

void run_show(const ShowConfig& c, std::ostream& out) {
  const auto cert = crypto::Certificate::load_pem(c.cert);
  crypto::CertInfo info;
  try {
    info = cert.info();
  } catch (const crypto::CryptoError& e) {
    throw ToolError(c.cert + ": not an IPdmux certificate (" + e.what() + ")");
  }
  out << c.cert << ":\n" << describe(info, cert.der());
}

bool run_verify(const VerifyConfig& c, std::time_t now, std::ostream& out) {
  const CaFiles files(c.dir);
  const auto ca = crypto::Certificate::load_pem(files.cert);
  const auto cert = crypto::Certificate::load_pem(c.cert);
  const auto der = cert.der();
  // Without --role, judge the certificate for the role it claims (if it claims one at all).
  crypto::Role role = crypto::Role::kProvider;
  if (c.role) {
    role = *c.role;
  } else {
    try {
      role = cert.info().role;
    } catch (const crypto::CryptoError&) {
      // Left as is: the verifier reports bad-encoding.
    }
  }
  crypto::CertVerifier verifier(ca, 0);
  crypto::CertInfo info;
  const auto result = verifier.verify(der, role, now, info);
  if (result != crypto::VerifyResult::kOk) {
    out << c.cert << ": REFUSED: " << crypto::to_string(result) << " (as " << role_name(role)
        << ", by the CA in " << files.cert << ")\n";
    return false;
  }
  out << c.cert << ": ok (signed by the CA in " << files.cert << ")\n" << describe(info, der);
  return true;
}

}  // namespace dmux::ca

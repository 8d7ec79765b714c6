#include "tools/ca/commands.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "common/crypto/crl.h"
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

namespace {

std::string hex_of(const crypto::SerialNumber& serial) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  for (const std::byte b : serial) {
    s += kDigits[static_cast<unsigned>(b) >> 4];
    s += kDigits[static_cast<unsigned>(b) & 0xf];
  }
  return s;
}

crypto::SerialNumber serial_of_hex(const std::string& hex) {
  crypto::SerialNumber out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<std::byte>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

// The serials listed in <dir>/revoked (first word of each line).
std::vector<crypto::SerialNumber> read_revoked(const CaFiles& files) {
  std::vector<crypto::SerialNumber> out;
  std::ifstream in(files.revoked);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string hex;
    if (words >> hex && !hex.empty() && hex[0] != '#') out.push_back(serial_of_hex(hex));
  }
  return out;
}

}  // namespace

void run_revoke(const RevokeConfig& c, std::ostream& out) {
  const CaFiles files(c.dir);
  const LoadedCa ca = load_ca(files);
  const auto cert = crypto::Certificate::load_pem(c.cert);
  const crypto::CertInfo info = cert.info();
  crypto::CertVerifier verifier(ca.cert);
  crypto::CertInfo checked;
  // A certificate of another CA cannot be revoked here; an expired one of ours can.
  const auto verdict = verifier.verify(cert.der(), info.role, info.not_before + 1, checked);
  if (verdict == crypto::VerifyResult::kUntrusted ||
      verdict == crypto::VerifyResult::kBadEncoding) {
    throw ToolError(c.cert + " was not issued by the CA in " + files.dir);
  }
  const std::string hex = hex_of(info.serial);
  for (const auto& s : read_revoked(files)) {
    if (s == info.serial) {
      out << c.cert << " (serial " << hex << ") is already revoked\n";
      return;
    }
  }
  const bool is_new = !std::filesystem::exists(files.revoked);
  std::ofstream f(files.revoked, std::ios::app);
  if (!f) throw ToolError("cannot append to " + files.revoked);
  if (is_new) ::chmod(files.revoked.c_str(), 0644);
  f << hex << " " << format_time(std::time(nullptr)) << " " << role_name(info.role) << " \""
    << scope_text(info) << "\" CN=" << info.common_name << "\n";
  if (!f.flush()) throw ToolError("cannot append to " + files.revoked);
  out << "revoked " << c.cert << " (serial " << hex << ", " << scope_text(info) << ")\n"
      << "next: dmux-ca crl --dir " << c.dir
      << " --out crl.pem, then install it on any gateway (--crl FILE, SIGHUP): the mesh spreads "
         "it\n";
}

void run_crl(const CrlConfig& c, std::ostream& out) {
  const CaFiles files(c.dir);
  const LoadedCa ca = load_ca(files);
  std::uint64_t number = 0;
  if (std::ifstream in(files.crl_number); in) in >> number;
  ++number;
  const auto revoked = read_revoked(files);
  const crypto::Crl crl = crypto::make_crl(ca.cert, ca.key, revoked, number, c.days);
  crl.save_pem(c.out);
  std::ofstream f(files.crl_number, std::ios::trunc);
  if (!(f << number << "\n")) throw ToolError("cannot write " + files.crl_number);
  out << "wrote " << c.out << ": CRL number " << number << ", " << revoked.size()
      << " revoked certificate(s), next update " << format_time(crl.next_update()) << "\n";
}

}  // namespace dmux::ca

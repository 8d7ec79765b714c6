// dmux-ca's commands. Each takes its config, reads and writes files, and reports to `out`.
// Errors throw ToolError or crypto::CryptoError (one line each).
#pragma once

#include <ctime>
#include <ostream>

#include "tools/ca/ca_files.h"
#include "tools/ca/config.h"

namespace dmux::ca {

void run_init(const InitConfig& c, std::ostream& out);
void run_issue_provider(const IssueProviderConfig& c, std::ostream& out);
void run_issue_gateway(const IssueGatewayConfig& c, std::ostream& out);
void run_show(const ShowConfig& c, std::ostream& out);
// Judges the certificate as of `now`. True only if the CA accepts it.
bool run_verify(const VerifyConfig& c, std::time_t now, std::ostream& out);
// Adds the certificate's serial to <dir>/revoked (idempotent); run `crl` next.
void run_revoke(const RevokeConfig& c, std::ostream& out);
// Signs a CRL of <dir>/revoked with the next cRLNumber (kept in <dir>/crlnumber).
void run_crl(const CrlConfig& c, std::ostream& out);

}  // namespace dmux::ca

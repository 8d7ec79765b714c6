#include "tools/ca/ca_files.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

namespace dmux::ca {

CaFiles::CaFiles(const std::string& d)
    : dir(d),
      key((fs::path(d) / "ca.key").string()),
      cert((fs::path(d) / "ca.crt").string()),
      log((fs::path(d) / "issued.log").string()),
      revoked((fs::path(d) / "revoked").string()),
      crl_number((fs::path(d) / "crlnumber").string()) {}

void prepare_new_ca_dir(const CaFiles& files) {
  std::error_code ec;
  if (!fs::exists(files.dir, ec)) {
    fs::create_directories(files.dir, ec);
    if (ec) throw ToolError("cannot create " + files.dir + ": " + ec.message());
    fs::permissions(files.dir, fs::perms::owner_all, fs::perm_options::replace, ec);
    if (ec) throw ToolError("cannot set the mode of " + files.dir + ": " + ec.message());
  } else if (!fs::is_directory(files.dir, ec)) {
    throw ToolError(files.dir + " is not a directory");
  }
  for (const auto* path : {&files.key, &files.cert}) {
    if (fs::exists(*path, ec)) {
      throw ToolError(*path + " exists: " + files.dir +
                      " already holds a CA (dmux-ca never overwrites one)");
    }
  }
}

LoadedCa load_ca(const CaFiles& files) {
  std::error_code ec;
  if (!fs::exists(files.cert, ec)) {
    throw ToolError("no CA in " + files.dir + " (" + files.cert + " is missing; run dmux-ca init)");
  }
  return LoadedCa{crypto::SigningKey::load_pem(files.key),
                  crypto::Certificate::load_pem(files.cert)};
}

void refuse_existing(const std::string& path) {
  std::error_code ec;
  if (fs::exists(path, ec)) throw ToolError(path + " exists; dmux-ca never overwrites it");
}

void append_issued_log(const CaFiles& files, const std::string& line) {
  const bool is_new = !fs::exists(files.log);
  std::ofstream f(files.log, std::ios::app);
  if (!f) throw ToolError("cannot append to " + files.log);
  if (is_new) ::chmod(files.log.c_str(), 0600);
  f << line << "\n";
  if (!f.flush()) throw ToolError("cannot append to " + files.log);
}

}  // namespace dmux::ca

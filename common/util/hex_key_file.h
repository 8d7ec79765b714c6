// Secret keys kept by operators in files as hex text: `openssl rand -hex 32 > FILE` makes one.
// Control plane only (start-up and reload); the caller names its option in the error it reports.
#pragma once

#include <cctype>
#include <cstddef>
#include <fstream>
#include <span>
#include <sstream>
#include <string>

namespace dmux::util {

// Fills `out` from the file at `path`: exactly 2 * out.size() hex digits, whitespace (line breaks
// included) ignored anywhere. Returns "" on success, else why not (naming the file).
inline std::string read_hex_key_file(const std::string& path, std::span<std::byte> out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "cannot read key file '" + path + "'";
  std::ostringstream text;
  text << in.rdbuf();
  std::string digits;
  for (const char c : text.str()) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isspace(u)) continue;
    if (!std::isxdigit(u)) {
      return "key file '" + path + "' must hold only hex digits (and whitespace)";
    }
    digits += c;
  }
  if (digits.size() != 2 * out.size()) {
    return "key file '" + path + "' must hold " + std::to_string(out.size()) + " bytes as " +
           std::to_string(2 * out.size()) + " hex digits, not " + std::to_string(digits.size()) +
           " digits";
  }
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<std::byte>(std::stoi(digits.substr(2 * i, 2), nullptr, 16));
  }
  return "";
}

}  // namespace dmux::util

// A bad option or config value. `option` names it (without dashes), `what()` says why; each
// program's main prints "PROGRAM: error: --OPTION: REASON" and exits 2.
#pragma once

#include <stdexcept>
#include <string>

namespace dmux {

class ConfigError : public std::runtime_error {
 public:
  ConfigError(std::string option, const std::string& reason)
      : std::runtime_error(reason), option_(std::move(option)) {}
  [[nodiscard]] const std::string& option() const noexcept { return option_; }
  // "--OPTION: REASON", or "command line: REASON" for a stray argument.
  [[nodiscard]] std::string message() const {
    return (option_ == "command line" ? option_ : "--" + option_) + ": " + what();
  }

 private:
  std::string option_;
};

}  // namespace dmux

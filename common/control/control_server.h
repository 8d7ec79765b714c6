// A local control socket (UNIX stream) for dmuxctl, used by dmuxd and dmux-provider.
//
// Protocol: the client sends one command line ("status\n"), the server answers with one JSON
// document and closes. Runs on the control thread's event loop; the handler is called there.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "common/evloop/event_loop.h"
#include "common/net/unique_fd.h"

namespace dmux::control {

class ControlServer {
 public:
  using Handler = std::function<std::string(std::string_view command)>;

  // Creates the socket's directory if needed and removes a stale socket file; throws
  // std::runtime_error if another live process is listening on `path`.
  ControlServer(evloop::EventLoop& loop, std::string path, Handler handler);
  ~ControlServer();

  [[nodiscard]] const std::string& path() const noexcept { return path_; }

 private:
  struct Connection {
    net::UniqueFd fd;
    std::string buffer;
    std::unique_ptr<evloop::IoWatcher> watcher;
  };
  void on_accept() noexcept;
  void on_data(int fd) noexcept;
  void respond(Connection& c, std::string_view line) noexcept;

  evloop::EventLoop& loop_;
  std::string path_;
  Handler handler_;
  net::UniqueFd listen_fd_;
  std::unique_ptr<evloop::IoWatcher> accept_watcher_;
  std::map<int, Connection> connections_;
};

}  // namespace dmux::control

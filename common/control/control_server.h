// A local control socket (UNIX stream) for dmuxctl, used by every IPdmux daemon.
//
// Protocol: the client sends one command line ("status\n"), the server answers with one JSON
// document and closes. Runs on the control thread's event loop; the handler is called there.
// Local clients are untrusted in how they behave: a connection that has not sent its command
// within `idle_timeout`, or not read its answer within it, is closed; when all `max_connections`
// are taken, the oldest is closed to make room, so idle connections can never lock dmuxctl out;
// answers are written without blocking, so a client that does not read costs nothing.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "common/evloop/event_loop.h"
#include "common/net/unique_fd.h"

namespace dmux::control {

struct ControlOptions {
  std::chrono::milliseconds idle_timeout{5000};
  std::size_t max_connections = 32;
  std::string group;  // the socket file's operator group (socket_group.h); "" = the daemon's own
};

class ControlServer {
 public:
  using Handler = std::function<std::string(std::string_view command)>;

  // Creates the socket's directory if needed and removes a stale socket file; throws
  // std::runtime_error if another live process is listening on `path`, std::system_error if the
  // socket cannot be made or handed to `options.group`.
  ControlServer(evloop::EventLoop& loop, std::string path, Handler handler,
                ControlOptions options = {});
  ~ControlServer();

  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  [[nodiscard]] std::size_t connections() const noexcept { return connections_.size(); }

 private:
  using Clock = std::chrono::steady_clock;
  struct Connection {
    net::UniqueFd fd;
    std::string in;
    std::string out;
    std::size_t out_pos = 0;
    Clock::time_point opened;
    std::unique_ptr<evloop::IoWatcher> watcher;
  };
  void on_accept() noexcept;
  void on_readable(int fd) noexcept;
  void on_writable(int fd) noexcept;
  void respond(Connection& c, std::string_view line) noexcept;
  // Writes what the socket takes; true when the answer is out (or the client is gone).
  static bool flush(Connection& c) noexcept;
  void sweep() noexcept;
  void close_oldest() noexcept;

  evloop::EventLoop& loop_;
  std::string path_;
  Handler handler_;
  ControlOptions limits_;
  net::UniqueFd listen_fd_;
  std::unique_ptr<evloop::IoWatcher> accept_watcher_;
  std::map<int, Connection> connections_;
  evloop::Timer sweeper_;
};

}  // namespace dmux::control

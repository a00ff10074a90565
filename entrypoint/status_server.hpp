// StatusServer: the HTTP listener of STATUS_ADDR (GET /status, GET /metrics), on Poco's
// HTTPServer with a thread pool of its own. It reads only copies (statusBoard().snapshot(),
// metrics().snapshot()), so it never holds what the signal loop, the monitor or the registrar
// need; it serves no secret, since neither holds one. Its threads inherit main's blocked signals.
#pragma once

#include <memory>
#include <string>

#include "result.hpp"

namespace Poco {
class ThreadPool;
namespace Net {
class HTTPServer;
class ServerSocket;
}  // namespace Net
}  // namespace Poco

namespace esetcd {

// The host the listener binds for `host`: `host` itself, or, with `anyIfNotLocal` and an IP
// address that is not one of this machine's (a NATed publish host, Docker's port mappings), every
// address of its family ("0.0.0.0" or "::").
std::string listenHost(const std::string& host, bool anyIfNotLocal);

// The address a client on this machine reaches a listener bound to `bound` at: loopback for a
// wildcard, else `bound` itself.
std::string reachHost(const std::string& bound);

class StatusServer {
 public:
  StatusServer();
  ~StatusServer();
  StatusServer(const StatusServer&) = delete;
  StatusServer& operator=(const StatusServer&) = delete;

  // Binds and listens on listenHost(host, anyIfNotLocal):port, so that a taken port is known at
  // once and clients queue from now on; `anyIfNotLocal` is set for the default address, the
  // publish host. Returns the address it listens on, as host:port, or the Error of the bind
  // (ErrorKind::System). Starts no thread.
  Result<std::string> listen(const std::string& host, int port, bool anyIfNotLocal);

  // Starts the threads that answer the queued and later requests; the Error (ErrorKind::System)
  // when they cannot be started. Does nothing before a successful listen() or once serving.
  // Threads are the expensive part, which is why the entrypoint starts them once its command
  // runs or its start waits (app.cpp).
  Result<Unit> serve();

 private:
  std::unique_ptr<Poco::Net::ServerSocket> socket_;
  std::unique_ptr<Poco::ThreadPool> pool_;
  std::unique_ptr<Poco::Net::HTTPServer> server_;
};

}  // namespace esetcd

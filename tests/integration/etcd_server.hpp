// EtcdServer runs a real etcd on free loopback ports in its own temp dir for one test, and can
// stop and start it again on the same ports and data; the dir (with etcd.log) is removed when the
// test passed and kept, with its path printed, when it failed.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "http.hpp"

namespace esetcd::testing {

// A loopback TCP port that was free a moment ago (bound to port 0, read back, closed). Nothing
// listens on it, so it also serves as a dead endpoint.
int freeLoopbackPort();

// The etcd binary: $ESETCD_TEST_ETCD, else `etcd` in PATH, else /usr/bin/etcd. Throws
// std::runtime_error naming the package to install when there is none: integration tests must
// fail, not skip, on a machine that cannot run them.
std::string findEtcd();

struct EtcdServerOptions {
  bool enableV2 = true;                // v2 and v3 keyspaces are separate; tests use both
  std::vector<std::string> extraArgs;  // e.g. "--auth-token-ttl=1"
};

class EtcdServer {
 public:
  // Starts etcd and waits until /health answers; throws std::runtime_error (with the end of
  // etcd's log) when it does not within a few seconds.
  explicit EtcdServer(EtcdServerOptions options = {});
  ~EtcdServer();
  EtcdServer(const EtcdServer&) = delete;
  EtcdServer& operator=(const EtcdServer&) = delete;

  void start();  // again after stop(): same ports, same data dir
  void stop();   // SIGTERM, then SIGKILL after a few seconds

  std::string clientUrl() const;
  const std::string& dir() const { return dir_; }

  // One request to this member without any client logic, as another client would send it.
  HttpResponse request(const std::string& method, const std::string& path,
                       const std::string& body = "",
                       const std::string& contentType = "application/json") const;

 private:
  void waitHealthy();
  std::string logTail() const;

  EtcdServerOptions options_;
  std::string dir_;
  int clientPort_ = 0;
  int peerPort_ = 0;
  pid_t pid_ = -1;
  int failuresAtStart_ = 0;
  int uncaughtAtStart_ = 0;
};

}  // namespace esetcd::testing

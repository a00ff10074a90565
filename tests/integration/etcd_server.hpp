// EtcdServer runs a real etcd on free loopback ports in its own temp dir for one test, and can
// stop and start it again on the same ports and data; the dir (with etcd.log) is removed when the
// test passed and kept, with its path printed, when it failed. It serves http, or https with a
// certificate and optionally client-cert-auth (certificates from scripts/certs.sh: makeTestPki).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "http.hpp"

namespace esetcd::testing {

// A loopback TCP port that was free a moment ago (bound and closed), below the kernel's ephemeral
// range. Nothing listens on it, so it also serves as a dead endpoint.
int freeLoopbackPort();

// The etcd binary: $ESETCD_TEST_ETCD, else `etcd` in PATH, else /usr/bin/etcd. Throws
// std::runtime_error naming the package to install when there is none: integration tests must
// fail, not skip, on a machine that cannot run them.
std::string findEtcd();

// The version of findEtcd()'s server, from its --version output (run once per binary); throws
// std::runtime_error when it cannot be read.
struct EtcdVersion {
  int major = 0;
  int minor = 0;
  int patch = 0;
  std::string text;  // "3.6.16"
};
EtcdVersion etcdVersion();

// Whether that server has the v2 keys API (3.4 and 3.5 with --enable-v2; 3.6 removed it).
bool etcdHasV2();

// A directory for one test's files (certificates, say), removed when the test passed and kept,
// with its path printed, when it failed.
class TestDir {
 public:
  TestDir();
  ~TestDir();
  TestDir(const TestDir&) = delete;
  TestDir& operator=(const TestDir&) = delete;

  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
  int failuresAtStart_ = 0;
  int uncaughtAtStart_ = 0;
};

// Certificates made by scripts/certs.sh, as a user would make them: a cluster CA with a server
// certificate for etcd ("etcd", SANs localhost and 127.0.0.1) and a client certificate
// ("client"); and a second, unrelated CA in `dir`/other with a client certificate of its own.
struct TestPki {
  std::string caFile, serverCert, serverKey, clientCert, clientKey;
  std::string otherCaFile, otherClientCert, otherClientKey;
};

// Runs scripts/certs.sh (path compiled in as CERTS_SCRIPT) twice under `dir`; throws
// std::runtime_error with the script's output when it fails.
TestPki makeTestPki(const std::string& dir);

struct EtcdServerTls {
  std::string certFile;       // --cert-file: the server's certificate (SAN 127.0.0.1)
  std::string keyFile;        // --key-file
  std::string trustedCaFile;  // not empty: --trusted-ca-file and --client-cert-auth
  TlsOptions client;          // what request() and the health wait present
};

// https on the client URL with the pki's server certificate, client certificates required and
// checked against its CA; request() presents the pki's client certificate.
EtcdServerTls mutualTls(const TestPki& pki);

struct EtcdServerOptions {
  // v2 and v3 keyspaces are separate; tests use both. Where the server has no v2 API (3.6+)
  // this is ignored: cases that need v2 are tagged [v2] and not run there (tests/CMakeLists.txt).
  bool enableV2 = true;
  std::vector<std::string> extraArgs;  // e.g. "--auth-token-ttl=1"
  std::optional<EtcdServerTls> tls;    // set: the client URL is https (peers stay on http)
};

// Options for an etcd with JWT tokens (RS256; openssl makes the key pair in `dir`): the tokens
// outlive an etcd restart and any TTL of ours, but etcd refuses them after an auth change.
// Throws std::runtime_error when openssl fails.
EtcdServerOptions jwtServerOptions(const std::string& dir);

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
  // SIGSTOP / SIGCONT: a frozen member still accepts connections (the kernel completes the
  // handshake) but never answers, like a hung or partitioned etcd. stop() thaws first.
  void freeze();
  void thaw();

  std::string clientUrl() const;      // http://127.0.0.1:PORT, or https:// with options.tls
  pid_t pid() const { return pid_; }  // -1 while stopped
  const std::string& dir() const { return dir_; }

  // One request to this member without any client logic, as another client would send it (with
  // options.tls: presenting its `client` settings).
  HttpResponse request(const std::string& method, const std::string& path,
                       const std::string& body = "",
                       const std::string& contentType = "application/json") const;
  // The v3 keys that start with `prefix` (every key when empty), read with request().
  std::vector<std::string> keys(const std::string& prefix = "") const;

 private:
  void waitHealthy();
  std::string logTail() const;
  const TlsOptions& clientTls() const;

  EtcdServerOptions options_;
  std::string dir_;
  int clientPort_ = 0;
  int peerPort_ = 0;
  pid_t pid_ = -1;
  int failuresAtStart_ = 0;
  int uncaughtAtStart_ = 0;
};

// EtcdCluster runs a real cluster of `size` etcd members on loopback (distinct client and peer
// ports, one data dir each, --initial-cluster naming all), for the fault tests: a member can be
// killed, frozen, thawed and started again on its ports and data. Every member is thawed and
// stopped at the end; the dir (member-N/etcd.log inside) is kept when the test failed.
class EtcdCluster {
 public:
  // Starts every member and waits until each answers /health with a leader elected; throws
  // std::runtime_error (with the end of the member's log) when one does not.
  explicit EtcdCluster(int size = 3);
  ~EtcdCluster();
  EtcdCluster(const EtcdCluster&) = delete;
  EtcdCluster& operator=(const EtcdCluster&) = delete;

  int size() const { return static_cast<int>(members_.size()); }
  std::string clientUrl(int member) const;
  pid_t pid(int member) const { return members_.at(member).pid; }
  const std::string& dir() const { return dir_; }

  // The leader as the running members see it (POST /v3/maintenance/status on each: the member
  // whose header.member_id is the leader it reports); -1 when none answers with one.
  int leader() const;

  void kill(int member);    // SIGKILL, reaped
  void freeze(int member);  // SIGSTOP: the port still accepts, nothing answers
  void thaw(int member);    // SIGCONT
  void start(int member);   // again after kill(): same ports, same data; waits for /health

  // One request to the first running, unfrozen member that answers with an HTTP status.
  HttpResponse request(const std::string& method, const std::string& path,
                       const std::string& body = "") const;
  // The same to one member.
  HttpResponse requestTo(int member, const std::string& method, const std::string& path,
                         const std::string& body = "") const;

 private:
  struct Member {
    std::string name;
    int clientPort = 0;
    int peerPort = 0;
    pid_t pid = -1;
    bool frozen = false;
  };
  void spawn(int member, const std::string& clusterState);
  void waitHealthy(int member);
  std::string logTail(int member) const;

  std::string dir_;
  std::string initialCluster_;
  std::vector<Member> members_;
  int failuresAtStart_ = 0;
  int uncaughtAtStart_ = 0;
};

// A loopback endpoint that accepts TCP connections into its backlog and never answers: a
// black-holed etcd member, a request to which can only time out.
class BlackHole {
 public:
  BlackHole();
  ~BlackHole();
  BlackHole(const BlackHole&) = delete;
  BlackHole& operator=(const BlackHole&) = delete;
  std::string url() const;

 private:
  int fd_ = -1;
  int port_ = 0;
};

}  // namespace esetcd::testing

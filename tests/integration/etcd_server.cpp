#include "etcd_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "etcd_codec.hpp"

// The listener below needs Catch's reporter interfaces, which the header hides by default.
#define CATCH_CONFIG_EXTERNAL_INTERFACES
#include <catch2/catch.hpp>

extern char** environ;

#ifndef CERTS_SCRIPT
#error "CERTS_SCRIPT (the path of scripts/certs.sh) must be defined by the build"
#endif

namespace esetcd::testing {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// Initialises libcurl once, and counts failed assertions so that a server knows whether its test
// failed and keeps its dir.
int failedAssertions = 0;

class FailureCounter : public Catch::TestEventListenerBase {
 public:
  using TestEventListenerBase::TestEventListenerBase;
  // curl_global_init must run before any thread exists; tests start threads of their own.
  void testRunStarting(const Catch::TestRunInfo&) override { httpGlobalInit(); }
  bool assertionEnded(const Catch::AssertionStats& stats) override {
    if (!stats.assertionResult.isOk()) ++failedAssertions;
    return true;
  }
};
CATCH_REGISTER_LISTENER(FailureCounter)

bool isExecutable(const fs::path& path) {
  return ::access(path.c_str(), X_OK) == 0;
}

std::string makeTempDir(const std::string& prefix) {
  std::string pattern = (fs::temp_directory_path() / (prefix + "-XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  return pattern;
}

std::string loopbackUrl(int port, const char* scheme = "http") {
  return std::string(scheme) + "://127.0.0.1:" + std::to_string(port);
}

std::string readText(const std::string& path) {
  std::ifstream file(path);
  std::stringstream content;
  content << file.rdbuf();
  return content.str();
}

// Runs `bash CERTS_SCRIPT args...` with its output in `log`; throws unless it exits 0.
void runCertsScript(const std::vector<std::string>& args, const std::string& log) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  std::vector<std::string> words = {"bash", CERTS_SCRIPT};
  words.insert(words.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& word : words) argv.push_back(word.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  const int rc = ::posix_spawnp(&pid, "bash", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error(std::string("cannot start bash: ") + std::strerror(rc));
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw std::runtime_error(std::string(CERTS_SCRIPT) + " failed; its output:\n" + readText(log));
  }
}

// Our environment without ETCD_* variables: etcd reads each as one of its flags, so a test that
// exported ETCD_ENDPOINTS for the entrypoint would configure the server too.
std::vector<char*> etcdEnvironment() {
  std::vector<char*> kept;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    if (std::strncmp(*entry, "ETCD_", 5) != 0) kept.push_back(*entry);
  }
  kept.push_back(nullptr);
  return kept;
}

pid_t spawnEtcd(const std::vector<std::string>& args, const std::string& logFile) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, logFile.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                   0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  std::vector<char*> argv;
  for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  pid_t pid = -1;
  auto env = etcdEnvironment();
  const int rc = ::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), env.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("cannot start " + args[0] + ": " + std::strerror(rc));
  return pid;
}

// true when the process ended within `limit` (and was reaped).
bool waitExit(pid_t pid, std::chrono::milliseconds limit) {
  const auto deadline = Clock::now() + limit;
  while (Clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

}  // namespace

TestDir::TestDir()
    : path_(makeTempDir("esetcd-test")),
      failuresAtStart_(failedAssertions),
      uncaughtAtStart_(std::uncaught_exceptions()) {}

TestDir::~TestDir() {
  if (failedAssertions > failuresAtStart_ || std::uncaught_exceptions() > uncaughtAtStart_) {
    std::cerr << "test dir kept: " << path_ << "\n";
    return;
  }
  std::error_code ignored;
  fs::remove_all(path_, ignored);
}

TestPki makeTestPki(const std::string& dir) {
  const std::string ours = dir + "/pki";
  const std::string other = dir + "/other";
  runCertsScript({ours, "etcd", "client"}, dir + "/certs.log");
  runCertsScript({other, "client"}, dir + "/certs.log");
  return TestPki{ours + "/ca.crt",      ours + "/etcd.crt",   ours + "/etcd.key",
                 ours + "/client.crt",  ours + "/client.key", other + "/ca.crt",
                 other + "/client.crt", other + "/client.key"};
}

EtcdServerTls mutualTls(const TestPki& pki) {
  EtcdServerTls tls;
  tls.certFile = pki.serverCert;
  tls.keyFile = pki.serverKey;
  tls.trustedCaFile = pki.caFile;
  tls.client = TlsOptions{pki.caFile, pki.clientCert, pki.clientKey};
  return tls;
}

namespace {

// The first port of the kernel's ephemeral range (the local ports of outgoing connections).
int ephemeralLow() {
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  int low = 0;
  return in >> low && low > 2048 ? low : 32768;
}

bool bindableLoopbackPort(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket failed");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

// Below the ephemeral range, never in it: a server the restart tests stop and start again gets
// its port back only if nothing took it meanwhile, and the kernel hands out the ephemeral ports
// to outgoing connections, among them the entrypoint's own retries against that very port (a
// connection to a closed loopback port can be given that port as its local one and connect to
// itself). Random within the range, so that parallel test processes rarely try the same one.
int freeLoopbackPort() {
  static std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> pick(10000, ephemeralLow() - 1);
  for (int attempt = 0; attempt < 500; ++attempt) {
    const int port = pick(rng);
    if (bindableLoopbackPort(port)) return port;
  }
  throw std::runtime_error("no free loopback port below the ephemeral range");
}

std::string findEtcd() {
  if (const char* forced = std::getenv("ESETCD_TEST_ETCD"); forced != nullptr && *forced != 0) {
    if (isExecutable(forced)) return forced;
    throw std::runtime_error(std::string("ESETCD_TEST_ETCD=") + forced + " is not executable");
  }
  if (const char* path = std::getenv("PATH"); path != nullptr) {
    std::istringstream entries(path);
    for (std::string entry; std::getline(entries, entry, ':');) {
      if (!entry.empty() && isExecutable(fs::path(entry) / "etcd")) {
        return (fs::path(entry) / "etcd").string();
      }
    }
  }
  if (isExecutable("/usr/bin/etcd")) return "/usr/bin/etcd";
  throw std::runtime_error(
      "etcd binary not found (PATH, /usr/bin/etcd, $ESETCD_TEST_ETCD): the integration tests "
      "need a real etcd; on Debian: apt-get install etcd-server");
}

EtcdVersion etcdVersion() {
  static std::mutex mutex;
  static std::map<std::string, EtcdVersion> known;
  const std::string binary = findEtcd();
  std::lock_guard<std::mutex> lock(mutex);
  if (const auto it = known.find(binary); it != known.end()) return it->second;
  // "etcd Version: 3.6.16" is the first line on every version since 3.0.
  const std::string command = "'" + binary + "' --version 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("cannot run " + binary + " --version");
  std::string output;
  char buffer[256];
  while (std::fgets(buffer, sizeof(buffer), pipe) != nullptr) output += buffer;
  ::pclose(pipe);
  EtcdVersion version;
  char text[32] = {};
  const auto at = output.find("etcd Version: ");
  if (at == std::string::npos || std::sscanf(output.c_str() + at, "etcd Version: %d.%d.%d",
                                             &version.major, &version.minor, &version.patch) != 3) {
    throw std::runtime_error("cannot read the version of " + binary + " from: " + output);
  }
  std::snprintf(text, sizeof(text), "%d.%d.%d", version.major, version.minor, version.patch);
  version.text = text;
  known[binary] = version;
  return version;
}

bool etcdHasV2() {
  const auto version = etcdVersion();
  return version.major == 3 && version.minor <= 5;
}

EtcdServer::EtcdServer(EtcdServerOptions options)
    : options_(std::move(options)),
      failuresAtStart_(failedAssertions),
      uncaughtAtStart_(std::uncaught_exceptions()) {
  findEtcd();  // fail before creating anything
  dir_ = makeTempDir("esetcd-etcd");
  clientPort_ = freeLoopbackPort();
  peerPort_ = freeLoopbackPort();
  start();
}

EtcdServer::~EtcdServer() {
  stop();
  const bool failed =
      failedAssertions > failuresAtStart_ || std::uncaught_exceptions() > uncaughtAtStart_;
  if (failed) {
    std::cerr << "etcd test dir kept: " << dir_ << " (etcd.log inside)\n";
    return;
  }
  std::error_code ignored;
  fs::remove_all(dir_, ignored);
}

std::string EtcdServer::clientUrl() const {
  return loopbackUrl(clientPort_, options_.tls ? "https" : "http");
}

const TlsOptions& EtcdServer::clientTls() const {
  static const TlsOptions none;
  return options_.tls ? options_.tls->client : none;
}

void EtcdServer::start() {
  if (pid_ > 0) return;
  const std::string peerUrl = loopbackUrl(peerPort_);
  std::vector<std::string> args = {findEtcd(),
                                   "--name=test",
                                   "--data-dir=" + dir_ + "/data",
                                   "--listen-client-urls=" + clientUrl(),
                                   "--advertise-client-urls=" + clientUrl(),
                                   "--listen-peer-urls=" + peerUrl,
                                   "--initial-advertise-peer-urls=" + peerUrl,
                                   "--initial-cluster=test=" + peerUrl};
  // 3.6 rejects the flag it removed along with the API.
  if (etcdHasV2())
    args.push_back(std::string("--enable-v2=") + (options_.enableV2 ? "true" : "false"));
  if (options_.tls) {
    args.push_back("--cert-file=" + options_.tls->certFile);
    args.push_back("--key-file=" + options_.tls->keyFile);
    if (!options_.tls->trustedCaFile.empty()) {
      args.push_back("--trusted-ca-file=" + options_.tls->trustedCaFile);
      args.push_back("--client-cert-auth");
    }
  }
  args.insert(args.end(), options_.extraArgs.begin(), options_.extraArgs.end());
  pid_ = spawnEtcd(args, dir_ + "/etcd.log");
  waitHealthy();
}

void EtcdServer::freeze() {
  if (pid_ > 0) ::kill(pid_, SIGSTOP);
}

void EtcdServer::thaw() {
  if (pid_ > 0) ::kill(pid_, SIGCONT);
}

void EtcdServer::stop() {
  if (pid_ <= 0) return;
  thaw();
  ::kill(pid_, SIGTERM);
  if (!waitExit(pid_, std::chrono::seconds(5))) {
    ::kill(pid_, SIGKILL);
    waitExit(pid_, std::chrono::seconds(5));
  }
  pid_ = -1;
}

void EtcdServer::waitHealthy() {
  const auto deadline = Clock::now() + std::chrono::seconds(15);
  while (Clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("etcd exited during start; log " + dir_ + "/etcd.log:\n" +
                               logTail());
    }
    HttpRequest probe;
    probe.url = clientUrl() + "/health";
    probe.timeout = std::chrono::milliseconds(500);
    const auto answer = httpPerform(probe, clientTls());
    if (answer.status == 200 && answer.body.find("\"true\"") != std::string::npos) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  throw std::runtime_error("etcd not healthy within 15 s; log " + dir_ + "/etcd.log:\n" +
                           logTail());
}

std::string EtcdServer::logTail() const {
  const std::string text = readText(dir_ + "/etcd.log");
  return text.size() > 3000 ? text.substr(text.size() - 3000) : text;
}

HttpResponse EtcdServer::request(const std::string& method, const std::string& path,
                                 const std::string& body, const std::string& contentType) const {
  HttpRequest raw;
  raw.method = method;
  raw.url = clientUrl() + path;
  raw.body = body;
  raw.contentType = body.empty() ? std::string() : contentType;
  raw.timeout = std::chrono::seconds(5);
  return httpPerform(raw, clientTls());
}

std::vector<std::string> EtcdServer::keys(const std::string& prefix) const {
  const std::string from = prefix.empty() ? std::string(1, '\0') : prefix;
  const std::string end = prefix.empty() ? std::string(1, '\0') : codec::prefixRangeEnd(prefix);
  const auto body = nlohmann::json{{"key", codec::base64Encode(from)},
                                   {"range_end", codec::base64Encode(end)},
                                   {"keys_only", true}};
  const auto doc =
      nlohmann::json::parse(request("POST", "/v3/kv/range", body.dump()).body, nullptr, false);
  std::vector<std::string> found;
  if (!doc.is_object()) return found;
  for (const auto& kv : doc.value("kvs", nlohmann::json::array()))
    found.push_back(codec::base64Decode(kv["key"].get<std::string>()).value_or("?"));
  return found;
}

EtcdServerOptions jwtServerOptions(const std::string& dir) {
  const std::string key = dir + "/jwt.key";
  const std::string pub = dir + "/jwt.pub";
  const std::string make = "openssl genrsa -out '" + key +
                           "' 2048 2>/dev/null && openssl rsa -in '" + key + "' -pubout -out '" +
                           pub + "' 2>/dev/null";
  if (std::system(make.c_str()) != 0) throw std::runtime_error("openssl could not make " + key);
  EtcdServerOptions options;
  options.extraArgs = {"--auth-token=jwt,pub-key=" + pub + ",priv-key=" + key +
                       ",sign-method=RS256,ttl=10m"};
  return options;
}

EtcdCluster::EtcdCluster(int size)
    : failuresAtStart_(failedAssertions), uncaughtAtStart_(std::uncaught_exceptions()) {
  findEtcd();
  dir_ = makeTempDir("esetcd-cluster");
  for (int i = 0; i < size; ++i) {
    Member member;
    member.name = "member-" + std::to_string(i);
    member.clientPort = freeLoopbackPort();
    member.peerPort = freeLoopbackPort();
    initialCluster_ += (i == 0 ? "" : ",") + member.name + "=" + loopbackUrl(member.peerPort);
    members_.push_back(member);
  }
  // All at once: no member reports healthy before a quorum has elected a leader.
  for (int i = 0; i < size; ++i) spawn(i, "new");
  for (int i = 0; i < size; ++i) waitHealthy(i);
}

EtcdCluster::~EtcdCluster() {
  for (auto& member : members_) {
    if (member.pid <= 0) continue;
    if (member.frozen) ::kill(member.pid, SIGCONT);
    ::kill(member.pid, SIGTERM);
  }
  for (auto& member : members_) {
    if (member.pid <= 0) continue;
    if (!waitExit(member.pid, std::chrono::seconds(5))) {
      ::kill(member.pid, SIGKILL);
      waitExit(member.pid, std::chrono::seconds(5));
    }
    member.pid = -1;
  }
  if (failedAssertions > failuresAtStart_ || std::uncaught_exceptions() > uncaughtAtStart_) {
    std::cerr << "etcd cluster dir kept: " << dir_ << " (member-N/etcd.log inside)\n";
    return;
  }
  std::error_code ignored;
  fs::remove_all(dir_, ignored);
}

std::string EtcdCluster::clientUrl(int member) const {
  return loopbackUrl(members_.at(member).clientPort);
}

void EtcdCluster::spawn(int index, const std::string& clusterState) {
  Member& member = members_.at(index);
  const std::string memberDir = dir_ + "/" + member.name;
  fs::create_directories(memberDir);
  const std::string peerUrl = loopbackUrl(member.peerPort);
  // The data dir decides on a restart; the initial-cluster flags only count the first time.
  const std::vector<std::string> args = {findEtcd(),
                                         "--name=" + member.name,
                                         "--data-dir=" + memberDir + "/data",
                                         "--listen-client-urls=" + clientUrl(index),
                                         "--advertise-client-urls=" + clientUrl(index),
                                         "--listen-peer-urls=" + peerUrl,
                                         "--initial-advertise-peer-urls=" + peerUrl,
                                         "--initial-cluster=" + initialCluster_,
                                         "--initial-cluster-state=" + clusterState,
                                         "--initial-cluster-token=esetcd-test"};
  member.pid = spawnEtcd(args, memberDir + "/etcd.log");
  member.frozen = false;
}

void EtcdCluster::waitHealthy(int index) {
  Member& member = members_.at(index);
  const auto deadline = Clock::now() + std::chrono::seconds(20);
  while (Clock::now() < deadline) {
    int status = 0;
    if (::waitpid(member.pid, &status, WNOHANG) == member.pid) {
      member.pid = -1;
      throw std::runtime_error(member.name + " exited during start; its log:\n" + logTail(index));
    }
    HttpRequest probe;
    probe.url = clientUrl(index) + "/health";
    probe.timeout = std::chrono::milliseconds(500);
    const auto answer = httpPerform(probe, TlsOptions{});
    if (answer.status == 200 && answer.body.find("\"true\"") != std::string::npos) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  throw std::runtime_error(member.name + " not healthy within 20 s; its log:\n" + logTail(index));
}

std::string EtcdCluster::logTail(int index) const {
  const std::string text = readText(dir_ + "/" + members_.at(index).name + "/etcd.log");
  return text.size() > 3000 ? text.substr(text.size() - 3000) : text;
}

int EtcdCluster::leader() const {
  // Member ids are uint64 sent as JSON strings: compared as text, never as numbers.
  std::map<std::string, int> byId;
  std::string leaderId;
  for (int i = 0; i < size(); ++i) {
    if (members_[i].pid <= 0 || members_[i].frozen) continue;
    const auto answer = requestTo(i, "POST", "/v3/maintenance/status", "{}");
    if (answer.status != 200) continue;
    const auto doc = nlohmann::json::parse(answer.body, nullptr, false);
    if (doc.is_discarded() || !doc.contains("header")) continue;
    byId[doc["header"].value("member_id", "")] = i;
    if (leaderId.empty()) leaderId = doc.value("leader", "");
  }
  const auto it = byId.find(leaderId);
  return it == byId.end() ? -1 : it->second;
}

void EtcdCluster::kill(int index) {
  Member& member = members_.at(index);
  if (member.pid <= 0) return;
  ::kill(member.pid, SIGKILL);
  waitExit(member.pid, std::chrono::seconds(5));
  member.pid = -1;
  member.frozen = false;
}

void EtcdCluster::freeze(int index) {
  Member& member = members_.at(index);
  if (member.pid <= 0) return;
  ::kill(member.pid, SIGSTOP);
  member.frozen = true;
}

void EtcdCluster::thaw(int index) {
  Member& member = members_.at(index);
  if (member.pid <= 0) return;
  ::kill(member.pid, SIGCONT);
  member.frozen = false;
}

void EtcdCluster::start(int index) {
  if (members_.at(index).pid > 0) return;
  spawn(index, "existing");
  waitHealthy(index);
}

HttpResponse EtcdCluster::requestTo(int index, const std::string& method, const std::string& path,
                                    const std::string& body) const {
  HttpRequest raw;
  raw.method = method;
  raw.url = clientUrl(index) + path;
  raw.body = body;
  raw.contentType = body.empty() ? std::string() : "application/json";
  raw.timeout = std::chrono::seconds(2);
  return httpPerform(raw, TlsOptions{});
}

HttpResponse EtcdCluster::request(const std::string& method, const std::string& path,
                                  const std::string& body) const {
  HttpResponse answer;
  for (int i = 0; i < size(); ++i) {
    if (members_[i].pid <= 0 || members_[i].frozen) continue;
    answer = requestTo(i, method, path, body);
    if (answer.status != 0) return answer;
  }
  return answer;
}

BlackHole::BlackHole() {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::runtime_error("socket failed");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  // Listening without ever calling accept(): connections complete into the backlog (and later
  // SYNs are dropped once it is full), so a client connects, sends, and waits for an answer.
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      ::listen(fd_, 64) != 0 ||
      ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    ::close(fd_);
    throw std::runtime_error("cannot listen on a loopback port");
  }
  port_ = ntohs(address.sin_port);
}

BlackHole::~BlackHole() {
  ::close(fd_);
}

std::string BlackHole::url() const {
  return loopbackUrl(port_);
}

}  // namespace esetcd::testing

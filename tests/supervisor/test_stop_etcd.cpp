// PID 1 never waits on etcd: the real binary as PID 1 of a PID namespace, against a real etcd
// that the test freezes (SIGSTOP: connections are accepted, nothing is answered) and endpoints
// that black-hole (a listening socket that never accepts). Each case measures what a user sees
// (a signal reaching the command, the command starting, a zombie going) and asserts the bound;
// where tini has the same case, it runs too and both times are printed.
//
// Signals reach the test the dumb-init way: the command records each one on a FIFO and the test
// blocks on reading it. Preconditions may wait a moment; no sleep decides a result.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <optional>
#include <thread>

#include "etcd_server.hpp"
#include "harness.hpp"

using esetcd::testing::EtcdServer;
using esetcd::testing::freeLoopbackPort;
using namespace sup_test;
using Clock = std::chrono::steady_clock;

namespace {

const std::string kPrefix = "/services/elasticsearch";

long msSince(Clock::time_point start) {
  return static_cast<long>(
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count());
}

// The entrypoint's discovery settings for a node whose files live in `dir`.
std::vector<std::string> nodeEnv(const TempDir& dir, const std::string& endpoints, int httpPort) {
  return {"DISCOVERY=on",
          "ETCD_ENDPOINTS=" + endpoints,
          "ETCD_API=v3",
          "ETCD_TTL=10",
          "ETCD_TIMEOUT=2s",
          "ES_VERSION=8.15.0",
          "ES_NODE_NAME=node-a",
          "ES_PUBLISH_HOST=127.0.0.11",
          "ES_HTTP_PORT=" + std::to_string(httpPort),
          "ES_PATH_CONF=" + dir.path(),
          "ES_PATH_DATA=" + dir.file("data"),
          "STATE_DIR=" + dir.path(),
          "ES_PASS_SETTINGS=never",
          "ES_BOOTSTRAP_EXPECT=1",
          "HEALTH_INTERVAL=200ms",
          "HEALTH_TIMEOUT=150ms",
          "LOG_LEVEL=debug"};
}

// A healthy stand-in node in the background (it answers the health probe) and, in the
// foreground, the probe that records signals on `fifo`: Elasticsearch as far as PID 1 can tell.
std::vector<std::string> healthyRecorder(int httpPort, const std::string& state,
                                         const std::string& fifo, const std::string& ready,
                                         const std::string& extra = "") {
  writeFile(state, "healthy\n");
  return {"/bin/sh", "-c",
          std::string(STANDIN_PATH) + " " + std::to_string(httpPort) + " " + state + " & exec " +
              CHILD_PROBE_PATH + " " + extra + " record " + fifo + " touch " + ready +
              " wait-file " + ready + ".stop 60000"};
}

std::string tiniPath() {
  for (const char* candidate : {"/usr/bin/tini", "/bin/tini", "/usr/local/bin/tini"})
    if (access(candidate, X_OK) == 0) return candidate;
  FAIL("tini is not installed (Debian: apt-get install tini); these tests compare with it");
  return "";
}

// `init` ("--" added) running `command`, as PID 1 of a new PID namespace.
Running startInit(std::vector<std::string> init, const std::vector<std::string>& command,
                  const LaunchOptions& options) {
  init.push_back("--");
  init.insert(init.end(), command.begin(), command.end());
  return launch(inPidNamespace(init), options);
}

// One node under test: its files, the FIFO its command reports signals on, and the
// entrypoint as PID 1 of a namespace, once start() ran.
struct Node {
  explicit Node(const std::string& endpoints)
      : port(freeLoopbackPort()), signals(dir.file("signals")) {
    options.output = dir.file("init.log");
    options.env = nodeEnv(dir, endpoints, port);
  }

  // `probeArgs` go in front of the recording (e.g. "ignore TERM").
  void start(const std::string& probeArgs = "") {
    running.emplace(startInit(
        {ENTRYPOINT_PATH},
        healthyRecorder(port, dir.file("state"), signals.path(), dir.file("ready"), probeArgs),
        options));
  }
  pid_t init() { return initHostPid(*running, Millis(10000)); }
  bool commandReady(Millis timeout) {
    return waitUntil([&] { return fileExists(dir.file("ready")); }, timeout);
  }
  bool logHas(const std::string& text) const {
    return readFile(dir.file("init.log")).find(text) != std::string::npos;
  }
  void finish() {
    writeFile(dir.file("ready.stop"), "");
    running->waitExit(Millis(10000));
  }

  TempDir dir;
  int port;
  SignalPipe signals;
  LaunchOptions options;
  std::optional<Running> running;
};

}  // namespace

TEST_CASE(
    "TERM reaches the command within 1.5 s with three frozen endpoints and a refresh in "
    "flight") {
  requirePidNamespaces();
  EtcdServer etcd;
  BlackHole second, third;
  Node node(etcd.clientUrl() + "," + second.url() + "," + third.url());
  INFO("temp dir " << node.dir.path());
  node.start();
  const pid_t init = node.init();
  REQUIRE(node.commandReady(Millis(10000)));
  REQUIRE(waitUntil([&] { return etcd.keys(kPrefix + "/").size() == 1; }, Millis(10000)));

  // Every endpoint stops answering; within one HEALTH_INTERVAL a refresh is on its way into it
  // and holds the registrar (3 endpoints x ETCD_TIMEOUT 2 s).
  etcd.freeze();
  std::this_thread::sleep_for(Millis(600));  // precondition only: a refresh now hangs
  const auto sent = Clock::now();
  REQUIRE(kill(init, SIGTERM) == 0);
  const auto first = node.signals.next(Millis(20000));
  const long took = msSince(sent);
  WARN("es-etcd-entrypoint: TERM reached the command " << took << " ms after it was sent");
  REQUIRE(first == std::optional<std::string>("TERM"));
  CHECK(took < 1500);
  node.finish();
  etcd.thaw();

  // tini with the same command: it has no etcd to wait for and forwards at once.
  TempDir dir;
  SignalPipe tiniSignals(dir.file("signals"));
  LaunchOptions options;
  options.output = dir.file("tini.log");
  Running tini = startInit(
      {tiniPath()},
      healthyRecorder(freeLoopbackPort(), dir.file("state"), tiniSignals.path(), dir.file("ready")),
      options);
  const pid_t tiniInit = initHostPid(tini, Millis(10000));
  REQUIRE(waitUntil([&] { return fileExists(dir.file("ready")); }, Millis(10000)));
  const auto tiniSent = Clock::now();
  REQUIRE(kill(tiniInit, SIGTERM) == 0);
  REQUIRE(tiniSignals.next(Millis(5000)) == std::optional<std::string>("TERM"));
  WARN("tini: TERM reached the command " << msSince(tiniSent) << " ms after it was sent");
  writeFile(dir.file("ready.stop"), "");
  tini.waitExit(Millis(10000));
}

TEST_CASE("a command that ignores TERM is killed STOP_GRACE after the signal, etcd frozen") {
  requirePidNamespaces();
  EtcdServer etcd;
  Node node(etcd.clientUrl());
  INFO("temp dir " << node.dir.path());
  node.options.env.push_back("STOP_GRACE=2s");
  node.start("ignore TERM");
  const pid_t init = node.init();
  REQUIRE(node.commandReady(Millis(10000)));
  REQUIRE(waitUntil([&] { return etcd.keys(kPrefix + "/").size() == 1; }, Millis(10000)));
  etcd.freeze();
  std::this_thread::sleep_for(Millis(600));  // precondition only: a refresh now hangs
  const auto sent = Clock::now();
  REQUIRE(kill(init, SIGTERM) == 0);
  const auto code = node.running->waitExit(Millis(30000));
  const long took = msSince(sent);
  etcd.thaw();
  WARN("es-etcd-entrypoint: a TERM-ignoring command was killed "
       << took << " ms after TERM (STOP_GRACE 2 s)");
  CHECK(code == 128 + SIGKILL);
  CHECK(took >= 2000);
  CHECK(took < 3000 + 1000);  // STOP_DEREGISTER_TIMEOUT + STOP_GRACE, plus 1 s
  CHECK(node.logHas("did not stop within STOP_GRACE"));
}

TEST_CASE("TERM during a start-up read ends the start at once: 143, no command, nothing written") {
  requirePidNamespaces();
  EtcdServer etcd;
  Node node(etcd.clientUrl());
  INFO("temp dir " << node.dir.path());
  node.options.env.push_back("ETCD_START_TIMEOUT=60s");
  node.options.env.push_back("ETCD_TIMEOUT=8s");
  etcd.freeze();  // the first listing hangs
  node.start();
  const pid_t init = node.init();
  // The start logs the node's roles right before its first etcd request.
  REQUIRE(waitUntil([&] { return node.logHas("roles:"); }, Millis(10000)));
  std::this_thread::sleep_for(Millis(200));  // precondition only: the request is in flight
  const auto sent = Clock::now();
  REQUIRE(kill(init, SIGTERM) == 0);
  const auto code = node.running->waitExit(Millis(30000));
  const long took = msSince(sent);
  WARN("es-etcd-entrypoint: TERM during a start-up read ended it after " << took << " ms");
  CHECK(code == 143);
  CHECK(took < 1000);
  CHECK_FALSE(node.commandReady(Millis(0)));  // the command never ran
  CHECK_FALSE(node.logHas("started "));
  etcd.thaw();
  CHECK(etcd.keys().empty());  // no announcement, no decision, nothing
}

TEST_CASE("ETCD_START_TIMEOUT is a hard bound: three black-holed endpoints, 1 s") {
  requirePidNamespaces();
  BlackHole a, b, c;
  Node node(a.url() + "," + b.url() + "," + c.url());
  INFO("temp dir " << node.dir.path());
  node.options.env.push_back("ETCD_START_TIMEOUT=1s");
  const auto launched = Clock::now();
  node.start();
  REQUIRE(node.commandReady(Millis(20000)));
  const long took = msSince(launched);
  WARN("es-etcd-entrypoint: the command started " << took
                                                  << " ms after launch (ETCD_START_TIMEOUT 1 s, "
                                                     "3 endpoints x ETCD_TIMEOUT 2 s)");
  CHECK(took < 1500);
  node.finish();
}

TEST_CASE("a zombie left under PID 1 during start-up is reaped within 1 s") {
  requirePidNamespaces();
  EtcdServer etcd;
  Node node(etcd.clientUrl());
  INFO("temp dir " << node.dir.path());
  node.options.env.push_back("ETCD_START_TIMEOUT=60s");
  node.options.env.push_back("ETCD_TIMEOUT=8s");
  etcd.freeze();  // the start waits in its first listing
  node.start();
  const pid_t init = node.init();
  REQUIRE(waitUntil([&] { return node.logHas("roles:"); }, Millis(10000)));
  // A process in the namespace leaves an orphan that exits at once: PID 1 inherits a zombie.
  Running orphanMaker =
      launch({"nsenter", "-t", std::to_string(init), "-p", "--", "/bin/sh", "-c", "true & exit 0"});
  REQUIRE(orphanMaker.waitExit(Millis(5000)) == 0);
  const auto left = Clock::now();
  auto zombies = [&] {
    int count = 0;
    for (pid_t child : childrenOf(init))
      if (procStatusField(child, "State").rfind("Z", 0) == 0) ++count;
    return count;
  };
  const bool reaped = waitUntil([&] { return zombies() == 0; }, Millis(1000));
  WARN("es-etcd-entrypoint: zombie under PID 1 during start-up gone after " << msSince(left)
                                                                            << " ms");
  CHECK(reaped);
  CHECK_FALSE(node.commandReady(Millis(0)));  // still starting: the reaping was the guard's
  REQUIRE(kill(init, SIGTERM) == 0);
  CHECK(node.running->waitExit(Millis(5000)) == 143);
  etcd.thaw();
}

TEST_CASE("PID 1's own SIGPIPE (stderr without a reader) is never forwarded") {
  requirePidNamespaces();
  TempDir dir;
  INFO("temp dir " << dir.path());
  for (const std::string& which : {std::string("es-etcd-entrypoint"), std::string("tini")}) {
    SignalPipe signals(dir.file(which + ".signals"));
    LaunchOptions options;
    options.output = dir.file(which + ".log");
    options.brokenStderr = true;
    options.env = {"DISCOVERY=off", "LOG_LEVEL=debug"};
    const std::vector<std::string> probe = {CHILD_PROBE_PATH,
                                            "record",
                                            signals.path(),
                                            "touch",
                                            dir.file(which + ".ready"),
                                            "wait-file",
                                            dir.file(which + ".stop"),
                                            "20000"};
    Running node = startInit(which == "tini" ? std::vector<std::string>{tiniPath(), "-v"}
                                             : std::vector<std::string>{ENTRYPOINT_PATH},
                             probe, options);
    const pid_t init = initHostPid(node, Millis(10000));
    REQUIRE(waitUntil([&] { return fileExists(dir.file(which + ".ready")); }, Millis(10000)));
    // The init has written to its broken stderr by now ("started ..."); a forwarded signal
    // makes it write again, and is the marker that everything before it arrived.
    REQUIRE(kill(init, SIGUSR1) == 0);
    const auto first = signals.next(Millis(5000));
    WARN(which << ": first signal the command saw: " << first.value_or("none"));
    CHECK(first == std::optional<std::string>("USR1"));
    writeFile(dir.file(which + ".stop"), "");
    const auto code = node.waitExit(Millis(10000));
    WARN(which << ": exit " << (code ? std::to_string(*code) : std::string("none")));
    CHECK(code == 0);
  }
}

TEST_CASE("a black-holed first endpoint costs one timeout per process, not per connection") {
  requirePidNamespaces();
  EtcdServer etcd;
  BlackHole hole;
  Node node(hole.url() + "," + etcd.clientUrl());
  INFO("temp dir " << node.dir.path());
  node.options.env.push_back("ETCD_TIMEOUT=1s");
  const auto launched = Clock::now();
  node.start();
  REQUIRE(waitUntil([&] { return etcd.keys(kPrefix + "/").size() == 1; }, Millis(20000)));
  const long took = msSince(launched);
  WARN("es-etcd-entrypoint: registered " << took
                                         << " ms after launch with a black-holed first endpoint "
                                            "(ETCD_TIMEOUT 1 s)");
  // One timeout (the first listing) plus the start and a couple of probes; a timeout per
  // connection (listing, registration, watch) would be 3 s and more.
  CHECK(took < 1000 + 1200);
  node.finish();
}

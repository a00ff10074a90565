// What the start does without a thread of its own before the exec: the start guard takes stop
// signals and reaps orphans from a signalfd that the start's own waits watch, an etcd request of
// the start ends at once on a stop signal and, when it is slow, runs the work a quick start puts
// off (serving /status), and the status listener starts its threads only when it is served. Each
// case runs in a forked copy of the test runner (runIsolated): it blocks signals, reaps with
// waitpid(-1), and counts its own threads.
#include <catch2/catch.hpp>

#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "harness.hpp"
#include "http.hpp"
#include "startup.hpp"
#include "status_server.hpp"
#include "supervisor.hpp"

using namespace sup_test;
using Clock = std::chrono::steady_clock;

namespace {

int threadCount() {
  int count = 0;
  if (DIR* dir = opendir("/proc/self/task")) {
    while (dirent* entry = readdir(dir))
      if (entry->d_name[0] != '.') ++count;
    closedir(dir);
  }
  return count;
}

// Waits (bounded) for `fd` to become readable: the event the guard's users wait for.
bool readable(int fd, int timeoutMs = 5000) {
  pollfd p{fd, POLLIN, 0};
  return poll(&p, 1, timeoutMs) == 1;
}

long msSince(Clock::time_point start) {
  return static_cast<long>(
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count());
}

}  // namespace

TEST_CASE("the start guard takes stop signals and reaps orphans without a thread of its own") {
  const Report report = runIsolated([](Report& out) {
    esetcd::blockAsyncSignals();
    const int before = threadCount();
    esetcd::StartGuard guard;
    out["threads added"] = std::to_string(threadCount() - before);
    out["fd"] = guard.fd() >= 0 ? "yes" : "no";
    // An orphan's exit: SIGCHLD makes the fd readable, taking it reaps.
    const pid_t orphan = fork();
    if (orphan == 0) _exit(0);
    out["chld readable"] = readable(guard.fd()) ? "yes" : "no";
    guard.takeSignals();
    out["reaped"] = std::to_string(guard.reapedCount());
    out["stop before TERM"] = std::to_string(guard.stopSignal());
    kill(getpid(), SIGTERM);
    out["term readable"] = readable(guard.fd()) ? "yes" : "no";
    out["stop"] = std::to_string(guard.stopSignal());
    out["abort"] = guard.abortFlag()->load() ? "raised" : "down";
    // A second stop signal is taken but the first one stays the answer.
    kill(getpid(), SIGINT);
    out["sleep"] = std::to_string(guard.sleep(Millis(5000)));
    guard.stop();
    out["after stop"] = std::to_string(guard.stopSignal());
  });
  CHECK(report.at("threads added") == "0");
  CHECK(report.at("fd") == "yes");
  CHECK(report.at("chld readable") == "yes");
  CHECK(report.at("reaped") == "1");
  CHECK(report.at("stop before TERM") == "0");
  CHECK(report.at("term readable") == "yes");
  CHECK(report.at("stop") == std::to_string(SIGTERM));
  CHECK(report.at("abort") == "raised");
  CHECK(report.at("sleep") == std::to_string(SIGTERM));
  CHECK(report.at("after stop") == std::to_string(SIGTERM));
}

TEST_CASE("a sleep of the start guard ends on a stop signal, and a signal after stop() waits") {
  const Report report = runIsolated([](Report& out) {
    esetcd::blockAsyncSignals();
    esetcd::StartGuard guard;
    out["quiet sleep"] = std::to_string(guard.sleep(Millis(50)));
    guard.stop();
    kill(getpid(), SIGTERM);
    out["after stop"] = std::to_string(guard.stopSignal());
    // Still pending, for the Supervisor: nobody took it.
    sigset_t pending;
    sigpending(&pending);
    out["pending"] = sigismember(&pending, SIGTERM) == 1 ? "yes" : "no";
  });
  CHECK(report.at("quiet sleep") == "0");
  CHECK(report.at("after stop") == "0");
  CHECK(report.at("pending") == "yes");
}

TEST_CASE("a hung request of the start runs the deferred work at 100 ms and ends on TERM") {
  const Report report = runIsolated([](Report& out) {
    esetcd::blockAsyncSignals();
    esetcd::httpGlobalInit();
    BlackHole etcd;
    esetcd::StartGuard guard;
    esetcd::useStartGuard(&guard);
    const auto started = Clock::now();
    std::atomic<long> deferredAt{-1};
    esetcd::beforeTheStartWaits([&] { deferredAt = msSince(started); });
    // The signal follows the event it depends on (the deferred work ran), from another thread:
    // a process-directed TERM, as `docker stop` sends it.
    std::thread stopper([&] {
      while (deferredAt.load() < 0 && msSince(started) < 8000) std::this_thread::yield();
      kill(getpid(), SIGTERM);
    });
    esetcd::HttpRequest request;
    request.method = "POST";
    request.url = etcd.url() + "/v3/kv/range";
    request.body = "{}";
    request.timeout = Millis(10000);
    const esetcd::HttpResponse response = esetcd::httpPerform(request, {}, guard.abortFlag());
    const long ended = msSince(started);
    stopper.join();
    esetcd::useStartGuard(nullptr);
    out["outcome"] = response.outcome == esetcd::HttpOutcome::Aborted ? "aborted" : "other";
    out["deferred at"] = std::to_string(deferredAt.load());
    out["ended"] = std::to_string(ended);
    out["stop"] = std::to_string(guard.stopSignal());
  });
  WARN("deferred work ran " << report.at("deferred at") << " ms into a hung request; TERM ended it "
                            << report.at("ended") << " ms after it began (timeout 10 s)");
  CHECK(report.at("outcome") == "aborted");
  CHECK(report.at("stop") == std::to_string(SIGTERM));
  CHECK(std::stol(report.at("deferred at")) >= 100);
  CHECK(std::stol(report.at("deferred at")) < 1000);
  CHECK(std::stol(report.at("ended")) < 2000);
}

TEST_CASE("the status listener takes connections at listen() and starts its threads at serve()") {
  const Report report = runIsolated([](Report& out) {
    esetcd::blockAsyncSignals();
    esetcd::httpGlobalInit();
    const int before = threadCount();
    esetcd::StatusServer server;
    auto listening = server.listen("127.0.0.1", 0, false);
    out["listening"] = listening ? "yes" : listening.error().message;
    out["threads at listen"] = std::to_string(threadCount() - before);
    auto served = server.serve();
    out["served"] = served ? "yes" : served.error().message;
    out["threads at serve"] = std::to_string(threadCount() - before);
  });
  CHECK(report.at("listening") == "yes");
  CHECK(report.at("threads at listen") == "0");
  CHECK(report.at("served") == "yes");
  CHECK(std::stoi(report.at("threads at serve")) >= 1);
}

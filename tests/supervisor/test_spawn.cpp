// The supervisor API in-process: spawnChild's lookup, environment and error reporting, and
// Supervisor::wait's event rules. Each case runs in a forked copy of the test runner (runIsolated)
// because it blocks signals and reaps with waitpid(-1).
#include <catch2/catch.hpp>

#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include "harness.hpp"
#include "supervisor.hpp"

using namespace sup_test;
using esetcd::SupervisorEvent;

namespace {

std::string probeDir() {
  return probePath().substr(0, probePath().rfind('/'));
}
std::string probeName() {
  return probePath().substr(probePath().rfind('/') + 1);
}

// Waits (bounded) for the main child to exit; returns its raw status or -1.
int waitForExit(esetcd::Supervisor& supervisor, Millis timeout = Millis(5000)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    const SupervisorEvent event = supervisor.wait(Millis(100));
    if (event.type == SupervisorEvent::Type::ChildExited) return event.status;
  }
  return -1;
}

void spawnAndWait(const esetcd::SpawnSpec& spec, Report& out) {
  const esetcd::Result<pid_t> child = esetcd::spawnChild(spec);
  if (!child) {
    out["error"] = std::to_string(child.error().code);
    out["message"] = child.error().message;
    return;
  }
  esetcd::Supervisor supervisor(*child);
  const int status = waitForExit(supervisor);
  out["code"] = std::to_string(status < 0 ? -1 : esetcd::exitCodeForWaitStatus(status));
}

std::string errnoText(int err) {
  return std::to_string(err);
}

}  // namespace

TEST_CASE("the PATH lookup uses the child's environment, not ours") {
  const Report report = runIsolated([](Report& out) {
    esetcd::blockAsyncSignals();
    // Our own PATH could find the probe; the child's cannot ...
    setenv("PATH", probeDir().c_str(), 1);
    esetcd::SpawnSpec spec;
    spec.argv = {probeName(), "exit", "42"};
    spec.env = {"PATH=/nonexistent"};
    Report missing;
    spawnAndWait(spec, missing);
    out["missing.error"] = missing["error"];
    // ... and the other way round.
    setenv("PATH", "/nonexistent", 1);
    spec.env = {"PATH=/nonexistent:" + probeDir()};
    Report found;
    spawnAndWait(spec, found);
    out["found.code"] = found["code"];
    out["found.error"] = found["error"];
  });
  CHECK(report.at("missing.error") == errnoText(ENOENT));
  CHECK(report.at("found.error").empty());
  CHECK(report.at("found.code") == "42");
}

TEST_CASE("exec failures come back from spawnChild with their errno") {
  TempDir dir;
  writeFile(dir.file("plain"), "#!/bin/sh\nexit 0\n", 0644);
  const Report report = runIsolated([&](Report& out) {
    esetcd::blockAsyncSignals();
    esetcd::SpawnSpec spec;
    spec.env = {"PATH=/nonexistent:" + dir.path()};
    const auto errorOf = [&](const std::vector<std::string>& argv) {
      spec.argv = argv;
      const esetcd::Result<pid_t> child = esetcd::spawnChild(spec);
      return child ? std::string("started") : std::to_string(child.error().code);
    };
    out["missing path"] = errorOf({dir.file("missing")});
    out["missing name"] = errorOf({"missing"});
    out["not executable path"] = errorOf({dir.file("plain")});
    // Like execvp: a non-executable match is the answer only when nothing else is found.
    out["not executable name"] = errorOf({"plain"});
    out["directory"] = errorOf({dir.path()});
    out["empty"] = errorOf({});
    spec.argv = {probePath(), "exit", "0"};
    spec.workDir = dir.file("missing-dir");
    const esetcd::Result<pid_t> child = esetcd::spawnChild(spec);
    out["chdir"] = child ? "started" : std::to_string(child.error().code);
    out["chdir message"] = child ? "" : child.error().message;
  });
  CHECK(report.at("missing path") == errnoText(ENOENT));
  CHECK(report.at("missing name") == errnoText(ENOENT));
  CHECK(report.at("not executable path") == errnoText(EACCES));
  CHECK(report.at("not executable name") == errnoText(EACCES));
  CHECK(report.at("directory") == errnoText(EACCES));
  CHECK(report.at("empty") == errnoText(EINVAL));
  CHECK(report.at("chdir") == errnoText(ENOENT));
  CHECK(report.at("chdir message").find("chdir " + dir.file("missing-dir")) != std::string::npos);
}

TEST_CASE("a script without #! runs under /bin/sh, as with execvp") {
  TempDir dir;
  writeFile(dir.file("script"), "exit 7\n", 0755);
  const Report report = runIsolated([&](Report& out) {
    esetcd::blockAsyncSignals();
    esetcd::SpawnSpec spec;
    spec.argv = {dir.file("script")};
    spawnAndWait(spec, out);
  });
  CHECK(report.count("error") == 0);
  CHECK(report.at("code") == "7");
}

TEST_CASE("the child gets exactly the given environment and working directory") {
  TempDir dir;
  const Report report = runIsolated([&](Report& out) {
    esetcd::blockAsyncSignals();
    setenv("PROBE_MARK", "from-parent", 1);
    esetcd::SpawnSpec spec;
    spec.argv = {probePath(), "report", dir.file("report")};
    spec.env = {"PROBE_MARK=given"};
    spec.workDir = dir.path();
    spawnAndWait(spec, out);
  });
  CHECK(report.at("code") == "0");
  const Report child = readReport(dir.file("report"));
  CHECK(child.at("mark") == "given");
  CHECK(child.at("path") == "(unset)");
  CHECK(child.at("cwd") == dir.path());
}

TEST_CASE("wait() times out quietly, reports other signals, and never reports SIGCHLD") {
  const Report report = runIsolated([](Report& out) {
    esetcd::blockAsyncSignals();
    esetcd::SpawnSpec spec;
    spec.argv = {probePath(), "sleep", "3000"};
    const esetcd::Result<pid_t> child = esetcd::spawnChild(spec);
    if (!child) throw std::runtime_error(child.error().message);
    esetcd::Supervisor supervisor(*child);

    auto started = std::chrono::steady_clock::now();
    SupervisorEvent event = supervisor.wait(Millis(200));
    out["idle.type"] = std::to_string(static_cast<int>(event.type));
    out["idle.ms"] = std::to_string(
        std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now() - started).count());

    // Another child of ours exits: its SIGCHLD arrives, it is reaped, nothing is reported.
    const pid_t other = fork();
    if (other == 0) _exit(3);
    started = std::chrono::steady_clock::now();
    event = supervisor.wait(Millis(300));
    out["sigchld.type"] = std::to_string(static_cast<int>(event.type));
    out["sigchld.ms"] = std::to_string(
        std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now() - started).count());
    out["sigchld.reaped"] = kill(other, 0) != 0 && errno == ESRCH ? "yes" : "no";

    kill(getpid(), SIGUSR1);
    event = supervisor.wait(Millis(1000));
    out["usr1.type"] = std::to_string(static_cast<int>(event.type));
    out["usr1.signal"] = std::to_string(event.signal);

    supervisor.killGroup();
    out["exit.status"] = std::to_string(waitForExit(supervisor));
  });
  const auto type = [](SupervisorEvent::Type t) { return std::to_string(static_cast<int>(t)); };
  CHECK(report.at("idle.type") == type(SupervisorEvent::Type::Timeout));
  CHECK(std::stol(report.at("idle.ms")) >= 190);
  CHECK(std::stol(report.at("idle.ms")) < 1500);
  CHECK(report.at("sigchld.type") == type(SupervisorEvent::Type::Timeout));
  // The SIGCHLD did not cut the wait short.
  CHECK(std::stol(report.at("sigchld.ms")) >= 290);
  CHECK(report.at("sigchld.reaped") == "yes");
  CHECK(report.at("usr1.type") == type(SupervisorEvent::Type::Signal));
  CHECK(report.at("usr1.signal") == std::to_string(SIGUSR1));
  CHECK(report.at("exit.status") == std::to_string(SIGKILL));  // raw status: killed by 9
}

TEST_CASE("wait() reports the main child's exit before a pending signal") {
  const Report report = runIsolated([](Report& out) {
    esetcd::blockAsyncSignals();
    esetcd::SpawnSpec spec;
    spec.argv = {probePath(), "exit", "5"};
    const esetcd::Result<pid_t> child = esetcd::spawnChild(spec);
    if (!child) throw std::runtime_error(child.error().message);
    // Both at once: the child is a zombie and a TERM is pending.
    waitUntil(
        [&] {
          siginfo_t info{};
          return waitid(P_PID, *child, &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
                 info.si_pid == *child;
        },
        Millis(5000));
    kill(getpid(), SIGTERM);
    esetcd::Supervisor supervisor(*child);
    const SupervisorEvent event = supervisor.wait(Millis(1000));
    out["type"] = std::to_string(static_cast<int>(event.type));
    out["code"] = std::to_string(esetcd::exitCodeForWaitStatus(event.status));
    sigset_t pending;
    sigpending(&pending);
    out["term still pending"] = sigismember(&pending, SIGTERM) ? "yes" : "no";
    // Later calls keep answering ChildExited.
    out["again"] = std::to_string(static_cast<int>(supervisor.wait(Millis(0)).type));
    out["exited"] = supervisor.childExited() ? "yes" : "no";
  });
  const std::string exited = std::to_string(static_cast<int>(SupervisorEvent::Type::ChildExited));
  CHECK(report.at("type") == exited);
  CHECK(report.at("code") == "5");
  CHECK(report.at("term still pending") == "yes");
  CHECK(report.at("again") == exited);
  CHECK(report.at("exited") == "yes");
}

TEST_CASE("wait() never reports a signal once the main child is gone") {
  // The child signals us and exits at once, so both often land in the same sigtimedwait round;
  // which one wakes us first is up to the scheduler, the answer must not be.
  const Report report = runIsolated([](Report& out) {
    esetcd::blockAsyncSignals();
    int violations = 0;
    int bothInOneRound = 0;
    for (int round = 0; round < 30; ++round) {
      esetcd::SpawnSpec spec;
      spec.argv = {probePath(), "kill-parent", "TERM", "exit", "0"};
      const esetcd::Result<pid_t> child = esetcd::spawnChild(spec);
      if (!child) throw std::runtime_error(child.error().message);
      esetcd::Supervisor supervisor(*child);
      bool sawSignal = false;
      for (int step = 0; step < 100; ++step) {
        const SupervisorEvent event = supervisor.wait(Millis(50));
        if (event.type == SupervisorEvent::Type::Signal) {
          sawSignal = true;
          if (supervisor.childExited()) ++violations;
        }
        if (event.type == SupervisorEvent::Type::ChildExited) {
          sigset_t pending;
          sigpending(&pending);
          if (sawSignal) break;
          if (!sigismember(&pending, SIGTERM)) {
            ++bothInOneRound;
          } else {
            // Not taken in this round: clear it for the next one.
            sigset_t term;
            sigemptyset(&term);
            sigaddset(&term, SIGTERM);
            int sig = 0;
            sigwait(&term, &sig);
          }
          break;
        }
      }
    }
    out["violations"] = std::to_string(violations);
    out["both in one round"] = std::to_string(bothInOneRound);
  });
  INFO(
      "rounds where the exit and the TERM were taken together: " << report.at("both in one round"));
  CHECK(report.at("violations") == "0");
}

TEST_CASE("killGroup() kills the child's whole process group, forward() only the child") {
  TempDir dir;
  const std::string stop = dir.file("stop");
  const Report report = runIsolated([&](Report& out) {
    esetcd::blockAsyncSignals();
    // So that the group-mate, orphaned when the child dies, comes back to us to be reaped.
    out["subreaper"] = esetcd::becomeSubreaperIfNeeded() ? "yes" : "no";
    esetcd::SpawnSpec spec;
    spec.argv =
        probe({"fork", "[", "report", dir.file("mate"), "wait-file", stop, "10000", "]", "record",
               dir.file("rec"), "report", dir.file("child"), "wait-file", stop, "10000"});
    const esetcd::Result<pid_t> child = esetcd::spawnChild(spec);
    if (!child) throw std::runtime_error(child.error().message);
    esetcd::Supervisor supervisor(*child);
    waitUntil([&] { return fileExists(dir.file("mate")) && fileExists(dir.file("child")); },
              Millis(5000));
    const pid_t mate = std::stoi(readReport(dir.file("mate")).at("pid"));
    out["mate pgid"] = readReport(dir.file("mate")).at("pgid");

    supervisor.forward(SIGUSR1);
    waitUntil([&] { return !readLines(dir.file("rec")).empty(); }, Millis(2000));
    out["mate alive after forward"] = kill(mate, 0) == 0 ? "yes" : "no";

    supervisor.killGroup();
    out["status"] = std::to_string(waitForExit(supervisor));
    const bool mateGone = waitUntil(
        [&] {
          supervisor.wait(Millis(10));
          return kill(mate, 0) != 0 && errno == ESRCH;
        },
        Millis(5000));
    out["mate gone"] = mateGone ? "yes" : "no";
    out["reaped"] = std::to_string(supervisor.reapedCount());
  });
  CHECK(report.at("subreaper") == "yes");
  CHECK(report.at("mate pgid") == readReport(dir.file("child")).at("pid"));
  CHECK(readLines(dir.file("rec")) == std::vector<std::string>{"USR1"});
  CHECK(report.at("mate alive after forward") == "yes");
  CHECK(report.at("status") == std::to_string(SIGKILL));
  CHECK(report.at("mate gone") == "yes");
  CHECK(report.at("reaped") == "2");
}

TEST_CASE(
    "blockAsyncSignals blocks all but the synchronous faults, ignores SIGPIPE, un-ignores "
    "SIGCHLD") {
  const Report report = runIsolated([](Report& out) {
    signal(SIGCHLD, SIG_IGN);
    sigset_t before;
    sigemptyset(&before);
    sigaddset(&before, SIGUSR1);
    sigprocmask(SIG_SETMASK, &before, nullptr);

    const sigset_t old = esetcd::blockAsyncSignals();
    out["old has USR1 only"] =
        sigismember(&old, SIGUSR1) && !sigismember(&old, SIGTERM) ? "yes" : "no";
    sigset_t now;
    sigprocmask(SIG_SETMASK, nullptr, &now);
    std::string unblocked;
    for (int sig = 1; sig < NSIG; ++sig) {
      // SIGKILL/SIGSTOP cannot be blocked; 32 and 33 belong to glibc (threads, setxid).
      if (sig == SIGKILL || sig == SIGSTOP || (sig >= 32 && sig < SIGRTMIN)) continue;
      if (!sigismember(&now, sig)) unblocked += std::to_string(sig) + " ";
    }
    out["unblocked"] = unblocked;
    struct sigaction chld {};
    sigaction(SIGCHLD, nullptr, &chld);
    out["sigchld default"] = chld.sa_handler == SIG_DFL ? "yes" : "no";
    struct sigaction pipe {};
    sigaction(SIGPIPE, nullptr, &pipe);
    out["sigpipe ignored"] = pipe.sa_handler == SIG_IGN ? "yes" : "no";
  });
  CHECK(report.at("old has USR1 only") == "yes");
  // SIGILL SIGTRAP SIGABRT SIGBUS SIGFPE SIGSEGV, SIGPIPE (ignored instead), SIGSYS.
  CHECK(report.at("unblocked") == "4 5 6 7 8 11 13 31 ");
  CHECK(report.at("sigchld default") == "yes");
  CHECK(report.at("sigpipe ignored") == "yes");
}

TEST_CASE("becomeSubreaperIfNeeded registers a process that is not PID 1") {
  const Report report = runIsolated([](Report& out) {
    int before = -1;
    prctl(PR_GET_CHILD_SUBREAPER, &before);
    out["before"] = std::to_string(before);
    out["returned"] = esetcd::becomeSubreaperIfNeeded() ? "yes" : "no";
    int after = -1;
    prctl(PR_GET_CHILD_SUBREAPER, &after);
    out["after"] = std::to_string(after);
  });
  CHECK(report.at("before") == "0");
  CHECK(report.at("returned") == "yes");
  CHECK(report.at("after") == "1");
}

TEST_CASE("spawnChild shares our memory with the child until its exec: no copy-on-write after") {
  // A fork marks every private page of ours copy-on-write, and each page written afterwards takes
  // a fault; a child started with CLONE_VM | CLONE_VFORK (as posix_spawn does) leaves them alone.
  const Report report = runIsolated([](Report& out) {
    esetcd::blockAsyncSignals();
    constexpr size_t kPages = 256;
    const long page = sysconf(_SC_PAGESIZE);
    std::vector<char> memory(kPages * static_cast<size_t>(page), 1);  // written: resident
    esetcd::SpawnSpec spec;
    spec.argv = {probePath(), "exit", "0"};
    Report child;
    spawnAndWait(spec, child);
    out["code"] = child["code"];
    rusage before{};
    getrusage(RUSAGE_SELF, &before);
    for (size_t i = 0; i < kPages; ++i) memory[i * static_cast<size_t>(page)] = 2;
    rusage after{};
    getrusage(RUSAGE_SELF, &after);
    out["faults"] = std::to_string(after.ru_minflt - before.ru_minflt);
  });
  WARN("page faults writing 256 resident pages after a spawn: " << report.at("faults"));
  CHECK(report.at("code") == "0");
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  // The sanitizer builds fork (supervisor.cpp, startChild): there every page faults once more.
  CHECK(std::stol(report.at("faults")) >= 256);
#else
  CHECK(std::stol(report.at("faults")) < 32);
#endif
}

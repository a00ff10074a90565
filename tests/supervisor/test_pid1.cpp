// The init as PID 1 (or as a subreaper), seen from outside: signals reach the child, exit codes
// pass through, orphans are reaped, and the child starts clean. The init is mini_init unless
// SUPERVISOR_TEST_INIT names another one (see harness.hpp); tests that need a mini_init knob say
// so in their name.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <thread>

#include "harness.hpp"

using namespace sup_test;

namespace {

const Millis kStart(5000);    // a process appears, a ready file shows up
const Millis kDeliver(2000);  // a signal is handled
const Millis kExit(5000);     // a process finishes once it was told to

std::string signalName(int sig) {
  switch (sig) {
    case SIGHUP:
      return "HUP";
    case SIGINT:
      return "INT";
    case SIGQUIT:
      return "QUIT";
    case SIGTERM:
      return "TERM";
    case SIGUSR1:
      return "USR1";
    case SIGUSR2:
      return "USR2";
    case SIGWINCH:
      return "WINCH";
  }
  return std::to_string(sig);
}

// Runs `child` under the init as PID 1 of a new namespace and returns its exit code.
int runAsPid1(const TempDir& dir, const std::vector<std::string>& child,
              LaunchOptions options = {}) {
  options.output = dir.file("init.log");
  Running init = launch(inPidNamespace(initCommand(child)), options);
  const std::optional<int> code = init.waitExit(kExit);
  INFO("init output: " << init.output());
  REQUIRE(code.has_value());
  return *code;
}

pid_t initHostPid(const Running& unshare) {
  return sup_test::initHostPid(unshare, kStart);
}

std::string lastNsPid(pid_t pid) {
  const std::string nspid = procStatusField(pid, "NSpid");
  return nspid.substr(nspid.find_last_of(" \t") + 1);
}

}  // namespace

TEST_CASE("each forwarded signal sent to PID 1 reaches the child exactly once, and only it") {
  requirePidNamespaces();
  TempDir dir;
  INFO("temp dir " << dir.path());
  const std::string stop = dir.file("stop");
  // A group-mate of the child records too: Elasticsearch's own children (the server JVM behind
  // the CLI JVM) must not get our forwarded signals (elastic/elasticsearch#50277).
  LaunchOptions options;
  options.output = dir.file("init.log");
  Running unshare = launch(
      inPidNamespace(initCommand(
          probe({"fork", "[", "record", dir.file("mate.rec"), "touch", dir.file("mate.ready"),
                 "wait-file", stop, "10000", "]", "record", dir.file("child.rec"), "touch",
                 dir.file("child.ready"), "wait-file", stop, "10000"}))),
      options);
  const pid_t init = initHostPid(unshare);
  CHECK(lastNsPid(init) == "1");
  REQUIRE(waitUntil([&] { return fileExists(dir.file("child.ready")); }, kStart));
  REQUIRE(waitUntil([&] { return fileExists(dir.file("mate.ready")); }, kStart));

  std::vector<std::string> expected;
  for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH}) {
    INFO("signal " << signalName(sig));
    REQUIRE(kill(init, sig) == 0);
    expected.push_back(signalName(sig));
    // One at a time: two pending instances of a standard signal would merge into one.
    CHECK(waitUntil([&] { return readLines(dir.file("child.rec")).size() >= expected.size(); },
                    kDeliver));
  }

  // Negative twin: the group-mate does record what is sent to the whole group.
  const std::optional<pid_t> child = waitForChild(init, kStart);
  REQUIRE(child.has_value());
  REQUIRE(kill(-*child, SIGUSR2) == 0);
  CHECK(waitUntil([&] { return readLines(dir.file("mate.rec")).size() == 1; }, kDeliver));

  writeFile(stop, "");
  const std::optional<int> code = unshare.waitExit(kExit);
  INFO("init output: " << unshare.output());
  CHECK(code == 0);
  // Both have exited, so the records are complete: no duplicate reached the child, and of all
  // the signals sent to PID 1 none reached the group-mate; the group's USR2 reached both.
  expected.push_back("USR2");
  CHECK(readLines(dir.file("child.rec")) == expected);
  CHECK(readLines(dir.file("mate.rec")) == std::vector<std::string>{"USR2"});
}

TEST_CASE("a TERM the child leaves at its default ends it, and PID 1 exits 143") {
  requirePidNamespaces();
  TempDir dir;
  LaunchOptions options;
  options.output = dir.file("init.log");
  const auto started = std::chrono::steady_clock::now();
  Running unshare = launch(
      inPidNamespace(initCommand(probe({"touch", dir.file("ready"), "sleep", "10000"}))), options);
  const pid_t init = initHostPid(unshare);
  REQUIRE(waitUntil([&] { return fileExists(dir.file("ready")); }, kStart));
  REQUIRE(kill(init, SIGTERM) == 0);
  const std::optional<int> code = unshare.waitExit(kExit);
  INFO("init output: " << unshare.output());
  CHECK(code == 143);
  CHECK(std::chrono::steady_clock::now() - started < Millis(5000));
}

TEST_CASE("the child's exit code passes through PID 1 unchanged") {
  requirePidNamespaces();
  const int code = GENERATE(0, 1, 2, 78, 127, 255);
  TempDir dir;
  INFO("child exit code " << code);
  CHECK(runAsPid1(dir, probe({"exit", std::to_string(code)})) == code);
}

TEST_CASE("a child killed by a signal makes PID 1 exit 128 + the signal") {
  requirePidNamespaces();
  const auto [name, expected] =
      GENERATE(table<std::string, int>({{"KILL", 137}, {"TERM", 143}, {"INT", 130}}));
  TempDir dir;
  INFO("child killed by SIG" << name);
  CHECK(runAsPid1(dir, probe({"kill", name})) == expected);
}

TEST_CASE("a command that does not exist makes PID 1 exit 127") {
  requirePidNamespaces();
  TempDir dir;
  SECTION("by path") {
    CHECK(runAsPid1(dir, {dir.file("no-such-program")}) == 127);
  }
  SECTION("through PATH") {
    LaunchOptions options;
    options.env = {"PATH=" + dir.path() + ":/nonexistent"};
    CHECK(runAsPid1(dir, {"no-such-program-7f3a"}, options) == 127);
  }
  CHECK(readFile(dir.file("init.log")).find("No such file or directory") != std::string::npos);
}

TEST_CASE("a command that cannot be executed makes PID 1 exit 126") {
  requirePidNamespaces();
  TempDir dir;
  SECTION("a file without execute permission") {
    writeFile(dir.file("not-executable"), "#!/bin/sh\nexit 0\n", 0644);
    CHECK(runAsPid1(dir, {dir.file("not-executable")}) == 126);
  }
  SECTION("a directory") {
    CHECK(runAsPid1(dir, {dir.path()}) == 126);
  }
  CHECK(readFile(dir.file("init.log")).find("Permission denied") != std::string::npos);
}

TEST_CASE("a command found through the child's PATH runs") {
  requirePidNamespaces();
  TempDir dir;
  const std::string probeDir = probePath().substr(0, probePath().rfind('/'));
  const std::string probeName = probePath().substr(probePath().rfind('/') + 1);
  LaunchOptions options;
  options.env = {"PATH=/nonexistent:" + probeDir};
  CHECK(runAsPid1(dir, {probeName, "exit", "42"}, options) == 42);
}

TEST_CASE("PID 1 reaps a storm of 100 orphans") {
  requirePidNamespaces();
  TempDir dir;
  // The orphans live 300 ms, long enough to be seen reparented; the child then waits until they
  // are dead and gives PID 1 up to 2 s to reap them before it reports and exits.
  CHECK(runAsPid1(dir, probe({"orphans", "100", "300", "2000", dir.file("orphans")})) == 0);
  const Report report = readReport(dir.file("orphans"));
  INFO("report: " << readFile(dir.file("orphans")));
  CHECK(report.at("orphans") == "100");
  CHECK(report.at("parents") == "1");
  CHECK(report.at("alive") == "0");
  CHECK(report.at("zombies") == "0");
  CHECK(report.at("gone") == "100");
  // The main child plus the 100 orphans; the probe reaps its own middle process itself.
  if (std::getenv("SUPERVISOR_TEST_INIT") == nullptr) {
    CHECK(readFile(dir.file("init.log")).find("reaped 101 processes") != std::string::npos);
  }
}

TEST_CASE("negative twin: a PID 1 that never waits leaves the orphans as zombies") {
  requirePidNamespaces();
  TempDir dir;
  // `sleep` becomes PID 1 and never calls wait: the same probe must then see 100 zombies.
  const std::string script = "\"$0\" orphans 100 300 300 \"$1\" & exec sleep 10";
  LaunchOptions options;
  options.output = dir.file("ns.log");
  Running unshare =
      launch(inPidNamespace({"sh", "-c", script, probePath(), dir.file("orphans")}), options);
  REQUIRE(waitUntil([&] { return fileExists(dir.file("orphans")); }, Millis(8000)));
  const Report report = readReport(dir.file("orphans"));
  INFO("report: " << readFile(dir.file("orphans")));
  CHECK(report.at("parents") == "1");
  CHECK(report.at("zombies") == "100");
  CHECK(report.at("gone") == "0");
}

TEST_CASE("outside a PID namespace the init adopts orphans as a subreaper and reaps them") {
  TempDir dir;
  LaunchOptions options;
  options.output = dir.file("init.log");
  Running init =
      launch(initCommand(probe({"orphans", "20", "200", "2000", dir.file("orphans")})), options);
  const std::optional<int> code = init.waitExit(kExit);
  INFO("init output: " << init.output());
  CHECK(code == 0);
  const Report report = readReport(dir.file("orphans"));
  INFO("report: " << readFile(dir.file("orphans")));
  CHECK(report.at("parents") == std::to_string(init.pid()));
  CHECK(report.at("zombies") == "0");
  CHECK(report.at("gone") == "20");
}

TEST_CASE("the child starts with no blocked and no ignored signals, in its own group") {
  requirePidNamespaces();
  TempDir dir;
  LaunchOptions options;
  options.output = dir.file("init.log");
  // Ignored dispositions survive exec: the init inherits these, and must not pass them on.
  options.ignoredSignals = {SIGHUP, SIGPIPE, SIGUSR2};
  Running unshare =
      launch(inPidNamespace(initCommand(
                 probe({"report", dir.file("report"), "wait-file", dir.file("stop"), "10000"}))),
             options);
  const pid_t init = initHostPid(unshare);
  REQUIRE(waitUntil([&] { return fileExists(dir.file("report")); }, kStart));
  // The init really runs with these ignored (and with everything blocked, which /proc does not
  // show while it waits in sigtimedwait), so the child's zeros mean something.
  CHECK(maskHas(procStatusField(init, "SigIgn"), {SIGHUP, SIGPIPE, SIGUSR2}));
  writeFile(dir.file("stop"), "");
  CHECK(unshare.waitExit(kExit) == 0);

  const Report report = readReport(dir.file("report"));
  INFO("report: " << readFile(dir.file("report")));
  CHECK(report.at("sigblk") == "0000000000000000");
  CHECK(report.at("sigign") == "0000000000000000");
  CHECK(report.at("pgid") == report.at("pid"));
}

TEST_CASE("negative twin: a child that blocks and ignores signals itself shows them") {
  requirePidNamespaces();
  TempDir dir;
  CHECK(runAsPid1(dir, probe({"block", "USR1", "ignore", "USR2", "report", dir.file("report")})) ==
        0);
  const Report report = readReport(dir.file("report"));
  INFO("report: " << readFile(dir.file("report")));
  CHECK(report.at("sigblk") == "0000000000000200");  // bit SIGUSR1 - 1 = 9
  CHECK(report.at("sigign") == "0000000000000800");  // bit SIGUSR2 - 1 = 11
}

TEST_CASE("the child inherits no fds above 2 (mini_init: MINI_INIT_LEAK_FD)") {
  requirePidNamespaces();
  TempDir dir;
  LaunchOptions options;
  options.output = dir.file("init.log");
  options.env = {"MINI_INIT_LEAK_FD=100"};
  options.leakFd = 50;  // inherited from "outside", through unshare
  Running unshare =
      launch(inPidNamespace(initCommand(
                 probe({"report", dir.file("report"), "wait-file", dir.file("stop"), "10000"}))),
             options);
  const pid_t init = initHostPid(unshare);
  REQUIRE(waitUntil([&] { return fileExists(dir.file("report")); }, kStart));
  // The init really holds both fds without close-on-exec.
  CHECK(procHasFd(init, 50));
  CHECK(procHasFd(init, 100));
  writeFile(dir.file("stop"), "");
  CHECK(unshare.waitExit(kExit) == 0);
  CHECK(readReport(dir.file("report")).at("fds") == "0,1,2");
}

TEST_CASE("negative twin: a probe started with a leaked fd lists it") {
  TempDir dir;
  LaunchOptions options;
  options.leakFd = 50;
  Running child = launch(probe({"report", dir.file("report")}), options);
  CHECK(child.waitExit(kExit) == 0);
  CHECK(readReport(dir.file("report")).at("fds") == "0,1,2,50");
}

TEST_CASE("a TERM sent before the child is spawned is not lost (mini_init: spawn delay)") {
  requirePidNamespaces();
  TempDir dir;
  LaunchOptions options;
  options.output = dir.file("init.log");
  options.env = {"MINI_INIT_SPAWN_DELAY_MS=400"};
  Running unshare = launch(inPidNamespace(initCommand(probe({"record", dir.file("rec"), "wait-file",
                                                             dir.file("stop"), "10000"}))),
                           options);
  const pid_t init = initHostPid(unshare);
  // The window is real: signals are blocked, and there is no child yet.
  REQUIRE(childrenOf(init).empty());
  REQUIRE(kill(init, SIGTERM) == 0);

  // The probe may or may not have its handler yet when the forwarded TERM arrives: either it
  // records TERM, or it dies of it and PID 1 exits 143. Both prove the signal was kept.
  bool recorded = false;
  const bool settled = waitUntil(
      [&] {
        recorded = readLines(dir.file("rec")) == std::vector<std::string>{"TERM"};
        return recorded || unshare.exitedNow();
      },
      kExit);
  INFO("init output: " << unshare.output());
  REQUIRE(settled);
  if (recorded) {
    writeFile(dir.file("stop"), "");
    CHECK(unshare.waitExit(kExit) == 0);
    CHECK(readLines(dir.file("rec")) == std::vector<std::string>{"TERM"});
  } else {
    CHECK(unshare.code() == 143);
  }
}

TEST_CASE("negative twin: a PID 1 that neither blocks nor handles TERM drops it") {
  requirePidNamespaces();
  TempDir dir;
  // sleep 3: long enough to be TERMed while it runs (a precondition), short enough to wait out.
  Running unshare = launch(inPidNamespace({"sleep", "3"}));
  const std::optional<pid_t> pid1 = waitForChild(unshare.pid(), kStart);
  REQUIRE(pid1.has_value());
  REQUIRE(waitUntil([&] { return procComm(*pid1) == "sleep"; }, kStart));
  REQUIRE(kill(*pid1, SIGTERM) == 0);
  // The kernel dropped the TERM: the sleep runs to its end and exits 0, not 143.
  CHECK(unshare.waitExit(Millis(10000)) == 0);
}

TEST_CASE("an init started with SIGCHLD ignored still sees the child's exit code") {
  TempDir dir;
  LaunchOptions options;
  options.output = dir.file("init.log");
  options.ignoredSignals = {SIGCHLD};
  Running init = launch(initCommand(probe({"exit", "42"})), options);
  const std::optional<int> code = init.waitExit(kExit);
  INFO("init output: " << init.output());
  CHECK(code == 42);
}

TEST_CASE("negative twin: an ignored SIGCHLD is inherited across exec") {
  TempDir dir;
  LaunchOptions options;
  options.ignoredSignals = {SIGCHLD};
  Running child = launch(probe({"report", dir.file("report")}), options);
  CHECK(child.waitExit(kExit) == 0);
  CHECK(maskHas(readReport(dir.file("report")).at("sigign"), {SIGCHLD}));
}

namespace {

// Runs the init on a new pseudo-terminal as its controlling terminal, in the foreground group
// (as `docker run -t` does) or, with `background`, in a group of its own that is not the
// terminal's foreground group. Returns the child's report.
Report runOnTerminal(const TempDir& dir, bool background) {
  const int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  REQUIRE(master >= 0);
  REQUIRE(grantpt(master) == 0);
  REQUIRE(unlockpt(master) == 0);
  const std::string slave = ptsname(master);
  const std::vector<std::string> command =
      initCommand(probe({"report", dir.file("report"), "exit", "0"}));
  std::fflush(nullptr);
  const pid_t leader = fork();
  REQUIRE(leader >= 0);
  if (leader == 0) {
    // A new session whose first opened terminal becomes its controlling terminal.
    setsid();
    const int tty = open(slave.c_str(), O_RDWR);
    if (tty < 0) _exit(120);
    dup2(tty, 0);
    dup2(tty, 1);
    dup2(tty, 2);
    if (tty > 2) close(tty);
    std::vector<char*> args;
    for (const std::string& arg : command) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    if (!background) {
      execv(args[0], args.data());
      _exit(121);
    }
    // The session leader keeps the foreground; the init runs in a background group.
    const pid_t init = fork();
    if (init == 0) {
      setpgid(0, 0);
      execv(args[0], args.data());
      _exit(121);
    }
    int status = 0;
    waitpid(init, &status, 0);
    _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 122);
  }
  Running session(leader, "/dev/null");
  // Drain the terminal so that nothing ever blocks writing to it.
  std::string output;
  const bool done = waitUntil(
      [&] {
        char buffer[4096];
        const int flags = fcntl(master, F_GETFL);
        fcntl(master, F_SETFL, flags | O_NONBLOCK);
        ssize_t n;
        while ((n = read(master, buffer, sizeof buffer)) > 0) output.append(buffer, n);
        return session.exitedNow();
      },
      kExit);
  close(master);
  INFO("terminal output: " << output);
  REQUIRE(done);
  CHECK(session.code() == 0);
  return readReport(dir.file("report"));
}

}  // namespace

TEST_CASE("the child gets the terminal when the init has the foreground") {
  TempDir dir;
  const Report report = runOnTerminal(dir, false);
  INFO("report: " << readFile(dir.file("report")));
  CHECK(report.at("pgid") == report.at("pid"));
  CHECK(report.at("tty_fg") == report.at("pgid"));
}

TEST_CASE("negative twin: an init in the background does not take the terminal") {
  TempDir dir;
  const Report report = runOnTerminal(dir, true);
  INFO("report: " << readFile(dir.file("report")));
  CHECK(report.at("pgid") == report.at("pid"));
  CHECK(report.at("tty_fg") != report.at("pgid"));
  CHECK(report.at("tty_fg") != "-1");
}

namespace {

// mini_init with its afterStart due `delayMs` after the spawn, logging to dir/init.log.
LaunchOptions afterStartIn(const TempDir& dir, long delayMs) {
  LaunchOptions options;
  options.output = dir.file("init.log");
  options.env = {"MINI_INIT_AFTER_START_MS=" + std::to_string(delayMs)};
  return options;
}

// A child that touches dir/up, then runs until dir/stop exists.
std::vector<std::string> runsUntilStopped(const TempDir& dir) {
  return probe({"touch", dir.file("up"), "wait-file", dir.file("stop"), "10000"});
}

}  // namespace

TEST_CASE(
    "the set-up after the spawn runs once, when its delay has passed (mini_init: after start)") {
  TempDir dir;
  const auto launched = std::chrono::steady_clock::now();
  Running init = launch(initCommand(runsUntilStopped(dir)), afterStartIn(dir, 300));
  REQUIRE(waitUntil([&] { return countIn(init.output(), "after-start ran") == 1; }, kStart));
  CHECK(std::chrono::steady_clock::now() - launched >= Millis(300));
  CHECK(fileExists(dir.file("up")));  // the command was running well before
  writeFile(dir.file("stop"), "");
  CHECK(init.waitExit(kExit) == 0);
  INFO("init output: " << init.output());
  CHECK(countIn(init.output(), "after-start ran") == 1);
}

TEST_CASE(
    "a command that exits, or a stop, before the delay skips the set-up (mini_init: after start)") {
  TempDir dir;
  const LaunchOptions options = afterStartIn(dir, 10000);
  SECTION("the command exits first: its code at once, no set-up") {
    Running init = launch(initCommand(probe({"exit", "7"})), options);
    CHECK(init.waitExit(kExit) == 7);  // kExit is shorter than the delay: nothing waited for it
    INFO("init output: " << init.output());
    CHECK(countIn(init.output(), "after-start ran") == 0);
  }
  SECTION("a TERM first: forwarded, and no set-up then or later") {
    Running init = launch(initCommand(runsUntilStopped(dir)), options);
    REQUIRE(waitUntil([&] { return fileExists(dir.file("up")); }, kStart));
    REQUIRE(kill(init.pid(), SIGTERM) == 0);
    CHECK(init.waitExit(kExit) == 143);
    INFO("init output: " << init.output());
    CHECK(countIn(init.output(), "after-start ran") == 0);
  }
}

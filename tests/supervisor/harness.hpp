// Helpers for the supervisor tests: temp dirs kept on failure, launching processes with a bounded
// wait, running the init (ours or any other, see initCommand) in a fresh PID namespace, and
// reading what the processes left in /proc and in report files.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace sup_test {

using Millis = std::chrono::milliseconds;
using Report = std::map<std::string, std::string>;

// A fresh directory per test; removed afterwards unless an assertion failed, then its path is
// printed so the reports and logs in it can be read.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

struct LaunchOptions {
  std::vector<std::string> env;      // NAME=VALUE added to (or replacing in) our environment
  std::vector<int> ignoredSignals;   // set to SIG_IGN before exec: they are inherited
  int leakFd = -1;                   // if >= 3: /dev/null opened there without close-on-exec
  std::string output = "/dev/null";  // stdout and stderr (appended)
  bool brokenStderr = false;         // stderr: a pipe whose reader is gone (writes: EPIPE/SIGPIPE)
};

// The dumb-init way of watching a child's signals: a FIFO the child's `record` action writes one
// line per signal to, and the test blocks on reading (bounded), so no sleep decides anything.
class SignalPipe {
 public:
  explicit SignalPipe(std::string path);  // creates the FIFO and opens its read end
  ~SignalPipe();
  SignalPipe(const SignalPipe&) = delete;
  SignalPipe& operator=(const SignalPipe&) = delete;

  const std::string& path() const { return path_; }
  // The next signal name the child reported, or nullopt when none came within `timeout`.
  std::optional<std::string> next(Millis timeout);

 private:
  std::string path_;
  int fd_ = -1;
  std::string buffered_;
};

// A started process, killed with SIGKILL and reaped if the test ends before waiting for it.
class Running {
 public:
  Running(pid_t pid, std::string output) : pid_(pid), output_(std::move(output)) {}
  ~Running();
  Running(const Running&) = delete;
  Running& operator=(const Running&) = delete;
  Running(Running&& other) noexcept;

  pid_t pid() const { return pid_; }
  bool running() const { return !finished_; }
  // Shell-style code (exit code, or 128 + signal); nullopt when still running after `timeout`,
  // in which case the process is killed.
  std::optional<int> waitExit(Millis timeout);
  // True when the process has already exited (reaps it), without waiting.
  bool exitedNow();
  std::optional<int> code() const { return code_; }
  std::string output() const;

 private:
  pid_t pid_;
  std::string output_;
  bool finished_ = false;
  std::optional<int> code_;
};

Running launch(const std::vector<std::string>& argv, const LaunchOptions& options = {});

// The init under test followed by "--" and the child's argv. Defaults to mini_init; set
// SUPERVISOR_TEST_INIT to another init's argv prefix (space-separated) to run the same tests
// against it, e.g. the real entrypoint or tini.
std::vector<std::string> initCommand(const std::vector<std::string>& child);
// `command` as PID 1 of a new PID namespace with its own /proc; killed with its unshare parent.
std::vector<std::string> inPidNamespace(const std::vector<std::string>& command);
// Fails the test (never skips) when this machine cannot create PID namespaces.
void requirePidNamespaces();
// The host pid of the namespace's PID 1 (the child of unshare), once it has exec'd the init and
// blocked its signals: either its mask shows them, or it has spawned (which comes after). While
// it sits in sigtimedwait the kernel lifts the waited-for signals from the mask /proc shows.
// Signals for the init go to this pid: unshare does not pass them on.
pid_t initHostPid(const Running& unshare, Millis timeout);

std::string probePath();
std::vector<std::string> probe(const std::vector<std::string>& actions);

// Polls `condition` every few milliseconds; false if it never held within `timeout`.
bool waitUntil(const std::function<bool()>& condition, Millis timeout);
bool fileExists(const std::string& path);
std::string readFile(const std::string& path);
std::vector<std::string> readLines(const std::string& path);
// Whether the file at `path` has a line equal to `line`.
bool fileHasLine(const std::string& path, const std::string& line);
// How often `part` occurs in `text` (a log's lines of one kind, to wait for more of them).
size_t countIn(const std::string& text, const std::string& part);
Report readReport(const std::string& path);
void writeFile(const std::string& path, const std::string& content, unsigned mode = 0644);

// Host-side views of other processes.
std::vector<pid_t> childrenOf(pid_t parent);
std::optional<pid_t> waitForChild(pid_t parent, Millis timeout);
std::string procStatusField(pid_t pid, const std::string& name);
std::string procComm(pid_t pid);
bool procHasFd(pid_t pid, int fd);
// Whether every signal in `signals` is set in a SigBlk/SigIgn/... hex mask.
bool maskHas(const std::string& hexMask, const std::vector<int>& signals);

// A listening socket on 127.0.0.1 nobody accepts on: the kernel completes the handshake (up to
// the backlog), a request is never answered. A hung etcd.
class BlackHole {
 public:
  BlackHole();
  ~BlackHole();
  BlackHole(const BlackHole&) = delete;
  BlackHole& operator=(const BlackHole&) = delete;
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// Runs `body` in a forked copy of this (single-threaded) test process, so it can block signals,
// become a subreaper and reap with waitpid(-1) without touching the test runner. Whatever it puts
// into the report comes back; an exception or a crash fails the test.
Report runIsolated(const std::function<void(Report&)>& body, Millis timeout = Millis(10000));

}  // namespace sup_test

// The PID 1 part: block signals before threads exist, spawn the one child cleanly, forward
// signals to it, reap every zombie (this file holds the only waitpid of the program), and map
// the child's status to our exit code.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "result.hpp"

namespace esetcd {

// Signals forwarded to the child as they arrive: HUP INT QUIT TERM USR1 USR2 WINCH.
const std::vector<int>& forwardedSignals();

// Blocks every asynchronous signal (all but the synchronous faults) in the calling thread and
// returns the old mask. Must run first in main, before Poco or libcurl can start a thread: a
// thread with SIGTERM unblocked would take it, and PID 1 has no default action for it. Also
// resets an inherited SIG_IGN for SIGCHLD, which would make the kernel discard exit statuses.
sigset_t blockAsyncSignals();

// Exit code for a waitpid() status: the exit code, or 128 + the signal number.
int exitCodeForWaitStatus(int status);

// Exit code when exec failed with errno `err`: 127 for ENOENT/ENOTDIR, 126 for EACCES/ENOEXEC/
// EPERM/EISDIR, 111 otherwise.
int exitCodeForExecError(int err);

// When not PID 1, become a child subreaper so orphans are reparented to us and reaped here.
// Returns true when that was needed and worked.
bool becomeSubreaperIfNeeded();

struct SpawnSpec {
  std::vector<std::string> argv;  // argv[0] is looked up in PATH when it has no '/'
  std::vector<std::string> env;   // "NAME=value"
  std::string workDir;            // empty: stay
};

// Starts the child with an empty signal mask, default dispositions, no fds above 2 and its own
// process group; hands it the terminal when stdin is one and we are its foreground group. PATH
// comes from spec.env (default "/bin:/usr/bin"), searched like execvp, scripts without "#!" run
// by /bin/sh. Reports exec or chdir failure (ENOENT, EACCES, ...) as Error with `code` = errno,
// synchronously, through a close-on-exec pipe; that failed child has exited and is reaped by the
// next Supervisor::wait (or vanishes with us).
Result<pid_t> spawnChild(const SpawnSpec& spec);

struct SupervisorEvent {
  enum class Type { Timeout, Signal, ChildExited };
  Type type = Type::Timeout;
  int signal = 0;  // Type::Signal: the signal received
  int status = 0;  // Type::ChildExited: the raw waitpid status of the main child
};

// Waits for signals and reaps. Owns no threads.
class Supervisor {
 public:
  explicit Supervisor(pid_t child) : child_(child) {}

  // Waits up to `timeout` for a signal. Reaps every exited process first and after; returns
  // ChildExited once the main child is gone (before any pending signal), Signal for any other
  // signal except SIGCHLD, Timeout otherwise.
  SupervisorEvent wait(std::chrono::milliseconds timeout);

  // Sends `sig` to the child only (not its group: Elasticsearch handles its own children).
  void forward(int sig) const;

  // Sends SIGKILL to the child's whole process group (the escalation after the grace period,
  // so a server JVM started by Elasticsearch's CLI JVM goes too).
  void killGroup() const;

  pid_t child() const { return child_; }
  bool childExited() const { return exited_; }
  int childStatus() const { return status_; }
  // Processes reaped so far, the main child and orphans alike (for logs and tests).
  unsigned long reapedCount() const { return reaped_; }

 private:
  // Reaps every zombie with waitpid(-1, WNOHANG); records the main child's status.
  void reapAll();

  pid_t child_;
  bool exited_ = false;
  int status_ = 0;
  unsigned long reaped_ = 0;
};

}  // namespace esetcd

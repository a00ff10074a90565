// The PID 1 part: block signals before threads exist, spawn the one child cleanly, forward
// signals to it, reap every zombie from the first instant (this file holds the only waitpids of
// the program: StartGuard's before the child exists, Supervisor's after), and map the child's
// status to our exit code.
//
// Signals: every asynchronous signal is forwarded to the child as it arrives, except SIGCHLD
// (reaping) and SIGPIPE (ignored in PID 1: a write to a closed pipe, such as stderr with no
// reader, fails with EPIPE instead; the child starts with the default action). TERM and INT also
// start the stop (superviseChild); before the child exists, TERM, INT and QUIT end the start.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "result.hpp"

namespace esetcd {

// Whether `sig` is forwarded to the child: every signal sigtimedwait can report but SIGCHLD.
bool isForwarded(int sig);

// Blocks every asynchronous signal but SIGPIPE (all but the synchronous faults) in the calling
// thread and returns the old mask. Must run first in main, before Poco or libcurl can start a
// thread: a thread with SIGTERM unblocked would take it, and PID 1 has no default action for it.
// Sets SIGPIPE to SIG_IGN (a blocked SIGPIPE would stay pending and be forwarded: the child, not
// us, would die of our broken stderr) and resets an inherited SIG_IGN for SIGCHLD, which would
// make the kernel discard exit statuses.
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

// Waits up to `d` for a stop signal (TERM, INT or QUIT), which must be blocked, with sigtimedwait;
// returns it, or 0. For a start without a StartGuard, or whose signalfd could not be made.
int waitForStopSignal(std::chrono::milliseconds d);

// Before the child exists (reading etcd, the bootstrap wait): takes TERM, INT and QUIT (the stop
// signals) and SIGCHLD from a signalfd, on the thread that runs the start, with no thread of its
// own (a thread made before the exec is paid by every container start). That thread's waits watch
// fd(): each etcd request of the start polls it beside its socket (httpWatchOnThisThread), and
// sleep() polls it alone; a wait that finds it readable calls takeSignals(). A stop signal raises
// abortFlag(), which every start-up etcd request checks after its wait, and is kept for
// stopSignal(); SIGCHLD reaps orphans (waitpid(-1, WNOHANG)), so no zombie waits for the start.
// Other signals stay pending for the Supervisor. stop() must be called before the child is
// spawned: from then on the Supervisor owns waitpid. At most one StartGuard at a time, used by one
// thread; only abortFlag() may be read from others.
class StartGuard {
 public:
  StartGuard();
  ~StartGuard();
  StartGuard(const StartGuard&) = delete;
  StartGuard& operator=(const StartGuard&) = delete;

  // Readable while a start signal is pending; -1 when no signalfd could be made (then sleep()
  // still ends on a stop signal, and a request ends at its deadline instead of at once).
  int fd() const { return signalFd_; }
  // Takes every pending start signal, never blocking: the first stop signal raises abortFlag(),
  // SIGCHLD reaps. Does nothing after stop().
  void takeSignals();
  // The first TERM, INT or QUIT taken so far (pending ones are taken first), or 0.
  int stopSignal();
  // Raised with the first stop signal.
  const std::atomic<bool>* abortFlag() const { return &abort_; }
  // Waits `d` or until a stop signal; returns the signal or 0. Reaps orphans meanwhile.
  int sleep(std::chrono::milliseconds d);
  // Takes what is pending, then lets go of the signals; idempotent. A stop signal that arrived
  // before is still in stopSignal(); one that arrives after waits for the Supervisor.
  void stop();
  unsigned long reapedCount() const { return reaped_; }

 private:
  void take(int sig);

  int signalFd_ = -1;
  std::atomic<bool> abort_{false};
  int stopSignal_ = 0;
  unsigned long reaped_ = 0;
};

// What the signal loop does around a stop. Empty members do nothing (tini's behaviour).
struct StopPlan {
  // STOP_GRACE: from forwarding the first TERM/INT to SIGKILL of the child's process group.
  std::chrono::milliseconds grace{20000};
  // STOP_DEREGISTER_TIMEOUT: the longest the first TERM/INT waits for `deregister` before it is
  // forwarded, whether or not etcd answered (the lease expires by itself).
  std::chrono::milliseconds deregisterTimeout{1000};
  // Runs once, on a thread of its own, on the first TERM/INT and when the child exits; must
  // honour its own deadline (it is not waited for past deregisterTimeout).
  std::function<void()> deregister;
  // Runs once on the loop's thread, `afterStartDelay` after supervision began, unless the child
  // exited or a TERM/INT came first: the supervisor's own set-up, kept off the CPU while the
  // command execs and takes its first steps.
  std::function<void()> afterStart;
  std::chrono::milliseconds afterStartDelay{0};
};

// The signal loop of PID 1 once the child runs: forwards every signal (isForwarded), reaps, and on
// the first TERM/INT runs plan.deregister for at most plan.deregisterTimeout, then forwards the
// signal and SIGKILLs the child's group plan.grace later if it is still there; runs
// plan.afterStart when its delay has passed. Returns the child's mapped exit status
// (exitCodeForWaitStatus).
int superviseChild(Supervisor& sup, const StopPlan& plan);

}  // namespace esetcd

#include "supervisor.hpp"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>

#include "exit_codes.hpp"
#include "log.hpp"

namespace esetcd {
namespace {

// Faults raised by the thread that causes them; blocking them turns a crash into a hang.
constexpr int kSynchronousSignals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT, SIGSYS};

// A failed fork, pipe or exec: `code` carries errno.
constexpr ErrorKind kSpawnError = ErrorKind::System;

// When PATH is not in the child's environment, glibc's execvp falls back to this (_CS_PATH).
constexpr const char* kDefaultPath = "/bin:/usr/bin";

// What PID 1 blocks and waits for: everything but the synchronous faults and SIGPIPE, which is
// ignored instead (blocked, it would stay pending and be forwarded).
sigset_t asyncSignals() {
  sigset_t set;
  sigfillset(&set);
  for (int sig : kSynchronousSignals) sigdelset(&set, sig);
  sigdelset(&set, SIGPIPE);
  return set;
}

// The stop signals of the start, taken by StartGuard together with SIGCHLD.
sigset_t startSignals() {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : {SIGTERM, SIGINT, SIGQUIT, SIGCHLD}) sigaddset(&set, sig);
  return set;
}

// Runs `work` on a detached thread and waits at most `limit` for it to return. The thread lives on
// if it overruns; `work` bounds itself (its etcd requests have their own deadline).
void runBounded(const std::function<void()>& work, std::chrono::milliseconds limit) {
  if (!work) return;
  struct Done {
    std::mutex mutex;
    std::condition_variable cv;
    bool done = false;
  };
  auto state = std::make_shared<Done>();
  std::thread([work, state] {
    work();
    std::lock_guard<std::mutex> lock(state->mutex);
    state->done = true;
    state->cv.notify_all();
  }).detach();
  std::unique_lock<std::mutex> lock(state->mutex);
  state->cv.wait_for(lock, limit, [&] { return state->done; });
}

std::string describeStatus(int status) {
  if (WIFEXITED(status)) return "exit code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("signal ") + strsignal(WTERMSIG(status));
  return "status " + std::to_string(status);
}

// What the child reports through the pipe when it cannot exec.
struct ChildFailure {
  enum Stage : int { Chdir = 1, Exec = 2 } stage;
  int err;
};

// Everything the child needs, built before it starts: from its start to its exec only
// async-signal-safe calls are allowed (another thread may hold the malloc lock, and the child
// shares our memory), so nothing there may allocate.
struct PreparedExec {
  std::vector<std::string> candidates;  // full paths to try, in PATH order
  std::vector<char*> argv;              // null-terminated
  std::vector<char*> shArgv;            // "/bin/sh" <candidate> argv[1..] for ENOEXEC scripts
  std::vector<char*> envp;              // null-terminated
  std::string shell = "/bin/sh";
  const char* workDir = nullptr;
  int maxFd = 0;  // last resort for closing fds when neither close_range nor /proc works
  bool takeTerminal = false;
};

std::string pathFromEnv(const std::vector<std::string>& env) {
  // The child's PATH decides, not ours: glibc's execvpe would search our own environ instead.
  for (const std::string& entry : env) {
    if (entry.compare(0, 5, "PATH=") == 0) return entry.substr(5);
  }
  return kDefaultPath;
}

// exec* take char* const[] but never write through it.
char* mutableChars(const std::string& s) {
  return const_cast<char*>(s.c_str());
}

PreparedExec makePlan(const SpawnSpec& spec) {
  PreparedExec plan;
  const std::string& file = spec.argv.front();
  if (file.find('/') != std::string::npos) {
    plan.candidates.push_back(file);
  } else {
    const std::string path = pathFromEnv(spec.env);
    std::size_t begin = 0;
    for (;;) {
      const std::size_t end = path.find(':', begin);
      const std::string dir = path.substr(begin, end == std::string::npos ? end : end - begin);
      // An empty PATH element means the working directory, as for execvp.
      plan.candidates.push_back(dir.empty() ? file : dir + "/" + file);
      if (end == std::string::npos) break;
      begin = end + 1;
    }
  }
  for (const std::string& arg : spec.argv) plan.argv.push_back(mutableChars(arg));
  plan.argv.push_back(nullptr);
  plan.shArgv.push_back(mutableChars(plan.shell));
  plan.shArgv.push_back(nullptr);  // the candidate, filled in by the child
  for (std::size_t i = 1; i < spec.argv.size(); ++i)
    plan.shArgv.push_back(mutableChars(spec.argv[i]));
  plan.shArgv.push_back(nullptr);
  for (const std::string& entry : spec.env) plan.envp.push_back(mutableChars(entry));
  plan.envp.push_back(nullptr);
  if (!spec.workDir.empty()) plan.workDir = spec.workDir.c_str();

  rlimit limit{};
  plan.maxFd = 65536;
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY &&
      limit.rlim_cur < (1u << 20)) {
    plan.maxFd = static_cast<int>(limit.rlim_cur);
  }
  // Hand the terminal over only when it is ours to give: stealing it from a foreground job
  // would leave the shell that started us in the background.
  plan.takeTerminal = isatty(STDIN_FILENO) && tcgetpgrp(STDIN_FILENO) == getpgrp();
  return plan;
}

// --- Child side: async-signal-safe only from here to exec. ---

[[noreturn]] void failChild(int errFd, ChildFailure::Stage stage, int err) {
  const ChildFailure failure{stage, err};
  // A failed write leaves the parent reading EOF; it then sees the exit status below instead.
  [[maybe_unused]] const ssize_t written = write(errFd, &failure, sizeof failure);
  _exit(exit_code::kNotFound);  // what a shell would say; normally only the pipe is read
}

bool parseFd(const char* name, int* fd) {
  if (*name == '\0') return false;
  int value = 0;
  for (; *name != '\0'; ++name) {
    if (*name < '0' || *name > '9' || value > 100000000) return false;
    value = value * 10 + (*name - '0');
  }
  *fd = value;
  return true;
}

// Marks every fd >= 3 close-on-exec rather than closing it, so the error pipe survives until the
// exec succeeds. close_range's CLOEXEC flag needs Linux 5.11; older kernels (still found under
// Docker hosts) get a /proc scan with a stack buffer (opendir would allocate), and without /proc
// a loop up to the fd limit.
void closeInheritedFds(int maxFd) {
  if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return;
  const int dirFd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirFd >= 0) {
    alignas(dirent64) char buffer[4096];
    ssize_t n;
    while ((n = getdents64(dirFd, buffer, sizeof buffer)) > 0) {
      for (ssize_t offset = 0; offset < n;) {
        const auto* entry = reinterpret_cast<const dirent64*>(buffer + offset);
        int fd = -1;
        if (parseFd(entry->d_name, &fd) && fd >= 3 && fd != dirFd) fcntl(fd, F_SETFD, FD_CLOEXEC);
        offset += entry->d_reclen;
      }
    }
    close(dirFd);
    if (n == 0) return;
  }
  for (int fd = 3; fd < maxFd; ++fd) fcntl(fd, F_SETFD, FD_CLOEXEC);
}

// Tries every candidate like execvp: a missing or unusable directory moves on, EACCES is kept
// as the answer if nothing else works, any other error stops the search.
int execCandidates(PreparedExec& plan) {
  bool sawAccessDenied = false;
  int lastError = ENOENT;
  for (const std::string& candidate : plan.candidates) {
    execve(candidate.c_str(), plan.argv.data(), plan.envp.data());
    lastError = errno;
    if (lastError == ENOEXEC) {
      // A script without "#!": execvp hands it to the shell, and so do we.
      plan.shArgv[1] = mutableChars(candidate);
      execve(plan.shell.c_str(), plan.shArgv.data(), plan.envp.data());
      return ENOEXEC;
    }
    switch (lastError) {
      case EACCES:
        sawAccessDenied = true;
        break;
      case ENOENT:
      case ENOTDIR:
      case ESTALE:
      case ENODEV:
      case ETIMEDOUT:
        break;
      default:
        return lastError;
    }
  }
  return sawAccessDenied ? EACCES : lastError;
}

[[noreturn]] void runChild(PreparedExec& plan, int errFd) {
  // Own process group, so killGroup() reaches whatever Elasticsearch starts and nothing else.
  setpgid(0, 0);
  // Every signal is still blocked here (spawnChild blocked them around its start), so SIGTTOU
  // cannot stop us for changing the foreground group from the background.
  if (plan.takeTerminal) tcsetpgrp(STDIN_FILENO, getpid());

  // Handlers are reset by exec anyway, but SIG_IGN is inherited: the child must see SIG_DFL.
  struct sigaction defaultAction {};
  defaultAction.sa_handler = SIG_DFL;
  sigemptyset(&defaultAction.sa_mask);
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) sigaction(sig, &defaultAction, nullptr);
  }

  closeInheritedFds(plan.maxFd);
  if (plan.workDir != nullptr && chdir(plan.workDir) != 0) {
    failChild(errFd, ChildFailure::Chdir, errno);
  }

  sigset_t empty;
  sigemptyset(&empty);
  sigprocmask(SIG_SETMASK, &empty, nullptr);
  failChild(errFd, ChildFailure::Exec, execCandidates(plan));
}

// Starts the child (runChild) the way posix_spawn does: on a stack of its own in our memory
// (CLONE_VM | CLONE_VFORK), so that no page table is copied for it and none torn down at its exec,
// which a fork pays on every start. This thread is suspended until the child has exec'd or exited,
// so the child may use `plan`; it runs only async-signal-safe code with every signal blocked, and
// the dispositions it resets are its own (no CLONE_SIGHAND). Returns the pid, or -1 with errno.
pid_t startChild(PreparedExec& plan, int errFd) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  // The sanitizers keep per-thread state in memory a child of ours would then share: fork there.
  const pid_t pid = fork();
  if (pid == 0) runChild(plan, errFd);
  return pid;
#else
  struct Start {
    PreparedExec* plan;
    int errFd;
  } start{&plan, errFd};
  constexpr size_t kStackBytes = 64 * 1024;
  void* stack = mmap(nullptr, kStackBytes, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED) return -1;
  auto body = [](void* arg) -> int {
    auto* s = static_cast<Start*>(arg);
    runChild(*s->plan, s->errFd);
  };
  const pid_t pid = clone(body, static_cast<char*>(stack) + kStackBytes,
                          CLONE_VM | CLONE_VFORK | SIGCHLD, &start);
  const int err = errno;
  munmap(stack, kStackBytes);
  errno = err;
  return pid;
#endif
}

}  // namespace

bool isForwarded(int sig) {
  sigset_t set = asyncSignals();
  return sig != SIGCHLD && sigismember(&set, sig) == 1;
}

sigset_t blockAsyncSignals() {
  const sigset_t set = asyncSignals();
  sigset_t old;
  pthread_sigmask(SIG_BLOCK, &set, &old);
  sigset_t pipe;
  sigemptyset(&pipe);
  sigaddset(&pipe, SIGPIPE);
  pthread_sigmask(SIG_UNBLOCK, &pipe, nullptr);
  signal(SIGPIPE, SIG_IGN);
  // An inherited SIG_IGN for SIGCHLD makes the kernel discard children's statuses (waitpid then
  // fails with ECHILD and the main child's exit would never be seen); blocking does not undo it.
  signal(SIGCHLD, SIG_DFL);
  return old;
}

int exitCodeForWaitStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return exit_code::kSignalBase + WTERMSIG(status);
  return exit_code::kSystem;
}

int exitCodeForExecError(int err) {
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return exit_code::kNotFound;
    case EACCES:
    case ENOEXEC:
    case EPERM:
    case EISDIR:
      return exit_code::kNotExecutable;
    default:
      return exit_code::kSystem;
  }
}

bool becomeSubreaperIfNeeded() {
  if (getpid() == 1) return false;
  if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
    logWarn(std::string("prctl(PR_SET_CHILD_SUBREAPER) failed, orphans will not be reaped here: ") +
            std::strerror(errno));
    return false;
  }
  logDebug("not PID 1: registered as child subreaper");
  return true;
}

Result<pid_t> spawnChild(const SpawnSpec& spec) {
  if (spec.argv.empty() || spec.argv.front().empty()) {
    return Error{kSpawnError, "spawn: no command given", EINVAL};
  }
  PreparedExec plan = makePlan(spec);
  const std::string& name = spec.argv.front();

  int pipeFds[2];
  if (pipe2(pipeFds, O_CLOEXEC) != 0) {
    const int err = errno;
    return Error{kSpawnError, std::string("pipe: ") + std::strerror(err), err};
  }
  // Blocked across the start so that no handler of ours runs in the child before the reset, and so
  // that the child's tcsetpgrp cannot be stopped by SIGTTOU.
  sigset_t all;
  sigset_t old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  const pid_t pid = startChild(plan, pipeFds[1]);
  const int forkErr = errno;
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  close(pipeFds[1]);
  if (pid < 0) {
    close(pipeFds[0]);
    return Error{kSpawnError, std::string("cannot create a process: ") + std::strerror(forkErr),
                 forkErr};
  }

  // EOF means exec succeeded (the close-on-exec write end went away); a record means it failed.
  ChildFailure failure{};
  ssize_t n;
  do {
    n = read(pipeFds[0], &failure, sizeof failure);
  } while (n < 0 && errno == EINTR);
  close(pipeFds[0]);
  if (n == static_cast<ssize_t>(sizeof failure)) {
    // The failed child has exited; the next Supervisor::wait reaps it like any other process.
    const std::string what =
        failure.stage == ChildFailure::Chdir ? "chdir " + spec.workDir : "exec " + name;
    return Error{kSpawnError, what + ": " + std::strerror(failure.err), failure.err};
  }
  logDebug("spawned " + name + " as pid " + std::to_string(pid));
  return pid;
}

SupervisorEvent Supervisor::wait(std::chrono::milliseconds timeout) {
  using Clock = std::chrono::steady_clock;
  SupervisorEvent event;
  reapAll();
  if (exited_) {
    event.type = SupervisorEvent::Type::ChildExited;
    event.status = status_;
    return event;
  }
  const sigset_t set = asyncSignals();
  const Clock::time_point deadline = Clock::now() + timeout;
  for (;;) {
    const auto remaining = std::chrono::duration_cast<std::chrono::nanoseconds>(
        std::max(deadline - Clock::now(), Clock::duration::zero()));
    timespec ts{};
    ts.tv_sec = static_cast<time_t>(remaining.count() / 1000000000);
    ts.tv_nsec = static_cast<long>(remaining.count() % 1000000000);
    siginfo_t info{};
    const int sig = sigtimedwait(&set, &info, &ts);
    reapAll();
    if (exited_) {
      // Takes priority: a signal taken in the same round has no one left to go to.
      event.type = SupervisorEvent::Type::ChildExited;
      event.status = status_;
      return event;
    }
    if (sig < 0) {
      // EAGAIN: time is up. EINTR (a stop/continue or a debugger): the caller loops anyway.
      if (errno != EAGAIN && errno != EINTR) {
        logWarn(std::string("sigtimedwait failed: ") + std::strerror(errno));
      }
      return event;
    }
    if (sig != SIGCHLD) {
      event.type = SupervisorEvent::Type::Signal;
      event.signal = sig;
      return event;
    }
    // SIGCHLD from an orphan: reaped above; keep waiting for the rest of the timeout.
    if (Clock::now() >= deadline) return event;
  }
}

void Supervisor::forward(int sig) const {
  // After the reap the pid may belong to someone else.
  if (exited_) return;
  if (kill(child_, sig) != 0 && errno != ESRCH) {
    logWarn("forwarding signal " + std::to_string(sig) + " to pid " + std::to_string(child_) +
            " failed: " + std::strerror(errno));
  }
}

void Supervisor::killGroup() const {
  // A group id is not handed out again while any member lives, so this stays safe after the
  // reap as long as something of the group is left to kill.
  if (kill(-child_, SIGKILL) != 0 && errno != ESRCH) {
    logWarn("killing process group " + std::to_string(child_) + " failed: " + std::strerror(errno));
  }
  // The child may have left its group (setsid); its pid is only ours until it is reaped.
  if (!exited_) kill(child_, SIGKILL);
}

void Supervisor::reapAll() {
  for (;;) {
    int status = 0;
    const pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid > 0) {
      ++reaped_;
      if (pid == child_ && !exited_) {
        exited_ = true;
        status_ = status;
        logDebug("child " + std::to_string(pid) + " exited with " + describeStatus(status));
      } else {
        logDebug("reaped pid " + std::to_string(pid) + " (" + describeStatus(status) + ")");
      }
      continue;
    }
    if (pid < 0 && errno == EINTR) continue;
    return;  // 0: children remain but none has exited; ECHILD: no children at all
  }
}

int waitForStopSignal(std::chrono::milliseconds d) {
  sigset_t stops = startSignals();
  sigdelset(&stops, SIGCHLD);
  timespec ts{static_cast<time_t>(d.count() / 1000), static_cast<long>(d.count() % 1000) * 1000000};
  const int sig = sigtimedwait(&stops, nullptr, &ts);
  return sig > 0 ? sig : 0;
}

StartGuard::StartGuard() {
  const sigset_t set = startSignals();
  signalFd_ = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  if (signalFd_ < 0) {
    // Without it, a stop signal stays pending and ends the program at the next sleep or once the
    // child runs: later, but never lost.
    logWarn(std::string("signalfd failed, start-up cannot be interrupted at once: ") +
            std::strerror(errno));
  }
}

StartGuard::~StartGuard() {
  stop();
}

void StartGuard::take(int sig) {
  if (sig == SIGCHLD) {
    int status = 0;
    while (waitpid(-1, &status, WNOHANG) > 0) ++reaped_;
    return;
  }
  if (stopSignal_ != 0) return;
  stopSignal_ = sig;
  abort_ = true;
}

void StartGuard::takeSignals() {
  if (signalFd_ < 0) return;
  signalfd_siginfo info{};
  while (read(signalFd_, &info, sizeof info) == static_cast<ssize_t>(sizeof info))
    take(static_cast<int>(info.ssi_signo));
}

int StartGuard::stopSignal() {
  takeSignals();
  return stopSignal_;
}

int StartGuard::sleep(std::chrono::milliseconds d) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + d;
  for (;;) {
    if (stopSignal() != 0) return stopSignal_;
    const auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(deadline - Clock::now());
    if (left.count() <= 0) return 0;
    timespec ts{static_cast<time_t>(left.count() / 1000000000),
                static_cast<long>(left.count() % 1000000000)};
    if (signalFd_ < 0) {
      // No signalfd: wait for the stop signals themselves (orphans wait for the Supervisor).
      if (const int sig = waitForStopSignal(std::chrono::ceil<std::chrono::milliseconds>(left)))
        take(sig);
      continue;
    }
    pollfd watched{signalFd_, POLLIN, 0};
    ppoll(&watched, 1, &ts, nullptr);  // EINTR or a signal: the loop looks again
  }
}

void StartGuard::stop() {
  takeSignals();
  if (signalFd_ >= 0) close(signalFd_);
  signalFd_ = -1;
}

int superviseChild(Supervisor& sup, const StopPlan& plan) {
  using Clock = std::chrono::steady_clock;
  bool stopping = false;
  bool killed = false;
  bool deregistered = false;
  auto deadline = Clock::time_point::max();
  bool started = !plan.afterStart;  // plan.afterStart has run, or never will
  const auto startAt = Clock::now() + plan.afterStartDelay;
  auto until = [](Clock::time_point when) {
    return std::clamp(std::chrono::duration_cast<std::chrono::milliseconds>(when - Clock::now()),
                      std::chrono::milliseconds(1), std::chrono::milliseconds(10000));
  };
  for (;;) {
    std::chrono::milliseconds wait(10000);
    if (stopping && !killed) wait = until(deadline);
    if (!started) wait = std::min(wait, until(startAt));
    const SupervisorEvent ev = sup.wait(wait);
    if (ev.type == SupervisorEvent::Type::ChildExited) {
      if (!deregistered) runBounded(plan.deregister, plan.deregisterTimeout);
      return exitCodeForWaitStatus(ev.status);
    }
    if (ev.type == SupervisorEvent::Type::Signal) {
      if ((ev.signal == SIGTERM || ev.signal == SIGINT) && !stopping) {
        stopping = true;
        logInfo(std::string("received SIG") + sigabbrev_np(ev.signal) +
                (plan.deregister ? ": deregistering (at most " +
                                       std::to_string(plan.deregisterTimeout.count()) +
                                       " ms), then stopping the command"
                                 : ": stopping the command"));
        runBounded(plan.deregister, plan.deregisterTimeout);
        deregistered = true;
        started = true;  // a stopping node sets nothing up
        deadline = Clock::now() + plan.grace;
      }
      if (isForwarded(ev.signal)) sup.forward(ev.signal);
    }
    if (!started && Clock::now() >= startAt) {
      started = true;
      plan.afterStart();
    }
    if (stopping && !killed && Clock::now() >= deadline) {
      logWarn("the command did not stop within STOP_GRACE; sending SIGKILL to its process group");
      sup.killGroup();
      killed = true;
    }
  }
}

}  // namespace esetcd

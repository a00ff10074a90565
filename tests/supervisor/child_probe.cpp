// A stand-in for Elasticsearch in the supervisor tests: runs the actions named on its command
// line, in order, and writes what it observes to files the tests read. Every wait is bounded so
// that a broken supervisor makes a test fail instead of hang.
//
//   report FILE             pid, ppid, pgid, SigBlk/SigIgn, open fds, cwd, terminal owner, env
//   block SIG | ignore SIG  change our own mask/disposition (negative twins)
//   record FILE             append the name of every signal of the fixed set received to FILE
//   touch FILE              create FILE (readiness marker)
//   wait-file FILE MS       keep running until FILE exists; exit 99 if it never does
//   sleep MS | exit CODE | kill SIG | kill-parent SIG
//   orphans N LIFE_MS GRACE_MS FILE
//                           leave N orphans that exit after LIFE_MS, wait for them to die, give
//                           our PID 1 / subreaper up to GRACE_MS to reap them, report what's left
//   fork [ ACTIONS... ]     run ACTIONS in a forked copy (same process group), carry on here
// Files are written to FILE.tmp and renamed, so a reader never sees half a report.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

constexpr int kWaitTimedOut = 99;
constexpr int kBadUsage = 97;
constexpr int kSurvivedKill = 98;

const std::map<std::string, int>& signalNames() {
  static const std::map<std::string, int> names = {
      {"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT},   {"TERM", SIGTERM},
      {"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"WINCH", SIGWINCH}, {"KILL", SIGKILL},
      {"PIPE", SIGPIPE}, {"ALRM", SIGALRM}};
  return names;
}

// The signals `record` listens for: a sample of what the supervisor forwards (every asynchronous
// signal but SIGCHLD), and SIGPIPE, which it must not.
constexpr int kRecorded[] = {SIGHUP,  SIGINT,   SIGQUIT, SIGTERM, SIGUSR1,
                             SIGUSR2, SIGWINCH, SIGPIPE, SIGALRM};

[[noreturn]] void usage(const std::string& what) {
  std::fprintf(stderr, "child_probe: %s\n", what.c_str());
  std::exit(kBadUsage);
}

int signalByName(const std::string& name) {
  const auto it = signalNames().find(name);
  if (it == signalNames().end()) usage("unknown signal " + name);
  return it->second;
}

long toNumber(const std::string& text) {
  char* end = nullptr;
  const long value = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0') usage("not a number: " + text);
  return value;
}

void sleepMs(long ms) {
  timespec ts{ms / 1000, (ms % 1000) * 1000000};
  // Recorded signals interrupt the sleep; finish it.
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

long nowMs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool exists(const std::string& path) {
  return access(path.c_str(), F_OK) == 0;
}

void writeAtomically(const std::string& path, const std::string& content) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    out << content;
  }
  std::rename(tmp.c_str(), path.c_str());
}

std::string statusField(const std::string& name) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, name.size() + 1, name + ":") == 0) {
      std::string value = line.substr(name.size() + 1);
      value.erase(0, value.find_first_not_of(" \t"));
      return value;
    }
  }
  return "missing";
}

std::string openFds() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return "unreadable";
  std::set<int> fds;
  while (const dirent* entry = readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    const int fd = std::atoi(entry->d_name);
    if (fd != dirfd(dir)) fds.insert(fd);
  }
  closedir(dir);
  std::string text;
  for (int fd : fds) text += (text.empty() ? "" : ",") + std::to_string(fd);
  return text;
}

void report(const std::string& file) {
  // Listed first, before this function opens anything of its own.
  const std::string fds = openFds();
  std::ostringstream out;
  out << "pid=" << getpid() << "\n"
      << "ppid=" << getppid() << "\n"
      << "pgid=" << getpgrp() << "\n"
      << "sigblk=" << statusField("SigBlk") << "\n"
      << "sigign=" << statusField("SigIgn") << "\n"
      << "fds=" << fds << "\n"
      << "tty_fg=" << tcgetpgrp(STDIN_FILENO) << "\n";
  char cwd[4096];
  out << "cwd=" << (getcwd(cwd, sizeof cwd) != nullptr ? cwd : "?") << "\n";
  const char* mark = std::getenv("PROBE_MARK");
  out << "mark=" << (mark != nullptr ? mark : "") << "\n";
  const char* path = std::getenv("PATH");
  out << "path=" << (path != nullptr ? path : "(unset)") << "\n";
  writeAtomically(file, out.str());
}

int recordFd = -1;

void recordSignal(int sig) {
  // Async-signal-safe: the name table was built before the handler was installed, and errno is
  // the interrupted code's.
  const int savedErrno = errno;
  const char* name = "?";
  for (const auto& [text, number] : signalNames()) {
    if (number == sig) name = text.c_str();
  }
  char line[16];
  std::size_t n = 0;
  for (; name[n] != '\0' && n < sizeof line - 1; ++n) line[n] = name[n];
  line[n++] = '\n';
  // O_APPEND and one write per signal: lines never interleave, even with a forked group-mate.
  [[maybe_unused]] const ssize_t written = write(recordFd, line, n);
  errno = savedErrno;
}

void record(const std::string& file) {
  signalNames();  // built now, never inside the handler
  // FILE may be a FIFO whose reader the test blocks on (dumb-init's style).
  recordFd = open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (recordFd < 0) usage("cannot open " + file);
  struct sigaction action {};
  action.sa_handler = recordSignal;
  sigfillset(&action.sa_mask);
  for (int sig : kRecorded) sigaction(sig, &action, nullptr);
}

std::string procState(pid_t pid, pid_t* ppid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!std::getline(in, stat)) return "";
  const std::size_t close = stat.rfind(')');
  if (close == std::string::npos) return "";
  std::istringstream fields(stat.substr(close + 2));
  std::string state;
  fields >> state >> *ppid;
  return state;
}

void orphans(long count, long lifeMs, long graceMs, const std::string& file) {
  int pipeFds[2];
  if (pipe(pipeFds) != 0) usage("pipe failed");
  const pid_t middle = fork();
  if (middle == 0) {
    close(pipeFds[0]);
    for (long i = 0; i < count; ++i) {
      const pid_t orphan = fork();
      if (orphan == 0) {
        close(pipeFds[1]);
        sleepMs(lifeMs);
        _exit(0);
      }
      [[maybe_unused]] const ssize_t written = write(pipeFds[1], &orphan, sizeof orphan);
    }
    // Exiting orphans them: they go to the nearest subreaper or to PID 1.
    _exit(0);
  }
  close(pipeFds[1]);
  std::vector<pid_t> pids;
  pid_t pid = 0;
  while (read(pipeFds[0], &pid, sizeof pid) == static_cast<ssize_t>(sizeof pid)) {
    pids.push_back(pid);
  }
  close(pipeFds[0]);
  waitpid(middle, nullptr, 0);  // our own child, not an orphan

  std::set<pid_t> parents;
  for (pid_t orphan : pids) {
    pid_t parent = 0;
    if (!procState(orphan, &parent).empty()) parents.insert(parent);
  }

  // Bounded: the orphans die after lifeMs; then the reaper gets graceMs.
  const long diedBy = nowMs() + lifeMs + 5000;
  long reapDeadline = -1;
  long alive = 0;
  long zombies = 0;
  long gone = 0;
  for (;;) {
    alive = zombies = gone = 0;
    for (pid_t orphan : pids) {
      pid_t parent = 0;
      const std::string state = procState(orphan, &parent);
      if (state.empty() || state == "X") {
        ++gone;
      } else if (state == "Z") {
        ++zombies;
      } else {
        ++alive;
      }
    }
    const long now = nowMs();
    if (alive == 0 && reapDeadline < 0) reapDeadline = now + graceMs;
    if (alive == 0 && zombies == 0) break;
    if (reapDeadline >= 0 && now >= reapDeadline) break;
    if (reapDeadline < 0 && now >= diedBy) break;
    sleepMs(5);
  }
  std::ostringstream out;
  out << "orphans=" << pids.size() << "\n"
      << "parents=";
  for (pid_t parent : parents) out << parent << (parent == *parents.rbegin() ? "" : ",");
  out << "\nalive=" << alive << "\nzombies=" << zombies << "\ngone=" << gone << "\n";
  writeAtomically(file, out.str());
}

// Finds the "]" that closes the "[" at args[open].
std::size_t matchingBracket(const std::vector<std::string>& args, std::size_t open) {
  int depth = 0;
  for (std::size_t i = open; i < args.size(); ++i) {
    if (args[i] == "[") ++depth;
    if (args[i] == "]" && --depth == 0) return i;
  }
  usage("unbalanced [ ]");
}

void run(const std::vector<std::string>& args) {
  std::size_t i = 0;
  const auto next = [&](const char* what) -> const std::string& {
    if (i >= args.size()) usage(std::string("missing ") + what);
    return args[i++];
  };
  while (i < args.size()) {
    const std::string action = args[i++];
    if (action == "report") {
      report(next("file"));
    } else if (action == "block" || action == "ignore") {
      const int sig = signalByName(next("signal"));
      if (action == "block") {
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, sig);
        sigprocmask(SIG_BLOCK, &set, nullptr);
      } else {
        signal(sig, SIG_IGN);
      }
    } else if (action == "record") {
      record(next("file"));
    } else if (action == "touch") {
      writeAtomically(next("file"), "");
    } else if (action == "wait-file") {
      const std::string file = next("file");
      const long deadline = nowMs() + toNumber(next("milliseconds"));
      while (!exists(file)) {
        if (nowMs() >= deadline) std::exit(kWaitTimedOut);
        sleepMs(5);
      }
    } else if (action == "sleep") {
      sleepMs(toNumber(next("milliseconds")));
    } else if (action == "exit") {
      std::exit(static_cast<int>(toNumber(next("code"))));
    } else if (action == "kill") {
      const int sig = signalByName(next("signal"));
      signal(sig, SIG_DFL);
      sigset_t set;
      sigemptyset(&set);
      sigaddset(&set, sig);
      sigprocmask(SIG_UNBLOCK, &set, nullptr);
      kill(getpid(), sig);
      sleepMs(1000);
      std::exit(kSurvivedKill);
    } else if (action == "kill-parent") {
      kill(getppid(), signalByName(next("signal")));
    } else if (action == "orphans") {
      const long count = toNumber(next("count"));
      const long lifeMs = toNumber(next("life"));
      const long graceMs = toNumber(next("grace"));
      orphans(count, lifeMs, graceMs, next("file"));
    } else if (action == "fork") {
      if (i >= args.size() || args[i] != "[") usage("fork needs [ ACTIONS ]");
      const std::size_t close = matchingBracket(args, i);
      const std::vector<std::string> inner(args.begin() + static_cast<long>(i) + 1,
                                           args.begin() + static_cast<long>(close));
      i = close + 1;
      std::fflush(nullptr);
      if (fork() == 0) {
        run(inner);
        std::exit(0);
      }
    } else {
      usage("unknown action " + action);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  run(std::vector<std::string>(argv + 1, argv + argc));
  return 0;
}

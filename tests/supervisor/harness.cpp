#define CATCH_CONFIG_EXTERNAL_INTERFACES  // for the listener that remembers failures
#include "harness.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <catch2/catch.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

namespace sup_test {
namespace {

bool currentTestFailed = false;

// Catch2 v2 has no "did this test fail" query; a listener sees every assertion.
struct FailureListener : Catch::TestEventListenerBase {
  using TestEventListenerBase::TestEventListenerBase;
  void testCaseStarting(const Catch::TestCaseInfo& info) override {
    currentTestFailed = false;
    TestEventListenerBase::testCaseStarting(info);
  }
  bool assertionEnded(const Catch::AssertionStats& stats) override {
    if (!stats.assertionResult.isOk()) currentTestFailed = true;
    return true;
  }
};

int shellCode(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

std::vector<std::string> splitWords(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> words;
  for (std::string word; in >> word;) words.push_back(word);
  return words;
}

std::string findInPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    const std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return name;  // exec fails with 127 and requirePidNamespaces says why
}

[[noreturn]] void execOrDie(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  execvp(args[0], args.data());
  std::fprintf(stderr, "harness: exec %s: %s\n", args[0], std::strerror(errno));
  _exit(127);
}

}  // namespace

CATCH_REGISTER_LISTENER(FailureListener)

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern =
      std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/supervisor-test-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error("mkdtemp " + pattern + ": " + std::strerror(errno));
  }
  path_ = pattern;
}

TempDir::~TempDir() {
  if (currentTestFailed || std::uncaught_exceptions() > 0) {
    std::cerr << "supervisor tests: kept " << path_ << " for inspection\n";
    return;
  }
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

Running::Running(Running&& other) noexcept
    : pid_(other.pid_),
      output_(std::move(other.output_)),
      finished_(other.finished_),
      code_(other.code_) {
  other.finished_ = true;
}

Running::~Running() {
  if (finished_) return;
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
}

bool Running::exitedNow() {
  if (finished_) return true;
  int status = 0;
  pid_t pid;
  do {
    pid = waitpid(pid_, &status, WNOHANG);
  } while (pid < 0 && errno == EINTR);
  if (pid != pid_) return false;
  finished_ = true;
  code_ = shellCode(status);
  return true;
}

std::optional<int> Running::waitExit(Millis timeout) {
  if (waitUntil([this] { return exitedNow(); }, timeout)) return code_;
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  finished_ = true;
  return std::nullopt;
}

std::string Running::output() const {
  return readFile(output_);
}

Running launch(const std::vector<std::string>& argv, const LaunchOptions& options) {
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    // Only our own single-threaded copy of the test runner lives here: any call is fine.
    for (const std::string& entry : options.env) {
      const std::size_t eq = entry.find('=');
      setenv(entry.substr(0, eq).c_str(), entry.substr(eq + 1).c_str(), 1);
    }
    sigset_t empty;
    sigemptyset(&empty);
    sigprocmask(SIG_SETMASK, &empty, nullptr);
    for (int sig : options.ignoredSignals) signal(sig, SIG_IGN);
    // Never hand our terminal (if ctest runs on one) to the process under test.
    const int in = open("/dev/null", O_RDONLY);
    const int out = open(options.output.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (in < 0 || out < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0) _exit(126);
    if (options.brokenStderr) {
      int fds[2];
      if (pipe(fds) != 0 || dup2(fds[1], 2) < 0) _exit(126);
      close(fds[0]);  // no reader: every write to stderr fails
      close(fds[1]);
    }
    // Whatever the test runner inherited (from ctest, a CI agent, a shell) is not for them.
    close_range(3, ~0U, 0);
    if (options.leakFd >= 3) {
      const int leaked = open("/dev/null", O_RDONLY);
      if (leaked < 0 || dup2(leaked, options.leakFd) < 0) _exit(126);
      if (leaked != options.leakFd) close(leaked);
    }
    execOrDie(argv);
  }
  return Running(pid, options.output);
}

std::vector<std::string> initCommand(const std::vector<std::string>& child) {
  const char* custom = std::getenv("SUPERVISOR_TEST_INIT");
  std::vector<std::string> command = custom != nullptr && *custom != '\0'
                                         ? splitWords(custom)
                                         : std::vector<std::string>{MINI_INIT_PATH};
  command.push_back("--");
  command.insert(command.end(), child.begin(), child.end());
  return command;
}

std::vector<std::string> inPidNamespace(const std::vector<std::string>& command) {
  // --kill-child: if the test (or its timeout) kills unshare, the namespace's PID 1 dies, and
  // with it everything in the namespace. --mount-proc: /proc inside shows the namespace.
  // Found through our PATH now, so that a test may give the init a PATH without it.
  static const std::string unshare = findInPath("unshare");
  std::vector<std::string> wrapped = {unshare, "--pid", "--fork", "--kill-child", "--mount-proc"};
  wrapped.insert(wrapped.end(), command.begin(), command.end());
  return wrapped;
}

pid_t initHostPid(const Running& unshare, Millis timeout) {
  const std::optional<pid_t> init = waitForChild(unshare.pid(), timeout);
  REQUIRE(init.has_value());
  const bool blocked = waitUntil(
      [&] {
        if (procComm(*init) == "unshare") return false;
        return maskHas(procStatusField(*init, "SigBlk"), {SIGTERM, SIGCHLD, SIGWINCH, SIGUSR1}) ||
               !childrenOf(*init).empty();
      },
      timeout);
  INFO("SigBlk of " << *init << ": " << procStatusField(*init, "SigBlk"));
  REQUIRE(blocked);
  return *init;
}

void requirePidNamespaces() {
  static std::optional<std::string> problem;
  static bool checked = false;
  if (!checked) {
    checked = true;
    TempDir dir;
    LaunchOptions options;
    options.output = dir.file("unshare.log");
    Running check = launch(inPidNamespace({"true"}), options);
    const std::optional<int> code = check.waitExit(Millis(5000));
    if (code != 0) {
      problem = "cannot create a PID namespace with `unshare --pid --fork --mount-proc` (exit " +
                (code ? std::to_string(*code) : std::string("timeout")) + "): " + check.output() +
                "These tests need util-linux unshare and root (CAP_SYS_ADMIN); they fail "
                "rather than skip, because PID 1 behaviour cannot be checked any other way.";
    }
  }
  if (problem) FAIL(*problem);
}

std::string probePath() {
  return CHILD_PROBE_PATH;
}

std::vector<std::string> probe(const std::vector<std::string>& actions) {
  std::vector<std::string> command = {probePath()};
  command.insert(command.end(), actions.begin(), actions.end());
  return command;
}

bool waitUntil(const std::function<bool()>& condition, Millis timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(Millis(2));
  }
}

bool fileExists(const std::string& path) {
  return access(path.c_str(), F_OK) == 0;
}

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

bool fileHasLine(const std::string& path, const std::string& line) {
  for (const auto& l : readLines(path))
    if (l == line) return true;
  return false;
}

size_t countIn(const std::string& text, const std::string& part) {
  size_t n = 0;
  for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

std::vector<std::string> readLines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

Report readReport(const std::string& path) {
  Report report;
  for (const std::string& line : readLines(path)) {
    const std::size_t eq = line.find('=');
    if (eq != std::string::npos) report[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return report;
}

void writeFile(const std::string& path, const std::string& content, unsigned mode) {
  {
    std::ofstream out(path);
    out << content;
  }
  chmod(path.c_str(), mode);
}

std::vector<pid_t> childrenOf(pid_t parent) {
  std::vector<pid_t> children;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return children;
  while (const dirent* entry = readdir(proc)) {
    if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
    std::ifstream in(std::string("/proc/") + entry->d_name + "/stat");
    std::string stat;
    if (!std::getline(in, stat)) continue;
    const std::size_t close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream fields(stat.substr(close + 2));
    std::string state;
    pid_t ppid = 0;
    fields >> state >> ppid;
    if (ppid == parent) children.push_back(static_cast<pid_t>(std::atoi(entry->d_name)));
  }
  closedir(proc);
  return children;
}

std::optional<pid_t> waitForChild(pid_t parent, Millis timeout) {
  std::optional<pid_t> child;
  waitUntil(
      [&] {
        const std::vector<pid_t> children = childrenOf(parent);
        if (!children.empty()) child = children.front();
        return child.has_value();
      },
      timeout);
  return child;
}

std::string procStatusField(pid_t pid, const std::string& name) {
  for (const std::string& line : readLines("/proc/" + std::to_string(pid) + "/status")) {
    if (line.compare(0, name.size() + 1, name + ":") == 0) {
      std::string value = line.substr(name.size() + 1);
      value.erase(0, value.find_first_not_of(" \t"));
      return value;
    }
  }
  return "";
}

std::string procComm(pid_t pid) {
  const std::vector<std::string> lines = readLines("/proc/" + std::to_string(pid) + "/comm");
  return lines.empty() ? "" : lines.front();
}

bool procHasFd(pid_t pid, int fd) {
  return fileExists("/proc/" + std::to_string(pid) + "/fd/" + std::to_string(fd));
}

bool maskHas(const std::string& hexMask, const std::vector<int>& signals) {
  if (hexMask.empty()) return false;
  const unsigned long long mask = std::strtoull(hexMask.c_str(), nullptr, 16);
  for (int sig : signals) {
    if ((mask & (1ULL << (sig - 1))) == 0) return false;
  }
  return true;
}

Report runIsolated(const std::function<void(Report&)>& body, Millis timeout) {
  TempDir dir;
  const std::string resultFile = dir.file("result");
  std::fflush(nullptr);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    Report report;
    int code = 0;
    try {
      body(report);
    } catch (const std::exception& e) {
      report["exception"] = e.what();
      code = 1;
    }
    std::ostringstream out;
    for (const auto& [key, value] : report) out << key << "=" << value << "\n";
    writeFile(resultFile, out.str());
    // _exit: no Catch teardown or atexit handlers in the copy.
    _exit(code);
  }
  Running child(pid, "/dev/null");
  const std::optional<int> code = child.waitExit(timeout);
  const Report report = readReport(resultFile);
  INFO("isolated body: " << readFile(resultFile));
  REQUIRE(code.has_value());
  REQUIRE(*code == 0);
  return report;
}

SignalPipe::SignalPipe(std::string path) : path_(std::move(path)) {
  if (mkfifo(path_.c_str(), 0600) != 0)
    throw std::runtime_error("mkfifo " + path_ + ": " + std::strerror(errno));
  // Non-blocking open of the read end succeeds without a writer; the child's open then does not
  // block either.
  fd_ = open(path_.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd_ < 0) throw std::runtime_error("open " + path_ + ": " + std::strerror(errno));
}

SignalPipe::~SignalPipe() {
  if (fd_ >= 0) close(fd_);
}

std::optional<std::string> SignalPipe::next(Millis timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (const std::size_t nl = buffered_.find('\n'); nl != std::string::npos) {
      std::string line = buffered_.substr(0, nl);
      buffered_.erase(0, nl + 1);
      return line;
    }
    const auto left =
        std::chrono::duration_cast<Millis>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    pollfd fd{fd_, POLLIN, 0};
    // POLLHUP before any writer opened, or after one closed: wait again, within the deadline.
    const int ready = poll(&fd, 1, static_cast<int>(std::min<long>(left.count(), 20)));
    if (ready > 0 && (fd.revents & POLLIN) == 0) {
      std::this_thread::sleep_for(Millis(5));  // writer gone (POLLHUP): a new one may open it
      continue;
    }
    if (ready <= 0) continue;
    char chunk[256];
    const ssize_t n = read(fd_, chunk, sizeof chunk);
    if (n > 0) buffered_.append(chunk, static_cast<std::size_t>(n));
  }
}

BlackHole::BlackHole() {
  fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(listen(fd_, 64) == 0);
  socklen_t len = sizeof addr;
  getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
}

BlackHole::~BlackHole() {
  close(fd_);
}

}  // namespace sup_test

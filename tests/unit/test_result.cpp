#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <string>

#include "result.hpp"

using namespace esetcd;

namespace {

// Runs `body` in a forked child with stderr on a pipe; returns what it wrote, and its wait status
// in `status`. The only place the unit tier starts a process: an abort can only be observed from
// outside.
template <typename Body>
std::string inChild(Body body, int& status) {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    // Catch's own SIGABRT handler would run in the child and report a second failure (and
    // allocate inside a signal handler, which TSan rightly rejects): abort as a program does.
    ::signal(SIGABRT, SIG_DFL);
    ::dup2(fds[1], STDERR_FILENO);
    ::close(fds[0]);
    body();
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string out;
  char buffer[512];
  ssize_t n;
  while ((n = ::read(fds[0], buffer, sizeof buffer)) > 0) out.append(buffer, n);
  ::close(fds[0]);
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  return out;
}

}  // namespace

TEST_CASE("the value of a failed Result aborts with the error's message") {
  int status = 0;
  std::string err = inChild(
      [] {
        Result<int> failed(Error{ErrorKind::Timeout, "etcd at http://10.0.0.1:2379 timed out", 0});
        volatile int value = failed.value();
        (void)value;
      },
      status);
  REQUIRE(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGABRT);
  CHECK(err.find("internal error") != std::string::npos);
  CHECK(err.find("timeout: etcd at http://10.0.0.1:2379 timed out") != std::string::npos);

  // operator-> and operator* are checked the same way.
  inChild(
      [] {
        Result<std::string> failed(Error{ErrorKind::System, "fork: no memory", 12});
        volatile size_t size = failed->size();
        (void)size;
      },
      status);
  CHECK((WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT));

  // The twin: a Result that holds a value gives it, and the child exits normally.
  inChild(
      [] {
        Result<int> ok(7);
        if (*ok != 7 || ok.value() != 7) ::_exit(1);
      },
      status);
  CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
}

TEST_CASE("every error kind has a name") {
  for (ErrorKind kind : {ErrorKind::Transport, ErrorKind::Timeout, ErrorKind::Status,
                         ErrorKind::Etcd, ErrorKind::Malformed, ErrorKind::LeaseLost,
                         ErrorKind::Compacted, ErrorKind::Aborted, ErrorKind::System})
    CHECK(std::string(toString(kind)) != "unknown");
}

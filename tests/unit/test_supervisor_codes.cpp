// The exit-code contract of the supervisor (docs/entrypoint.md): the child's code passes through
// unchanged, a death by signal becomes 128 + signal, exec failures become 126/127, and anything
// else is a system failure (111).
#include <catch2/catch.hpp>

#include <errno.h>
#include <signal.h>
#include <sys/wait.h>

#include "exit_codes.hpp"
#include "supervisor.hpp"

using esetcd::exitCodeForExecError;
using esetcd::exitCodeForWaitStatus;

namespace {

// waitpid() status words as Linux encodes them (the W* macros only decode).
int exitedStatus(int code) {
  return (code & 0xff) << 8;
}
int signaledStatus(int sig, bool coreDumped = false) {
  return sig | (coreDumped ? 0x80 : 0);
}
int stoppedStatus(int sig) {
  return (sig << 8) | 0x7f;
}

}  // namespace

TEST_CASE("every exit code from 0 to 255 passes through unchanged") {
  for (int code = 0; code <= 255; ++code) {
    INFO("exit code " << code);
    REQUIRE(WIFEXITED(exitedStatus(code)));
    CHECK(exitCodeForWaitStatus(exitedStatus(code)) == code);
  }
}

TEST_CASE("a death by signal maps to 128 + the signal number") {
  CHECK(exitCodeForWaitStatus(signaledStatus(SIGHUP)) == 129);
  CHECK(exitCodeForWaitStatus(signaledStatus(SIGINT)) == 130);
  CHECK(exitCodeForWaitStatus(signaledStatus(SIGKILL)) == 137);
  CHECK(exitCodeForWaitStatus(signaledStatus(SIGTERM)) == 143);
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig == SIGSTOP) continue;  // 0x137f would decode as "stopped", never as a death
    INFO("signal " << sig);
    REQUIRE(WIFSIGNALED(signaledStatus(sig)));
    CHECK(exitCodeForWaitStatus(signaledStatus(sig)) == esetcd::exit_code::kSignalBase + sig);
  }
}

TEST_CASE("a core dump does not change the signal's exit code") {
  CHECK(exitCodeForWaitStatus(signaledStatus(SIGSEGV, true)) == 139);
  CHECK(exitCodeForWaitStatus(signaledStatus(SIGABRT, true)) == 134);
}

TEST_CASE("a status that is neither exit nor death is a system failure") {
  // waitpid without WUNTRACED never reports a stop; if it ever did, no code would be right.
  CHECK(exitCodeForWaitStatus(stoppedStatus(SIGSTOP)) == esetcd::exit_code::kSystem);
  CHECK(exitCodeForWaitStatus(0xffff) == esetcd::exit_code::kSystem);  // "continued"
}

TEST_CASE("a missing command maps to 127") {
  CHECK(exitCodeForExecError(ENOENT) == 127);
  CHECK(exitCodeForExecError(ENOTDIR) == 127);
  CHECK(esetcd::exit_code::kNotFound == 127);
}

TEST_CASE("a command that cannot be executed maps to 126") {
  CHECK(exitCodeForExecError(EACCES) == 126);
  CHECK(exitCodeForExecError(ENOEXEC) == 126);
  CHECK(exitCodeForExecError(EPERM) == 126);
  CHECK(exitCodeForExecError(EISDIR) == 126);
  CHECK(esetcd::exit_code::kNotExecutable == 126);
}

TEST_CASE("any other exec or spawn failure maps to 111") {
  for (int err : {0, EAGAIN, ENOMEM, E2BIG, EMFILE, ELOOP, ENAMETOOLONG, EINVAL, ETXTBSY}) {
    INFO("errno " << err);
    CHECK(exitCodeForExecError(err) == esetcd::exit_code::kSystem);
  }
}

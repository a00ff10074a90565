// The supervision loop of the entrypoint without etcd or Elasticsearch around it, so that the
// supervisor tests exercise exactly what PID 1 does: block signals first, become a subreaper when
// not PID 1, spawn the child, forward signals, reap, and exit with the child's code.
//
//   mini_init -- COMMAND [ARGS...]
//
// Test-only knobs (the real entrypoint has none of these):
//   MINI_INIT_STOP_GRACE_MS=N   STOP_GRACE (default 20000)
//   MINI_INIT_SPAWN_DELAY_MS=N  wait N ms after blocking signals, before spawning, so a test can
//                               signal us inside the window the real entrypoint spends on etcd
//   MINI_INIT_LEAK_FD=N         open /dev/null as fd N without close-on-exec, so a test can check
//                               that the child does not inherit it
//   MINI_INIT_AFTER_START_MS=N  give the loop an afterStart (the entrypoint's own set-up after the
//                               spawn) due N ms after supervision begins; it logs "after-start ran"
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "exit_codes.hpp"
#include "log.hpp"
#include "supervisor.hpp"

extern char** environ;

namespace {

long envNumber(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? std::strtol(value, nullptr, 10) : -1;
}

}  // namespace

int main(int argc, char** argv) {
  // First, before anything could start a thread.
  esetcd::blockAsyncSignals();
  const char* level = std::getenv("LOG_LEVEL");
  esetcd::logInit(
      esetcd::parseLogLevel(level != nullptr ? level : "info").value_or(esetcd::LogLevel::Info));

  std::vector<std::string> args(argv + 1, argv + argc);
  const auto dashes = std::find(args.begin(), args.end(), "--");
  if (dashes == args.end() || dashes + 1 == args.end()) {
    esetcd::logError("usage: mini_init -- COMMAND [ARGS...]");
    return esetcd::exit_code::kUsage;
  }

  esetcd::becomeSubreaperIfNeeded();

  if (const long fd = envNumber("MINI_INIT_LEAK_FD"); fd >= 3) {
    const int opened = open("/dev/null", O_RDONLY);
    if (opened < 0 || (opened != fd && dup2(opened, static_cast<int>(fd)) < 0)) {
      esetcd::logError(std::string("MINI_INIT_LEAK_FD: ") + std::strerror(errno));
      return esetcd::exit_code::kSystem;
    }
    if (opened != fd) close(opened);
  }
  if (const long delayMs = envNumber("MINI_INIT_SPAWN_DELAY_MS"); delayMs > 0) {
    timespec ts{delayMs / 1000, (delayMs % 1000) * 1000000};
    nanosleep(&ts, nullptr);  // every async signal is blocked: nothing interrupts this
  }

  esetcd::SpawnSpec spec;
  spec.argv.assign(dashes + 1, args.end());
  for (char** entry = environ; *entry != nullptr; ++entry) spec.env.emplace_back(*entry);
  const esetcd::Result<pid_t> child = esetcd::spawnChild(spec);
  if (!child) {
    esetcd::logError(child.error().message);
    return esetcd::exitCodeForExecError(static_cast<int>(child.error().code));
  }

  // The product's own signal loop (superviseChild), so the two cannot drift apart; only the
  // etcd side of the stop is missing. MINI_INIT_STOP_GRACE_MS: STOP_GRACE.
  esetcd::Supervisor supervisor(*child);
  esetcd::StopPlan plan;
  if (const long grace = envNumber("MINI_INIT_STOP_GRACE_MS"); grace >= 0)
    plan.grace = std::chrono::milliseconds(grace);
  if (const long after = envNumber("MINI_INIT_AFTER_START_MS"); after >= 0) {
    plan.afterStartDelay = std::chrono::milliseconds(after);
    plan.afterStart = [] { esetcd::logInfo("after-start ran"); };
  }
  const int code = esetcd::superviseChild(supervisor, plan);
  esetcd::logInfo("child exited, exit code " + std::to_string(code) + ", reaped " +
                  std::to_string(supervisor.reapedCount()) + " processes");
  return code;
}

// The supervision loop of the entrypoint without etcd or Elasticsearch around it, so that the
// supervisor tests exercise exactly what PID 1 does: block signals first, become a subreaper when
// not PID 1, spawn the child, forward signals, reap, and exit with the child's code.
//
//   mini_init -- COMMAND [ARGS...]
//
// Test-only knobs (the real entrypoint has none of these):
//   MINI_INIT_SPAWN_DELAY_MS=N  wait N ms after blocking signals, before spawning, so a test can
//                               signal us inside the window the real entrypoint spends on etcd
//   MINI_INIT_LEAK_FD=N         open /dev/null as fd N without close-on-exec, so a test can check
//                               that the child does not inherit it
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

  esetcd::Supervisor supervisor(*child);
  const std::vector<int>& forwarded = esetcd::forwardedSignals();
  for (;;) {
    const esetcd::SupervisorEvent event = supervisor.wait(std::chrono::milliseconds(500));
    switch (event.type) {
      case esetcd::SupervisorEvent::Type::Timeout:
        break;
      case esetcd::SupervisorEvent::Type::Signal:
        if (std::find(forwarded.begin(), forwarded.end(), event.signal) != forwarded.end()) {
          esetcd::logDebug("forwarding signal " + std::to_string(event.signal));
          supervisor.forward(event.signal);
        } else {
          esetcd::logDebug("ignoring signal " + std::to_string(event.signal));
        }
        break;
      case esetcd::SupervisorEvent::Type::ChildExited: {
        const int code = esetcd::exitCodeForWaitStatus(event.status);
        esetcd::logInfo("child exited, exit code " + std::to_string(code) + ", reaped " +
                        std::to_string(supervisor.reapedCount()) + " processes");
        return code;
      }
    }
  }
}

#include "log.hpp"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <ctime>
#include <mutex>
#include <nlohmann/json.hpp>

#include "text.hpp"

namespace esetcd {
namespace {

std::atomic<LogLevel> gLevel{LogLevel::Info};
std::atomic<LogFormat> gFormat{LogFormat::Plain};

const char* levelLetter(LogLevel level) {
  switch (level) {
    case LogLevel::Error:
      return "E";
    case LogLevel::Warn:
      return "W";
    case LogLevel::Info:
      return "I";
    case LogLevel::Debug:
      return "D";
  }
  return "I";
}

// Writes the whole line or gives up: EINTR is retried, any other error (EPIPE when nobody reads
// our stderr, ENOSPC, EBADF) drops the line. The mutex keeps lines longer than PIPE_BUF whole.
void writeLine(const std::string& line) {
  static std::mutex mutex;
  std::lock_guard<std::mutex> lock(mutex);
  size_t done = 0;
  while (done < line.size()) {
    ssize_t n = ::write(STDERR_FILENO, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

}  // namespace

std::optional<LogLevel> parseLogLevel(const std::string& text) {
  if (text == "error") return LogLevel::Error;
  if (text == "warn" || text == "warning") return LogLevel::Warn;
  if (text == "info") return LogLevel::Info;
  if (text == "debug") return LogLevel::Debug;
  return std::nullopt;
}

const char* toString(LogLevel level) {
  switch (level) {
    case LogLevel::Error:
      return "error";
    case LogLevel::Warn:
      return "warn";
    case LogLevel::Info:
      return "info";
    case LogLevel::Debug:
      return "debug";
  }
  return "info";
}

std::optional<LogFormat> parseLogFormat(const std::string& text) {
  if (text == "plain") return LogFormat::Plain;
  if (text == "json") return LogFormat::Json;
  return std::nullopt;
}

void logInit(LogLevel level, LogFormat format) {
  gLevel = level;
  gFormat = format;
}

std::string formatLogLine(LogFormat format, LogLevel level, long long epochMillis, int pid,
                          const std::string& action, const std::string& message,
                          const std::vector<LogField>& fields) {
  if (format == LogFormat::Plain) {
    // One event, one line: a newline or a stray byte in a text from etcd or the node shows as
    // \xNN and cannot forge a line of its own.
    std::string line;
    line.reserve(48 + message.size());
    line += "es-etcd-entrypoint[";
    line += std::to_string(pid);
    line += "] ";
    line += isoTimeUtc(epochMillis);
    line += ' ';
    line += levelLetter(level);
    line += ' ';
    line += printableText(message);
    return line;
  }
  nlohmann::ordered_json line = {
      {"@timestamp", isoTimeUtc(epochMillis)},
      {"log.level", toString(level)},
      {"message", message},
      {"ecs.version", "1.6.0"},
      {"service.name", "es-etcd-entrypoint"},
      {"process.pid", pid},
  };
  if (!action.empty()) line["event.action"] = action;
  for (const auto& field : fields) {
    if (field.isList)
      line[field.name] = field.list;
    else
      line[field.name] = field.value;
  }
  // Texts from etcd or the environment may hold bytes that are not UTF-8: replaced, never thrown.
  return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void logEvent(LogLevel level, const std::string& action, const std::string& message,
              const std::vector<LogField>& fields) {
  if (level > gLevel.load()) return;
  auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  std::string line = formatLogLine(gFormat.load(), level, now, static_cast<int>(::getpid()), action,
                                   message, fields);
  line += '\n';
  writeLine(line);
}

void logError(const std::string& message) {
  logEvent(LogLevel::Error, "", message);
}
void logWarn(const std::string& message) {
  logEvent(LogLevel::Warn, "", message);
}
void logInfo(const std::string& message) {
  logEvent(LogLevel::Info, "", message);
}
void logDebug(const std::string& message) {
  logEvent(LogLevel::Debug, "", message);
}

}  // namespace esetcd

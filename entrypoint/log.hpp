// One log stream for the whole program, on stderr, one line per event, in one of two formats:
//   plain (default):  es-etcd-entrypoint[<pid>] <UTC time> <level letter> <message>
//   json:             {"@timestamp":…,"log.level":"info","message":…,"ecs.version":"1.6.0",
//                      "service.name":"es-etcd-entrypoint","process.pid":…,
//                      "event.action":"registered","key":…}
// The JSON form uses the ECS field names of Elasticsearch's own JSON logs, so that one pipeline
// reads both; the fields of an event (key, endpoint, peers, event.reason, …) come only with it.
// The level comes from LOG_LEVEL, the format from LOG_FORMAT. Messages name the operation and the
// cause and never carry a secret (passwords, tokens).
//
// Every line is written with one write(2) (whole lines never interleave) and a failed write is
// ignored: a log that cannot be written must never stop PID 1.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace esetcd {

enum class LogLevel { Error = 0, Warn = 1, Info = 2, Debug = 3 };
enum class LogFormat { Plain, Json };

std::optional<LogLevel> parseLogLevel(const std::string& text);
const char* toString(LogLevel level);
std::optional<LogFormat> parseLogFormat(const std::string& text);

// Sets the threshold and the format; may be called again. Logging works before it too (info,
// plain), e.g. from tests.
void logInit(LogLevel level, LogFormat format = LogFormat::Plain);

// One field of an event: a string, or a list of strings (JSON array) when `list` is set.
struct LogField {
  LogField(std::string fieldName, std::string text)
      : name(std::move(fieldName)), value(std::move(text)) {}
  LogField(std::string fieldName, std::vector<std::string> items)
      : name(std::move(fieldName)), list(std::move(items)), isList(true) {}
  std::string name;
  std::string value;
  std::vector<std::string> list;
  bool isList = false;
};

// An event an operator may want to find or count: `action` becomes event.action and `fields`
// extra JSON fields. The plain format shows the message alone.
void logEvent(LogLevel level, const std::string& action, const std::string& message,
              const std::vector<LogField>& fields = {});

void logError(const std::string& message);
void logWarn(const std::string& message);
void logInfo(const std::string& message);
void logDebug(const std::string& message);

// The line that would be written, without its newline: pure, for tests. `epochMillis` is the
// event time in milliseconds since the epoch (UTC).
std::string formatLogLine(LogFormat format, LogLevel level, long long epochMillis, int pid,
                          const std::string& action, const std::string& message,
                          const std::vector<LogField>& fields);

}  // namespace esetcd

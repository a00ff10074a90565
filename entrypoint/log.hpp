// One log format for the whole program, on stderr:
//   es-etcd-entrypoint[<pid>] <time> <LEVEL> <message>
// The level comes from one setting (LOG_LEVEL). Messages name the operation and the cause and
// never carry a secret (passwords, tokens).
#pragma once

#include <optional>
#include <string>

namespace esetcd {

enum class LogLevel { Error = 0, Warn = 1, Info = 2, Debug = 3 };

std::optional<LogLevel> parseLogLevel(const std::string& text);
const char* toString(LogLevel level);

// Sets the threshold; may be called again. Thread-safe logging afterwards.
void logInit(LogLevel level);

void logError(const std::string& message);
void logWarn(const std::string& message);
void logInfo(const std::string& message);
void logDebug(const std::string& message);

}  // namespace esetcd

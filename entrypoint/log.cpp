#include "log.hpp"

#include <Poco/AutoPtr.h>
#include <Poco/ConsoleChannel.h>
#include <Poco/FormattingChannel.h>
#include <Poco/Logger.h>
#include <Poco/PatternFormatter.h>

namespace esetcd {
namespace {

Poco::Logger& logger() {
  // Poco's logger registry is thread-safe; the channel is set up once on first use so that
  // logging before logInit (e.g. from tests) still works.
  static Poco::Logger& instance = []() -> Poco::Logger& {
    Poco::AutoPtr<Poco::PatternFormatter> format(
        new Poco::PatternFormatter("es-etcd-entrypoint[%P] %Y-%m-%dT%H:%M:%S.%iZ %q %t"));
    Poco::AutoPtr<Poco::FormattingChannel> channel(
        new Poco::FormattingChannel(format, new Poco::ConsoleChannel));
    Poco::Logger& root = Poco::Logger::get("es-etcd-entrypoint");
    root.setChannel(channel);
    root.setLevel(Poco::Message::PRIO_INFORMATION);
    return root;
  }();
  return instance;
}

int pocoPriority(LogLevel level) {
  switch (level) {
    case LogLevel::Error:
      return Poco::Message::PRIO_ERROR;
    case LogLevel::Warn:
      return Poco::Message::PRIO_WARNING;
    case LogLevel::Info:
      return Poco::Message::PRIO_INFORMATION;
    case LogLevel::Debug:
      return Poco::Message::PRIO_DEBUG;
  }
  return Poco::Message::PRIO_INFORMATION;
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

void logInit(LogLevel level) {
  logger().setLevel(pocoPriority(level));
}

void logError(const std::string& message) {
  logger().error(message);
}
void logWarn(const std::string& message) {
  logger().warning(message);
}
void logInfo(const std::string& message) {
  logger().information(message);
}
void logDebug(const std::string& message) {
  logger().debug(message);
}

}  // namespace esetcd

#include <catch2/catch.hpp>

#include <cstdio>
#include <ctime>

#include <nlohmann/json.hpp>

#include "log.hpp"
#include "text.hpp"

using namespace esetcd;

namespace {

// 2026-12-05T09:15:31.395Z
constexpr long long kWhen = 1796462131395LL;

}  // namespace

TEST_CASE("log: the plain line keeps its shape, fields are not shown") {
  CHECK(formatLogLine(LogFormat::Plain, LogLevel::Warn, kWhen, 1, "registered", "registered /k",
                      {{"key", "/k"}}) ==
        "es-etcd-entrypoint[1] 2026-12-05T09:15:31.395Z W registered /k");
  CHECK(formatLogLine(LogFormat::Plain, LogLevel::Info, 0, 7, "", "x", {}) ==
        "es-etcd-entrypoint[7] 1970-01-01T00:00:00.000Z I x");
}

TEST_CASE("log: the JSON line has the ECS fields, the event's action and its fields") {
  std::string line =
      formatLogLine(LogFormat::Json, LogLevel::Info, kWhen, 42, "seed-hosts-changed",
                    "seed hosts now [10.0.0.2:9300]",
                    {{"peers", std::vector<std::string>{"10.0.0.2:9300", "[fd00::5]:9300"}},
                     {"file.path", "/usr/share/elasticsearch/config/unicast_hosts.txt"}});
  CHECK(line.find('\n') == std::string::npos);
  auto doc = nlohmann::json::parse(line);
  CHECK(doc["@timestamp"] == "2026-12-05T09:15:31.395Z");
  CHECK(doc["log.level"] == "info");
  CHECK(doc["message"] == "seed hosts now [10.0.0.2:9300]");
  CHECK(doc["ecs.version"] == "1.6.0");
  CHECK(doc["service.name"] == "es-etcd-entrypoint");
  CHECK(doc["process.pid"] == 42);
  CHECK(doc["event.action"] == "seed-hosts-changed");
  CHECK(doc["peers"] == nlohmann::json::array({"10.0.0.2:9300", "[fd00::5]:9300"}));
  CHECK(doc["file.path"] == "/usr/share/elasticsearch/config/unicast_hosts.txt");
  // @timestamp first, as Elasticsearch writes it.
  CHECK(line.rfind("{\"@timestamp\":", 0) == 0);

  // No action: no event.action field.
  auto plain = nlohmann::json::parse(
      formatLogLine(LogFormat::Json, LogLevel::Error, kWhen, 1, "", "boom", {}));
  CHECK(plain["log.level"] == "error");
  CHECK_FALSE(plain.contains("event.action"));
}

TEST_CASE("log: hostile text stays one valid JSON line") {
  // A key from etcd with a newline and bytes that are not UTF-8.
  std::string line = formatLogLine(LogFormat::Json, LogLevel::Warn, kWhen, 1,
                                   "registration-skipped", "skipping \"x\"\nforged line",
                                   {{"key", "/services/es/10.0.0.2\nevil\xff\xfe"}});
  CHECK(line.find('\n') == std::string::npos);
  auto doc = nlohmann::json::parse(line);
  CHECK(doc["message"] == "skipping \"x\"\nforged line");
  CHECK(doc["key"].get<std::string>().find("evil") != std::string::npos);
}

TEST_CASE("log: levels and formats parse, and nothing else does") {
  CHECK(parseLogFormat("json") == LogFormat::Json);
  CHECK(parseLogFormat("plain") == LogFormat::Plain);
  CHECK_FALSE(parseLogFormat("JSON"));
  CHECK_FALSE(parseLogFormat("ecs"));
  CHECK(parseLogLevel("warning") == LogLevel::Warn);
  CHECK_FALSE(parseLogLevel("trace"));
}

TEST_CASE("log: a plain line stays one line whatever the message holds") {
  CHECK(formatLogLine(LogFormat::Plain, LogLevel::Warn, 0, 1, "", "etcd says: bad\nW forged", {}) ==
        "es-etcd-entrypoint[1] 1970-01-01T00:00:00.000Z W etcd says: bad\\x0aW forged");
  // Valid UTF-8 is kept as it is.
  CHECK(formatLogLine(LogFormat::Plain, LogLevel::Info, 0, 1, "", "node caf\xc3\xa9", {}) ==
        "es-etcd-entrypoint[1] 1970-01-01T00:00:00.000Z I node caf\xc3\xa9");
}

TEST_CASE("isoTimeUtc agrees with gmtime_r, without reading a time zone") {
  CHECK(esetcd::isoTimeUtc(0) == "1970-01-01T00:00:00.000Z");
  CHECK(esetcd::isoTimeUtc(-5) == "1970-01-01T00:00:00.000Z");
  CHECK(esetcd::isoTimeUtc(951782400123) == "2000-02-29T00:00:00.123Z");
  CHECK(esetcd::isoTimeUtc(1796521999999) == "2026-12-06T01:53:19.999Z");
  CHECK(esetcd::isoTimeUtc(4107542399000) == "2100-02-28T23:59:59.000Z");
  // Every day from 1970 to 2200, at a different time of day each.
  for (long long day = 0; day < 84000; day += 1) {
    const long long ms = day * 86400000LL + (day * 7919 % 86400) * 1000 + day % 1000;
    std::time_t seconds = static_cast<std::time_t>(ms / 1000);
    std::tm utc{};
    ::gmtime_r(&seconds, &utc);
    char expected[64];
    std::snprintf(expected, sizeof expected, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                  utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min,
                  utc.tm_sec, static_cast<int>(ms % 1000));
    if (esetcd::isoTimeUtc(ms) != expected) {
      FAIL("day " << day << ": " << esetcd::isoTimeUtc(ms) << " != " << expected);
    }
  }
}

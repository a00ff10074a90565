// Settings as a user (or a compose file) gives them: NAME=VALUE parts become the environment,
// parts that start with '-' the command line. Invariants: no crash, no exception; every error
// names a setting and is one printable line (no secret, no control byte); a configuration
// without errors holds a valid publish host and positive durations.
#include "config.hpp"
#include "fuzz_input.hpp"
#include "host.hpp"
#include "text.hpp"

using namespace esetcd;

namespace {
std::string noFiles(const std::string&, bool& ok) {
  ok = false;
  return "";
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Env env;
  std::vector<std::string> args;
  for (const auto& part : fuzz::split(data, size)) {
    if (!part.empty() && part[0] == '-') {
      args.push_back(part);
    } else if (auto eq = part.find('='); eq != std::string::npos && eq > 0) {
      env[part.substr(0, eq)] = part.substr(eq + 1);
    }
  }
  // The Elasticsearch image's layout, so that a home is always found without touching disk.
  auto elasticsearchImage = [](const std::string& path) {
    return path.rfind(kElasticsearchHome, 0) == 0;
  };
  ConfigOutcome out = parseConfig(args, env, noFiles, elasticsearchImage);
  for (const auto& error : out.errors) {
    if (!textProblem(error).empty())
      std::fprintf(stderr, "error: %s\n", printableText(error).c_str());
    FUZZ_CHECK(textProblem(error).empty());
    FUZZ_CHECK(!error.empty());
  }
  if (out.errors.empty()) {
    const Config& c = out.config;
    FUZZ_CHECK(c.publishHost.empty() || validHost(c.publishHost));
    FUZZ_CHECK(c.healthInterval.count() > 0 && c.etcdTimeout.count() > 0);
    FUZZ_CHECK(!c.etcdEndpoints.empty());
  }
  return 0;
}

// Version detection from the file names in ES_HOME/lib, and the node settings files it reads
// (elasticsearch.yml / opensearch.yml, node.roles). Invariants: no crash; a detected version
// prints and parses back to itself; roles come out trimmed, non-empty, one per comma.
#include "flavor.hpp"
#include "fuzz_input.hpp"
#include "node_api.hpp"
#include "roles.hpp"
#include "text.hpp"

using namespace esetcd;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto parts = fuzz::split(data, size, '\n');
  for (const char* wanted : {"auto", "elasticsearch", "opensearch"}) {
    if (auto flavor = detectFlavor(parts, wanted)) {
      std::string printed = toString(*flavor);
      auto again = parseVersion(printed.substr(printed.find(' ') + 1));
      FUZZ_CHECK(again && again->major == flavor->version.major &&
                 again->minor == flavor->version.minor && again->patch == flavor->version.patch);
      (void)settingArg(*flavor, "node.name", "x");
    }
  }
  std::string whole(fuzz::text(data, size));
  (void)parseVersion(whole);
  for (const auto& [key, value] : flattenYaml(whole)) FUZZ_CHECK(!key.empty());
  for (const auto& role : parseRoleList(whole)) {
    FUZZ_CHECK(!role.empty());
    FUZZ_CHECK(role.find(',') == std::string::npos && role == trim(role));
  }
  return 0;
}

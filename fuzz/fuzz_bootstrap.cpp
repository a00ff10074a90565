// Announcements and the bootstrap decision, as written by peers (or by anyone with write access
// to the state prefix): host NUL value pairs, the last part the decision. Invariants: no crash;
// candidates are distinct and sorted; the initial masters are `expect` candidates or nothing; a
// decision that parses writes back to itself.
#include <algorithm>
#include <set>

#include "bootstrap.hpp"
#include "fuzz_input.hpp"

using namespace esetcd;

namespace {
const std::string kDir = "/es-etcd-entrypoint/services/elasticsearch/announce";
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const int expect = 1 + data[0] % 5;
  auto parts = fuzz::split(data + 1, size - 1);
  std::vector<KeyValue> announcements;
  for (size_t i = 0; i + 1 < parts.size(); i += 2)
    announcements.push_back({kDir + "/" + parts[i], parts[i + 1]});

  auto candidates = bootstrapCandidates(announcements, kDir);
  FUZZ_CHECK(std::is_sorted(candidates.begin(), candidates.end()));
  FUZZ_CHECK(std::set<std::string>(candidates.begin(), candidates.end()).size() ==
             candidates.size());
  auto masters = chooseInitialMasters(announcements, kDir, expect);
  if (masters) {
    FUZZ_CHECK(masters->size() == static_cast<size_t>(expect));
    for (const auto& name : *masters)
      FUZZ_CHECK(std::find(candidates.begin(), candidates.end(), name) != candidates.end());
  } else {
    FUZZ_CHECK(candidates.size() < static_cast<size_t>(expect));
  }
  for (const auto& kv : announcements) (void)announcementIsFresh(kv.value);

  if (auto decision = parseDecision(parts.back())) {
    FUZZ_CHECK(parseDecision(decisionValue(*decision)) == decision);
  }
  return 0;
}

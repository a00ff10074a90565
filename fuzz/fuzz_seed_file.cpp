// The seed file as read back from disk (the cached peer list of an etcd outage): whatever the
// file holds, only valid host:port lines come out, and reading what we would write is stable.
#include "fuzz_input.hpp"
#include "host.hpp"
#include "peers.hpp"
#include "seed_file.hpp"

using namespace esetcd;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(fuzz::text(data, size));
  auto seeds = parseSeedFileText(text);
  for (const auto& seed : seeds) FUZZ_CHECK(validHostPort(seed));
  FUZZ_CHECK(parseSeedFileText(seedFileText(seeds)) == seeds);

  if (auto host = validHost(text)) {
    // Canonical form is a fixed point.
    auto again = validHost(*host);
    FUZZ_CHECK(again && *again == *host);
    FUZZ_CHECK(validHostPort(hostPort(*host, 9300)));
  }
  return 0;
}

// A registration as anyone with write access to the prefix can write it: key NUL value. The
// invariants are the ones the seed file depends on: an accepted peer's host is a valid host, every
// seed line is a valid host:port, the seed file reads back as written, and a peer written back as
// our own record parses to the same peer (round trip stable).
#include "fuzz_input.hpp"
#include "host.hpp"
#include "peers.hpp"
#include "seed_file.hpp"

using namespace esetcd;

namespace {
const std::string kDir = "/services/elasticsearch";
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto parts = fuzz::split(data, size);
  if (parts.size() < 2) return 0;
  std::vector<KeyValue> kvs;
  for (size_t i = 0; i + 1 < parts.size(); i += 2)
    kvs.push_back({kDir + "/" + parts[i], parts[i + 1]});

  std::vector<std::string> warnings;
  auto peers = parsePeers(kDir, kvs, warnings);
  FUZZ_CHECK(peers.size() + warnings.size() == kvs.size());
  for (const auto& peer : peers) {
    auto canonical = validHost(peer.host);
    FUZZ_CHECK(canonical && *canonical == peer.host);
    FUZZ_CHECK(peer.transportPort >= 1 && peer.transportPort <= 65535);
    FUZZ_CHECK(validHostPort(hostPort(peer.host, peer.transportPort)));

    // Round trip: the peer as our own record parses back to the same peer.
    Identity self;
    self.publishHost = peer.host;
    self.httpPort = peer.httpPort;
    self.transportPort = peer.transportPort;
    self.nodeName = peer.nodeName;
    Flavor flavor;
    auto again =
        parsePeer(kDir, {registrationKey(kDir, self), registrationValue(self, flavor, "")});
    FUZZ_CHECK(again && again->host == peer.host && again->transportPort == peer.transportPort &&
               again->httpPort == peer.httpPort);
  }
  for (const auto& warning : warnings) FUZZ_CHECK(warning.find('\n') == std::string::npos);

  Identity self;
  self.publishHost = "10.0.0.1";
  auto seeds = seedHosts(peers, self);
  for (const auto& seed : seeds) FUZZ_CHECK(validHostPort(seed));
  FUZZ_CHECK(parseSeedFileText(seedFileText(seeds)) == seeds);
  return 0;
}

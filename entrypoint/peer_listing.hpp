// One listing of the registrations in etcd, parsed into peers: what the start and every re-list
// of the background thread read. The parsing rules are peers.hpp's; this adds the etcd request,
// the revision it was read at, and the warnings for malformed entries (once per key and value).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "etcd_store.hpp"
#include "peers.hpp"

namespace esetcd {

struct PeerSnapshot {
  std::vector<Peer> peers;
  int64_t revision = 0;
  bool truncated = false;  // only the first `limit` registrations were read
};

// Lists the registrations under `dir` and parses them; malformed entries are logged and skipped.
// With `announceDir`, the starting peers announced there are added (they are not registered yet
// but must find each other to form a cluster); the revision stays the registrations'.
Result<PeerSnapshot> readPeers(Store& store, const std::string& dir,
                               const std::string& announceDir = "", size_t limit = 0);

}  // namespace esetcd

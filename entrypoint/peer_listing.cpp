#include "peer_listing.hpp"

#include <mutex>
#include <set>

#include "log.hpp"
#include "text.hpp"

namespace esetcd {
namespace {

// Malformed registrations already reported. A bad key stays in etcd and is listed again on every
// re-list (each second while unregistered): it is reported once per key and value, not per
// listing. Bounded, since anyone with write access to the prefix can write many keys.
class SeenOnce {
 public:
  bool firstTime(const std::string& item) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (seen_.count(item)) return false;
    if (seen_.size() == kMaxRemembered) {
      if (!full_) logWarn("more malformed registrations than can be reported one by one");
      full_ = true;
      return false;
    }
    seen_.insert(item);
    return true;
  }

 private:
  static constexpr size_t kMaxRemembered = 1024;
  std::mutex mutex_;
  std::set<std::string> seen_;
  bool full_ = false;
};

SeenOnce& malformedSeen() {
  static SeenOnce instance;
  return instance;
}

}  // namespace

Result<PeerSnapshot> readPeers(Store& store, const std::string& dir, const std::string& announceDir,
                               size_t limit) {
  auto listing = store.list(dir, limit);
  if (!listing) return listing.error();
  PeerSnapshot snapshot;
  for (const auto& kv : listing->kvs) {
    auto peer = parsePeer(dir, kv);
    if (peer) {
      snapshot.peers.push_back(std::move(peer.value()));
      continue;
    }
    const std::string& why = peer.error().message;
    if (malformedSeen().firstTime(kv.key + '\0' + kv.value))
      logEvent(LogLevel::Warn, "registration-skipped",
               "skipping registration " + printableText(kv.key) + ": " + why,
               {{"key", kv.key}, {"event.reason", why}});
  }
  snapshot.revision = listing->revision;
  snapshot.truncated = listing->truncated;
  if (announceDir.empty()) return snapshot;
  auto announced = store.list(announceDir);
  if (!announced) return announced.error();
  std::vector<std::string> ignored;  // announcements are ours: no need to warn twice
  for (auto& peer : parsePeers(announceDir, announced->kvs, ignored))
    snapshot.peers.push_back(std::move(peer));
  return snapshot;
}

}  // namespace esetcd

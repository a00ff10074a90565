#include "monitor.hpp"

#include "health.hpp"
#include "log.hpp"
#include "seed_file.hpp"

namespace esetcd {

using Clock = std::chrono::steady_clock;
using std::chrono::duration_cast;
using std::chrono::milliseconds;

void StopFlag::raise() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    flag_ = true;
  }
  cv_.notify_all();
}

bool StopFlag::waitFor(milliseconds d) {
  std::unique_lock<std::mutex> lock(mutex_);
  return cv_.wait_for(lock, d, [this] { return flag_.load(); });
}

Result<PeerSnapshot> readPeers(Store& store, const std::string& dir) {
  auto listing = store.list(dir);
  if (!listing) return listing.error();
  std::vector<std::string> warnings;
  PeerSnapshot snapshot;
  snapshot.peers = parsePeers(dir, listing->kvs, warnings);
  snapshot.revision = listing->revision;
  for (const auto& w : warnings) logWarn(w);
  return snapshot;
}

void publishSeeds(const std::vector<std::string>& seeds, const std::string& seedFile,
                  const std::string& cacheFile) {
  std::string text = seedFileText(seeds);
  std::string error;
  std::string list;
  for (const auto& s : seeds) list += (list.empty() ? "" : ",") + s;
  if (!seedFile.empty()) {
    WriteOutcome outcome = writeFileIfChanged(seedFile, text, error);
    if (outcome == WriteOutcome::Written) logInfo("seed hosts now [" + list + "] in " + seedFile);
    if (outcome == WriteOutcome::Failed) logError("cannot update seed hosts: " + error);
  }
  if (!cacheFile.empty() && writeFileIfChanged(cacheFile, text, error) == WriteOutcome::Failed)
    logWarn("cannot cache the peer list: " + error);
}

Monitor::Monitor(MonitorSettings settings, Store& watchStore, Registrar& registrar, StopFlag& stop)
    : settings_(std::move(settings)), store_(watchStore), registrar_(registrar), stop_(stop) {}

void Monitor::run(int64_t revision) {
  revision_ = revision;
  auto nextProbe = Clock::now();
  while (!stop_.raised()) {
    if (Clock::now() >= nextProbe) {
      probe();
      nextProbe = std::max(nextProbe + settings_.interval, Clock::now());
    }
    if (settings_.followPeers)
      followPeersUntil(nextProbe);
    else
      stop_.waitFor(duration_cast<milliseconds>(nextProbe - Clock::now()));
  }
}

void Monitor::probe() {
  HealthReport report = probeHealth(settings_.healthUrl, settings_.healthTimeout, stop_.atomic());
  if (stop_.raised()) return;
  registrar_.onProbe(report.healthy, report.reason);
}

bool Monitor::relist() {
  auto snapshot = readPeers(store_, settings_.prefix);
  if (!snapshot) {
    if (!etcdDown_) logWarn("cannot list peers: " + snapshot.error().message);
    etcdDown_ = true;
    return false;
  }
  if (etcdDown_) logInfo("etcd answers again");
  etcdDown_ = false;
  needRelist_ = false;
  revision_ = snapshot->revision;
  publishSeeds(seedHosts(snapshot->peers, settings_.self), settings_.seedFile, settings_.cacheFile);
  return true;
}

void Monitor::followPeersUntil(Clock::time_point deadline) {
  while (!stop_.raised() && Clock::now() < deadline) {
    if (needRelist_ && !relist()) {
      stop_.waitFor(
          std::min(settings_.etcdRetry, duration_cast<milliseconds>(deadline - Clock::now())));
      continue;
    }
    auto left = duration_cast<milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return;
    auto change = store_.waitForChange(settings_.prefix, revision_, left);
    if (stop_.raised()) return;
    if (change && change->changed) {
      needRelist_ = true;  // list again: simpler and safer than replaying events
    } else if (change) {
      revision_ = std::max(revision_, change->revision);
    } else {
      // Compacted, or etcd unreachable: list again once it answers.
      if (change.error().kind != ErrorKind::Compacted && !etcdDown_)
        logWarn("watching peers failed: " + change.error().message);
      if (change.error().kind != ErrorKind::Compacted) etcdDown_ = true;
      needRelist_ = true;
      stop_.waitFor(
          std::min(settings_.etcdRetry, duration_cast<milliseconds>(deadline - Clock::now())));
    }
  }
}

}  // namespace esetcd

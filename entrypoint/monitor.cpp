#include "monitor.hpp"

#include "health.hpp"
#include "log.hpp"
#include "memory.hpp"
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

Result<PeerSnapshot> readPeers(Store& store, const std::string& dir, const std::string& announceDir,
                               size_t limit) {
  auto listing = store.list(dir, limit);
  if (!listing) return listing.error();
  std::vector<std::string> warnings;
  PeerSnapshot snapshot;
  snapshot.peers = parsePeers(dir, listing->kvs, warnings);
  snapshot.revision = listing->revision;
  snapshot.truncated = listing->truncated;
  for (const auto& w : warnings) logWarn(w);
  if (announceDir.empty()) return snapshot;
  auto announced = store.list(announceDir);
  if (!announced) return announced.error();
  std::vector<std::string> ignored;  // announcements are ours: no need to warn twice
  for (auto& peer : parsePeers(announceDir, announced->kvs, ignored))
    snapshot.peers.push_back(std::move(peer));
  return snapshot;
}

void publishSeeds(const std::vector<std::string>& seeds, const std::string& seedFile,
                  const std::string& cacheFile) {
  std::string text = seedFileText(seeds);
  std::string error;
  std::string list;
  for (const auto& s : seeds) list += (list.empty() ? "" : ",") + s;
  if (!seedFile.empty()) {
    WriteOutcome outcome = writeFileIfChanged(seedFile, text, error, false);
    if (outcome == WriteOutcome::Written) logInfo("seed hosts now [" + list + "] in " + seedFile);
    if (outcome == WriteOutcome::Failed) logError("cannot update seed hosts: " + error);
  }
  if (!cacheFile.empty() && writeFileIfChanged(cacheFile, text, error) == WriteOutcome::Failed)
    logWarn("cannot cache the peer list: " + error);
}

Monitor::Monitor(MonitorSettings settings, Store& watchStore, Registrar& registrar,
                 Registrar* announcer, StopFlag& stop)
    : settings_(std::move(settings)),
      store_(watchStore),
      registrar_(registrar),
      announcer_(announcer),
      stop_(stop) {}

void Monitor::run(int64_t revision) {
  revision_ = revision;
  auto nextProbe = Clock::now();
  bool released = false;
  while (!stop_.raised()) {
    if (Clock::now() >= nextProbe) {
      probe();
      nextProbe = std::max(nextProbe + settings_.interval, Clock::now());
      // Start-up is over once the first probe ran: its code need not stay resident.
      if (!released)
        logDebug("released code pages of " + std::to_string(releaseStartupPages()) + " mappings");
      released = true;
    }
    if (settings_.followPeers)
      followPeersUntil(nextProbe);
    else
      stop_.waitFor(duration_cast<milliseconds>(nextProbe - Clock::now()));
  }
}

void Monitor::probe() {
  // The announcement only matters until this node is registered (peers seed from registrations
  // after that); it then lapses at its TTL, and comes back if the node drops out again.
  if (announcer_ && !registrar_.registered()) announcer_->onProbe(true, "");
  HealthReport report = probeHealth(settings_.nodeApi, settings_.healthTimeout, stop_.atomic());
  if (stop_.raised()) return;
  if (report.healthy) checkClusterUuid(report);
  logDebug("health probe: " + (report.healthy ? std::string("healthy") : report.reason) +
           (report.newConnection ? " (new connection)" : ""));
  if (auto line = healthTransition(lastHealth_, report)) {
    if (isConfigurationProblem(report.kind))
      logError(*line);
    else if (report.healthy)
      logInfo(*line);
    else
      logWarn(*line);
  }
  lastHealth_ = report.kind;
  registrar_.onProbe(report.healthy, report.reason);
}

void Monitor::checkClusterUuid(HealthReport& report) {
  if (settings_.clusterUuidKey.empty() || uuidVerified_) return;
  auto refuse = [&report](HealthKind kind, std::string why) {
    report.healthy = false;
    report.kind = kind;
    report.reason = std::move(why);
  };
  const std::string& uuid = report.clusterUuid;
  if (uuid.empty())
    return refuse(HealthKind::ClusterUnknown, "the node reports no cluster UUID yet");
  auto created = store_.createIfAbsent(settings_.clusterUuidKey, uuid, 0);
  if (created && *created) logInfo("recorded cluster UUID " + uuid + " in etcd");
  auto recorded = store_.get(settings_.clusterUuidKey);
  if (!created || !recorded || !recorded->has_value())
    return refuse(HealthKind::ClusterUnknown, "cannot check the cluster UUID in etcd");
  if (**recorded != uuid) {
    return refuse(HealthKind::SplitCluster, "split cluster: this node is in cluster " + uuid +
                                                " but etcd records " + **recorded +
                                                " for this prefix; refusing to register");
  }
  uuidVerified_ = true;
}

bool Monitor::relist() {
  // Announced (starting) peers are seeds only while this node has not joined a cluster: once
  // registered, it follows the registrations of healthy nodes alone.
  auto snapshot =
      readPeers(store_, settings_.prefix, registrar_.registered() ? "" : settings_.announceDir);
  if (!snapshot) {
    if (!etcdDown_ && snapshot.error().kind == ErrorKind::Auth)
      logError("cannot list peers: " + snapshot.error().message);
    else if (!etcdDown_)
      logWarn("cannot list peers: " + snapshot.error().message);
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
    // Until this node is registered, peers that are only announced matter too, and they are
    // not under the watched prefix: look again every second.
    bool polling = !settings_.announceDir.empty() && !registrar_.registered();
    if (polling) left = std::min(left, milliseconds(1000));
    auto change = store_.waitForChange(settings_.prefix, revision_, left);
    if (stop_.raised()) return;
    if (polling) needRelist_ = true;
    if (change && change->changed) {
      needRelist_ = true;  // list again: simpler and safer than replaying events
    } else if (change) {
      revision_ = std::max(revision_, change->revision);
      // Other keys were written since our revision: a watch started from it again would make
      // etcd re-read all that history, every round, growing without bound on a shared etcd. A
      // listing reads only our directory and gives a revision at which we know everything.
      if (change->current > revision_) needRelist_ = true;
    } else {
      // Compacted, or etcd unreachable: list again once it answers.
      if (change.error().kind == ErrorKind::Auth && !etcdDown_)
        logError("watching peers failed: " + change.error().message +
                 "; the seed hosts stay as they are while etcd refuses the watch");
      else if (change.error().kind != ErrorKind::Compacted && !etcdDown_)
        logWarn("watching peers failed: " + change.error().message);
      if (change.error().kind != ErrorKind::Compacted) etcdDown_ = true;
      needRelist_ = true;
      stop_.waitFor(
          std::min(settings_.etcdRetry, duration_cast<milliseconds>(deadline - Clock::now())));
    }
  }
}

}  // namespace esetcd

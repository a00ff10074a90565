#include "monitor.hpp"

#include <set>

#include "health.hpp"
#include "http.hpp"
#include "log.hpp"
#include "memory.hpp"
#include "metrics.hpp"
#include "peer_listing.hpp"
#include "seed_file.hpp"
#include "status.hpp"
#include "text.hpp"

namespace esetcd {

using Clock = std::chrono::steady_clock;
using std::chrono::duration_cast;
using std::chrono::milliseconds;

namespace {

// The probe's result on /status and in the metrics.
void reportProbe(const HealthReport& report, std::chrono::duration<double> took) {
  metrics().observe(metric::kHealthProbeSeconds, {}, took.count());
  metrics().add(metric::kHealthProbes, {{"result", toString(report.kind)}});
  metrics().set(metric::kHealthy, report.healthy ? 1 : 0);
  statusBoard().update([&report](StatusSnapshot& s) {
    s.probed = true;
    s.healthy = report.healthy;
    s.healthKind = toString(report.kind);
    s.healthReason = report.reason;
    s.probedAtMs = wallClockMs();
  });
}

void reportRevision(int64_t revision) {
  statusBoard().update([revision](StatusSnapshot& s) { s.watchRevision = revision; });
}

}  // namespace

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
  const auto started = Clock::now();
  HealthReport report = probeHealth(settings_.nodeApi, settings_.healthTimeout, stop_.atomic());
  const auto took = Clock::now() - started;
  if (stop_.raised()) return;
  if (report.healthy) checkClusterUuid(report);
  reportProbe(report, took);
  logDebug("health probe: " + (report.healthy ? std::string("healthy") : report.reason) +
           (report.newConnection ? " (new connection)" : ""));
  if (auto line = healthTransition(lastHealth_, report)) {
    LogLevel level = isConfigurationProblem(report.kind) ? LogLevel::Error
                     : report.healthy                    ? LogLevel::Info
                                                         : LogLevel::Warn;
    std::vector<LogField> fields;
    if (!report.healthy) fields.emplace_back("event.reason", report.reason);
    if (!report.healthy) fields.emplace_back("error.type", toString(report.kind));
    logEvent(level, report.healthy ? "health-passed" : "health-failed", *line, fields);
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
  if (created && *created)
    logEvent(LogLevel::Info, "cluster-uuid-recorded", "recorded cluster UUID " + uuid + " in etcd",
             {{"key", settings_.clusterUuidKey}, {"cluster.uuid", uuid}});
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
    const bool refused = snapshot.error().kind == ErrorKind::Auth;
    if (!etcdDown_)
      logEvent(refused ? LogLevel::Error : LogLevel::Warn,
               refused ? "etcd-refused" : "etcd-unreachable",
               "cannot list peers: " + snapshot.error().message,
               {{"event.reason", snapshot.error().message}});
    etcdDown_ = true;
    return false;
  }
  if (etcdDown_) logEvent(LogLevel::Info, "etcd-reachable", "etcd answers again");
  etcdDown_ = false;
  needRelist_ = false;
  revision_ = snapshot->revision;
  reportRevision(revision_);
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
      reportRevision(revision_);
    } else {
      metrics().add(metric::kWatchRestarts);
      // Compacted, or etcd unreachable: list again once it answers.
      if (change.error().kind == ErrorKind::Auth && !etcdDown_)
        logEvent(LogLevel::Error, "etcd-refused",
                 "watching peers failed: " + change.error().message +
                     "; the seed hosts stay as they are while etcd refuses the watch",
                 {{"event.reason", change.error().message}});
      else if (change.error().kind != ErrorKind::Compacted && !etcdDown_)
        logEvent(LogLevel::Warn, "etcd-unreachable",
                 "watching peers failed: " + change.error().message,
                 {{"event.reason", change.error().message}});
      if (change.error().kind != ErrorKind::Compacted) etcdDown_ = true;
      needRelist_ = true;
      stop_.waitFor(
          std::min(settings_.etcdRetry, duration_cast<milliseconds>(deadline - Clock::now())));
    }
  }
}

}  // namespace esetcd

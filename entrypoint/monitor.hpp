// Monitor: the one background thread. It probes the node's health on an interval and feeds the
// Registrar, and between probes it waits on an etcd watch so that a peer registering or leaving
// rewrites unicast_hosts.txt within moments. It never calls waitpid and never handles signals.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include "etcd_store.hpp"
#include "health.hpp"
#include "node_api.hpp"
#include "peers.hpp"
#include "registrar.hpp"

namespace esetcd {

// A flag that a sleeping thread notices at once.
class StopFlag {
 public:
  void raise();
  bool raised() const { return flag_.load(); }
  // Sleeps up to `d`; true when the flag was raised.
  bool waitFor(std::chrono::milliseconds d);
  const std::atomic<bool>* atomic() const { return &flag_; }

 private:
  std::atomic<bool> flag_{false};
  std::mutex mutex_;
  std::condition_variable cv_;
};

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

// Counts a write of the seed file (es_etcd_entrypoint_seed_file_writes_total) and shows its time
// on /status.
void noteSeedFileWritten();

// Writes the seed file and the peer cache when the seed list changed; logs the new list. The
// list becomes /status's peers and the peers gauge.
void publishSeeds(const std::vector<std::string>& seeds, const std::string& seedFile,
                  const std::string& cacheFile);

struct MonitorSettings {
  std::string prefix;
  Identity self;
  NodeApi nodeApi;  // where and how the health probe reaches the node
  std::chrono::milliseconds interval{5000};
  std::chrono::milliseconds healthTimeout{2000};
  std::chrono::milliseconds etcdRetry{1000};
  bool followPeers = true;  // false for versions that read seeds only at start
  std::string seedFile;     // empty: none
  std::string cacheFile;    // empty: none
  std::string announceDir;  // starting peers, merged into the seeds; empty: none
  // Where the cluster UUID is recorded; empty: no split-cluster check (before 7.0).
  std::string clusterUuidKey;
};

class Monitor {
 public:
  // `announcer` keeps this node's announcement alive while it is not registered; may be null.
  Monitor(MonitorSettings settings, Store& watchStore, Registrar& registrar, Registrar* announcer,
          StopFlag& stop);

  // Runs until the stop flag is raised. `revision` is the etcd revision of the listing that the
  // start used, so no change in between is missed.
  void run(int64_t revision);

 private:
  void probe();
  // Records or compares the cluster UUID a healthy probe reported; turns `report` unhealthy
  // (with its kind and reason) when this node must not register.
  void checkClusterUuid(HealthReport& report);
  // Waits for a peer change until `deadline`; refreshes the seeds when one comes.
  void followPeersUntil(std::chrono::steady_clock::time_point deadline);
  bool relist();

  MonitorSettings settings_;
  Store& store_;
  Registrar& registrar_;
  Registrar* announcer_;
  StopFlag& stop_;
  bool uuidVerified_ = false;
  HealthKind lastHealth_ = HealthKind::Healthy;  // a first failure is logged
  int64_t revision_ = 0;
  bool needRelist_ = false;
  bool etcdDown_ = false;
};

}  // namespace esetcd

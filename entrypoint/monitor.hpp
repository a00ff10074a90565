// Monitor: the one background thread. It probes the node's health on an interval and feeds the
// Registrar, and between probes it waits on an etcd watch so that a peer registering or leaving
// rewrites unicast_hosts.txt within moments. It never calls waitpid and never handles signals.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "etcd_store.hpp"
#include "health.hpp"
#include "node_api.hpp"
#include "peers.hpp"
#include "registrar.hpp"
#include "stop_flag.hpp"

namespace esetcd {

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

// Health: whether the local node answers AND has joined a cluster, in its own view: it knows an
// elected master. One request, GET /_cluster/state/master_node?local=true, answered from the
// node's local cluster state on every version from 1.x to 9.x and OpenSearch (it also names the
// cluster UUID from 7.0 on). GET / is not enough (200 without a master from 7.0 on, and 405 in
// the 8.x integ-test distribution); a probe the node forwards to the master (_cluster/health)
// would deregister every follower while the master is frozen. Classification is pure.
#pragma once

#include <atomic>
#include <chrono>
#include <string>

#include "http.hpp"

namespace esetcd {

struct HealthReport {
  bool healthy = false;
  std::string reason;       // why not healthy, for logs
  std::string clusterName;  // as the node reports it
  std::string clusterUuid;  // empty when not reported or not committed yet ("_na_")
  std::string masterNode;   // the elected master's node id
};

const char* healthPath();

HealthReport classifyHealth(const HttpResponse& response);

HealthReport probeHealth(const std::string& baseUrl, std::chrono::milliseconds timeout,
                         const std::atomic<bool>* abort);

}  // namespace esetcd

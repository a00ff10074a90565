// Health: whether the local node answers AND has joined a cluster, in its own view: it knows an
// elected master. One request, GET /_cluster/state/master_node?local=true, answered from the
// node's local cluster state on every version from 1.x to 9.x and OpenSearch (it also names the
// cluster UUID from 7.0 on). GET / is not enough (200 without a master from 7.0 on, and 405 in
// the 8.x integ-test distribution); a probe the node forwards to the master (_cluster/health)
// would deregister every follower while the master is frozen. Classification is pure.
#pragma once

#include <atomic>
#include <chrono>
#include <optional>
#include <string>

#include "http.hpp"
#include "node_api.hpp"

namespace esetcd {

// Why a probe failed, coarse enough to be stable from one probe to the next: a failure is logged
// when its kind changes, not on every probe (the reason's text may hold timings).
enum class HealthKind {
  Healthy,
  Unreachable,     // nothing answers (the node is starting, or the URL is wrong)
  TimedOut,        // the node did not answer within HEALTH_TIMEOUT
  Aborted,         // we are stopping
  TlsFailed,       // handshake failed: untrusted certificate, name mismatch, plain HTTP peer
  AuthFailed,      // 401: credentials missing or wrong
  Forbidden,       // 403: the user lacks the cluster privilege "monitor"
  HttpError,       // any other status
  BadAnswer,       // not a cluster state document
  NoMaster,        // the node has not joined a cluster
  ClusterUnknown,  // the node reports no cluster UUID yet, or etcd cannot be asked about it
  SplitCluster,    // the node's cluster UUID is not the one etcd records
};

// A kind's stable name for metrics and /status: "healthy", "no-master", "auth-failed", …
const char* toString(HealthKind kind);

struct HealthReport {
  bool healthy = false;
  HealthKind kind = HealthKind::Unreachable;
  std::string reason;          // why not healthy, for logs; never a secret
  std::string clusterName;     // as the node reports it
  std::string clusterUuid;     // empty when not reported or not committed yet ("_na_")
  std::string masterNode;      // the elected master's node id
  bool newConnection = false;  // the probe opened a connection (and, on https, a handshake)
};

const char* healthPath();

// Classifies one answer of the node. `api` names the URL, the CA file and who asked, so that an
// authentication or TLS failure says what to fix.
HealthReport classifyHealth(const HttpResponse& response, const NodeApi& api = {});

// The log line for a probe result after one of kind `before`: a failure when its kind differs
// from the last one (started or changed), "passes again" on the first success after a failure,
// nothing while the kind stays the same.
std::optional<std::string> healthTransition(HealthKind before, const HealthReport& now);

// Kinds that no retry cures: the operator must change a setting, a certificate or a password.
bool isConfigurationProblem(HealthKind kind);

HealthReport probeHealth(const NodeApi& api, std::chrono::milliseconds timeout,
                         const std::atomic<bool>* abort);

}  // namespace esetcd

// Status: what this process is doing, as GET /status shows it (status_server.hpp): the phase, the
// command, the last probe, the registration and its lease, the watch, the peers, the bootstrap,
// etcd and the settings without secrets. One board per process (like the log and the metrics),
// updated by the app, the monitor and the registrar under a short lock and read as a copy, so a
// scrape never blocks the signal loop. statusJson is a pure function of that copy.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "registrar.hpp"

namespace esetcd {

enum class Phase { Starting, BootstrapWait, Running, Stopping };
const char* toString(Phase phase);

struct StatusSnapshot {
  Phase phase = Phase::Starting;
  std::string version;
  std::vector<std::string> command;  // as spawned (or to be spawned)
  int pid = 0;                       // the command's, once spawned

  bool probed = false;  // a health probe ran
  bool healthy = false;
  std::string healthKind;    // toString(HealthKind)
  std::string healthReason;  // empty when healthy
  long long probedAtMs = 0;  // wall clock, ms since the epoch

  bool registered = false;
  std::string key;
  std::string leaseId;  // v3 lease ID in decimal; empty with v2 (a TTL key)
  int ttlSeconds = 0;
  std::chrono::steady_clock::time_point leaseRenewed;  // last grant or refresh

  int64_t watchRevision = 0;
  std::vector<std::string> peers;  // seed hosts, host:port
  std::string seedFile;
  long long seedFileChangedMs = 0;  // wall clock; 0: not written by this process

  std::string bootstrapRole;                // initial, join, none (not needed), or empty: undecided
  std::vector<std::string> initialMasters;  // the decision, when this node is one of them
  std::string bootstrapDecision;            // the log's words for it

  std::string etcdApi;
  std::string etcdEndpoint;
  std::vector<std::pair<std::string, std::string>> settings;  // without secrets
};

// The JSON document of GET /status. `now` and `nowMs` turn the lease's renewal into seconds left
// and times into ISO 8601 text.
std::string statusJson(const StatusSnapshot& status, std::chrono::steady_clock::time_point now,
                       long long nowMs);

// The board: the registration's RegistrarEvents too, so that /status and the metrics follow what
// etcd answered.
class StatusBoard : public RegistrarEvents {
 public:
  // Changes the state under the lock; `change` must not block.
  void update(const std::function<void(StatusSnapshot&)>& change);
  // The endpoint in use is read when a snapshot is taken (it moves with every rotation).
  void setEndpointSource(std::function<std::string()> source);
  StatusSnapshot snapshot() const;

  void registered(const Lease& lease) override;
  void refreshed() override;
  void deregistered(const std::string& reason) override;
  void leaseLost() override;

 private:
  mutable std::mutex mutex_;
  StatusSnapshot state_;
  std::function<std::string()> endpoint_;
};

StatusBoard& statusBoard();

// Milliseconds since the epoch, now.
long long wallClockMs();

}  // namespace esetcd

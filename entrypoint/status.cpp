#include "status.hpp"

#include <nlohmann/json.hpp>

#include "metrics.hpp"
#include "text.hpp"

namespace esetcd {
namespace {

using nlohmann::ordered_json;

// 2026-12-05T09:15:31.395Z; null for "never".
ordered_json isoTimeOrNull(long long epochMillis) {
  if (epochMillis <= 0) return nullptr;
  return isoTimeUtc(epochMillis);
}

ordered_json registrationJson(const StatusSnapshot& s, std::chrono::steady_clock::time_point now) {
  ordered_json r = {{"registered", s.registered}, {"key", s.key}};
  if (!s.registered) return r;
  r["lease_id"] = s.leaseId.empty() ? ordered_json(nullptr) : ordered_json(s.leaseId);
  r["ttl_seconds"] = s.ttlSeconds;
  // What etcd holds at most: the TTL counted from our last grant or refresh.
  auto since = std::chrono::duration_cast<std::chrono::milliseconds>(now - s.leaseRenewed);
  double left = s.ttlSeconds - static_cast<double>(since.count()) / 1000.0;
  r["seconds_left"] = left > 0 ? static_cast<double>(static_cast<long long>(left * 10)) / 10 : 0.0;
  return r;
}

}  // namespace

const char* toString(Phase phase) {
  switch (phase) {
    case Phase::Starting:
      return "starting";
    case Phase::BootstrapWait:
      return "bootstrap-wait";
    case Phase::Running:
      return "running";
    case Phase::Stopping:
      return "stopping";
  }
  return "starting";
}

std::string statusJson(const StatusSnapshot& s, std::chrono::steady_clock::time_point now,
                       long long nowMs) {
  ordered_json settings = ordered_json::object();
  for (const auto& [name, value] : s.settings) settings[name] = value;
  ordered_json doc = {
      {"phase", toString(s.phase)},
      {"version", s.version},
      {"time", isoTimeOrNull(nowMs)},
      {"command", {{"argv", s.command}, {"pid", s.pid > 0 ? ordered_json(s.pid) : nullptr}}},
      {"health",
       {{"probed", s.probed},
        {"healthy", s.healthy},
        {"kind", s.probed ? ordered_json(s.healthKind) : nullptr},
        {"reason", s.healthReason},
        {"at", isoTimeOrNull(s.probedAtMs)}}},
      {"registration", registrationJson(s, now)},
      {"watch", {{"revision", s.watchRevision}}},
      {"peers",
       {{"seeds", s.peers},
        {"seed_file", s.seedFile},
        {"seed_file_changed_at", isoTimeOrNull(s.seedFileChangedMs)}}},
      {"bootstrap",
       {{"role", s.bootstrapRole.empty() ? ordered_json(nullptr) : ordered_json(s.bootstrapRole)},
        {"initial_master_nodes", s.initialMasters},
        {"decision", s.bootstrapDecision}}},
      {"etcd", {{"api", s.etcdApi}, {"endpoint", s.etcdEndpoint}}},
      {"settings", settings},
  };
  // Texts from etcd or the node may hold bytes that are not UTF-8: replaced, never thrown.
  return doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

void StatusBoard::update(const std::function<void(StatusSnapshot&)>& change) {
  std::lock_guard<std::mutex> lock(mutex_);
  change(state_);
}

void StatusBoard::setEndpointSource(std::function<std::string()> source) {
  std::lock_guard<std::mutex> lock(mutex_);
  endpoint_ = std::move(source);
}

StatusSnapshot StatusBoard::snapshot() const {
  std::function<std::string()> endpoint;
  StatusSnapshot copy;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    copy = state_;
    endpoint = endpoint_;
  }
  if (endpoint) copy.etcdEndpoint = endpoint();
  return copy;
}

void StatusBoard::registered(const Lease& lease) {
  update([&lease](StatusSnapshot& s) {
    s.registered = true;
    s.key = lease.key;
    s.leaseId = lease.id;
    s.ttlSeconds = lease.ttlSeconds;
    s.leaseRenewed = std::chrono::steady_clock::now();
  });
  metrics().set(metric::kRegistered, 1);
  metrics().add(metric::kRegistrations);
}

void StatusBoard::refreshed() {
  update([](StatusSnapshot& s) { s.leaseRenewed = std::chrono::steady_clock::now(); });
}

void StatusBoard::deregistered(const std::string& reason) {
  update([](StatusSnapshot& s) { s.registered = false; });
  metrics().set(metric::kRegistered, 0);
  metrics().add(metric::kDeregistrations, {{"reason", reason}});
}

void StatusBoard::leaseLost() {
  update([](StatusSnapshot& s) { s.registered = false; });
  metrics().set(metric::kRegistered, 0);
  metrics().add(metric::kLeaseLost);
}

StatusBoard& statusBoard() {
  // Never destroyed: the status threads may read it while the process _exits.
  static StatusBoard* board = new StatusBoard;
  return *board;
}

long long wallClockMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace esetcd

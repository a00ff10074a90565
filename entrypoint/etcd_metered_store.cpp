#include "etcd_metered_store.hpp"

#include "metrics.hpp"

namespace esetcd {
namespace {

using Clock = std::chrono::steady_clock;

// Runs `request`, then counts it under `op` with its result ("ok" or the error's kind) and, unless
// it is a watch, records its duration.
template <typename F>
auto metered(const char* op, bool timed, F&& request) {
  const auto started = Clock::now();
  auto result = request();
  const std::string outcome = result ? "ok" : toString(result.error().kind);
  metrics().add(metric::kEtcdRequests, {{"op", op}, {"result", outcome}});
  if (timed) {
    std::chrono::duration<double> took = Clock::now() - started;
    metrics().observe(metric::kEtcdRequestSeconds, {{"op", op}}, took.count());
  }
  return result;
}

}  // namespace

Result<Listing> MeteredStore::list(const std::string& dir, size_t limit) {
  return metered("list", true, [&] { return inner_->list(dir, limit); });
}

Result<std::optional<std::string>> MeteredStore::get(const std::string& key) {
  return metered("get", true, [&] { return inner_->get(key); });
}

Result<Lease> MeteredStore::putWithTtl(const std::string& key, const std::string& value,
                                       int ttlSeconds) {
  return metered("put", true, [&] { return inner_->putWithTtl(key, value, ttlSeconds); });
}

Result<Unit> MeteredStore::refresh(const Lease& lease) {
  return metered("refresh", true, [&] { return inner_->refresh(lease); });
}

Result<Unit> MeteredStore::remove(const Lease& lease) {
  return metered("remove", true, [&] { return inner_->remove(lease); });
}

Result<bool> MeteredStore::createIfAbsent(const std::string& key, const std::string& value,
                                          int ttlSeconds) {
  return metered("create", true, [&] { return inner_->createIfAbsent(key, value, ttlSeconds); });
}

Result<std::optional<Versioned>> MeteredStore::getVersioned(const std::string& key) {
  return metered("get", true, [&] { return inner_->getVersioned(key); });
}

Result<bool> MeteredStore::removeIfUnchanged(const std::string& key, int64_t revision,
                                             const std::vector<std::string>& quietDirs,
                                             int64_t since) {
  return metered("remove_if_unchanged", true,
                 [&] { return inner_->removeIfUnchanged(key, revision, quietDirs, since); });
}

Result<WatchResult> MeteredStore::waitForChange(const std::string& dir, int64_t afterRevision,
                                                std::chrono::milliseconds timeout) {
  return metered("watch", false,
                 [&] { return inner_->waitForChange(dir, afterRevision, timeout); });
}

}  // namespace esetcd

// MeteredStore: a Store that counts and times every request of the Store it wraps
// (es_etcd_entrypoint_etcd_requests_total{op,result}, _etcd_request_seconds{op}). makeStore wraps
// every store it builds, so no caller can forget it. Watches are counted but not timed: their
// duration is the wait for a change, not etcd's speed.
#pragma once

#include <memory>

#include "etcd_store.hpp"

namespace esetcd {

class MeteredStore : public Store {
 public:
  explicit MeteredStore(std::unique_ptr<Store> inner) : inner_(std::move(inner)) {}

  const char* api() const override { return inner_->api(); }
  Result<Listing> list(const std::string& dir, size_t limit = 0) override;
  Result<std::optional<std::string>> get(const std::string& key) override;
  Result<Lease> putWithTtl(const std::string& key, const std::string& value,
                           int ttlSeconds) override;
  Result<Unit> refresh(const Lease& lease) override;
  Result<Unit> remove(const Lease& lease) override;
  Result<bool> createIfAbsent(const std::string& key, const std::string& value,
                              int ttlSeconds) override;
  Result<std::optional<Versioned>> getVersioned(const std::string& key) override;
  Result<bool> removeIfUnchanged(const std::string& key, int64_t revision,
                                 const std::vector<std::string>& quietDirs, int64_t since) override;
  Result<WatchResult> waitForChange(const std::string& dir, int64_t afterRevision,
                                    std::chrono::milliseconds timeout) override;

 private:
  std::unique_ptr<Store> inner_;
};

}  // namespace esetcd

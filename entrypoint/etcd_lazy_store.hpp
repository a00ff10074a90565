// LazyStore: a Store that picks the etcd API (auto-detection needs etcd to answer) on its first
// call that reaches etcd, so a node that started during an etcd outage still registers later.
#pragma once

#include <memory>

#include "etcd.hpp"

namespace esetcd {

class LazyStore : public Store {
 public:
  LazyStore(std::string api, EtcdOptions options);

  const char* api() const override;
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
  // The real store, created on demand; nullptr with `error` set while etcd cannot be reached.
  Store* inner(Error& error);

  std::string api_;
  EtcdOptions options_;
  std::unique_ptr<Store> inner_;
};

}  // namespace esetcd

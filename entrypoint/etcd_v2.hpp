// V2Store: the Store over etcd's v2 keys API (etcd 2.x, or 3.4 with --enable-v2=true; a keyspace
// separate from v3's), where keys with a TTL are refreshed in place and a change below a directory
// is awaited with a wait from an index.
#pragma once

#include <memory>

#include "etcd_http.hpp"
#include "etcd_store.hpp"

namespace esetcd {

class V2Store final : public Store {
 public:
  explicit V2Store(std::shared_ptr<EtcdTransport> transport);

  const char* api() const override { return "v2"; }
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
  std::shared_ptr<EtcdTransport> transport_;
};

}  // namespace esetcd

// MemoryStore: an in-memory Store for unit tests. Keys with a TTL expire when the test advances
// the clock (`advance`); every call can be made to fail with a chosen error (`failWith`).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "etcd_store.hpp"

namespace esetcd::testing {

class MemoryStore : public Store {
 public:
  const char* api() const override { return "memory"; }

  Result<Listing> list(const std::string& dir, size_t limit = 0) override {
    if (failure_) return *failure_;
    Listing out;
    for (const auto& [key, entry] : data_) {
      if (key.rfind(dir + "/", 0) == 0) out.kvs.push_back({key, entry.value});
    }
    out.revision = revision_;
    if (limit > 0 && out.kvs.size() > limit) {
      out.kvs.resize(limit);
      out.truncated = true;
    }
    return out;
  }

  Result<std::optional<std::string>> get(const std::string& key) override {
    if (failure_) return *failure_;
    auto it = data_.find(key);
    return it == data_.end() ? std::optional<std::string>() : it->second.value;
  }

  Result<Lease> putWithTtl(const std::string& key, const std::string& value,
                           int ttlSeconds) override {
    if (failure_) return *failure_;
    ++puts;
    data_[key] = {value, now_ + ttlSeconds, ++revision_};
    return Lease{key, value, std::to_string(++leaseCounter_), ttlSeconds};
  }

  Result<Unit> refresh(const Lease& lease) override {
    if (failure_) return *failure_;
    ++refreshes;
    auto it = data_.find(lease.key);
    if (it == data_.end()) return Error{ErrorKind::LeaseLost, "lease not found", 5};
    it->second.expiresAt = now_ + lease.ttlSeconds;
    return Unit{};
  }

  Result<Unit> remove(const Lease& lease) override {
    if (failure_) return *failure_;
    ++removes;
    data_.erase(lease.key);
    ++revision_;
    return Unit{};
  }

  Result<bool> createIfAbsent(const std::string& key, const std::string& value,
                              int ttlSeconds) override {
    if (failure_) return *failure_;
    if (data_.count(key)) return false;
    data_[key] = {value, ttlSeconds ? now_ + ttlSeconds : -1, ++revision_};
    return true;
  }

  Result<std::optional<Versioned>> getVersioned(const std::string& key) override {
    if (failure_) return *failure_;
    auto it = data_.find(key);
    if (it == data_.end()) return std::optional<Versioned>();
    return std::optional<Versioned>(Versioned{it->second.value, it->second.revision});
  }

  Result<bool> removeIfUnchanged(const std::string& key, int64_t revision,
                                 const std::vector<std::string>& quietDirs,
                                 int64_t since) override {
    if (failure_) return *failure_;
    auto it = data_.find(key);
    if (it == data_.end() || it->second.revision != revision) return false;
    for (const auto& dir : quietDirs)
      for (const auto& [k, entry] : data_)
        if (k.rfind(dir + "/", 0) == 0 && entry.revision > since) return false;
    data_.erase(it);
    ++revision_;
    return true;
  }

  Result<WatchResult> waitForChange(const std::string&, int64_t afterRevision,
                                    std::chrono::milliseconds) override {
    if (failure_) return *failure_;
    return WatchResult{revision_ > afterRevision, revision_};
  }

  // Test controls.
  void advance(int seconds) {
    now_ += seconds;
    for (auto it = data_.begin(); it != data_.end();) {
      if (it->second.expiresAt >= 0 && it->second.expiresAt <= now_)
        it = data_.erase(it);
      else
        ++it;
    }
  }
  void failWith(std::optional<Error> e) { failure_ = std::move(e); }
  void erase(const std::string& key) { data_.erase(key); }
  bool has(const std::string& key) const { return data_.count(key) != 0; }
  void set(const std::string& key, const std::string& value) {
    data_[key] = {value, -1, ++revision_};
  }

  int puts = 0;
  int refreshes = 0;
  int removes = 0;

 private:
  struct Entry {
    std::string value;
    long expiresAt = -1;   // -1: never
    int64_t revision = 0;  // of the last write
  };
  std::map<std::string, Entry> data_;
  std::optional<Error> failure_;
  long now_ = 0;
  int64_t revision_ = 1;
  long leaseCounter_ = 0;
};

}  // namespace esetcd::testing

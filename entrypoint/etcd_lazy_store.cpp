#include "etcd_lazy_store.hpp"

namespace esetcd {

LazyStore::LazyStore(std::string api, EtcdOptions options)
    : api_(std::move(api)), options_(std::move(options)) {}

Store* LazyStore::inner(Error& error) {
  if (inner_) return inner_.get();
  auto made = makeStore(api_, options_);
  if (!made) {
    error = made.error();
    return nullptr;
  }
  inner_ = std::move(made.value());
  return inner_.get();
}

const char* LazyStore::api() const {
  return inner_ ? inner_->api() : "undetected";
}

Result<Listing> LazyStore::list(const std::string& dir, size_t limit) {
  Error e;
  Store* s = inner(e);
  return s ? s->list(dir, limit) : Result<Listing>(e);
}

Result<std::optional<std::string>> LazyStore::get(const std::string& key) {
  Error e;
  Store* s = inner(e);
  return s ? s->get(key) : Result<std::optional<std::string>>(e);
}

Result<Lease> LazyStore::putWithTtl(const std::string& key, const std::string& value,
                                    int ttlSeconds) {
  Error e;
  Store* s = inner(e);
  return s ? s->putWithTtl(key, value, ttlSeconds) : Result<Lease>(e);
}

Result<Unit> LazyStore::refresh(const Lease& lease) {
  Error e;
  Store* s = inner(e);
  return s ? s->refresh(lease) : Result<Unit>(e);
}

Result<Unit> LazyStore::remove(const Lease& lease) {
  Error e;
  Store* s = inner(e);
  return s ? s->remove(lease) : Result<Unit>(e);
}

Result<bool> LazyStore::createIfAbsent(const std::string& key, const std::string& value,
                                       int ttlSeconds) {
  Error e;
  Store* s = inner(e);
  return s ? s->createIfAbsent(key, value, ttlSeconds) : Result<bool>(e);
}

Result<std::optional<Versioned>> LazyStore::getVersioned(const std::string& key) {
  Error e;
  Store* s = inner(e);
  return s ? s->getVersioned(key) : Result<std::optional<Versioned>>(e);
}

Result<bool> LazyStore::removeIfUnchanged(const std::string& key, int64_t revision,
                                          const std::vector<std::string>& quietDirs,
                                          int64_t since) {
  Error e;
  Store* s = inner(e);
  return s ? s->removeIfUnchanged(key, revision, quietDirs, since) : Result<bool>(e);
}

Result<WatchResult> LazyStore::waitForChange(const std::string& dir, int64_t afterRevision,
                                             std::chrono::milliseconds timeout) {
  Error e;
  Store* s = inner(e);
  return s ? s->waitForChange(dir, afterRevision, timeout) : Result<WatchResult>(e);
}

}  // namespace esetcd

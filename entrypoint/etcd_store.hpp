// Store: the few etcd operations the entrypoint needs, independent of the API version.
// v3 (JSON gateway) and v2 (keys API) implement it; tests/ has an in-memory fake.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "result.hpp"

namespace esetcd {

struct KeyValue {
  std::string key;  // full key, e.g. "/services/elasticsearch/10.0.0.5"
  std::string value;
};

struct Listing {
  std::vector<KeyValue> kvs;  // sorted by key
  int64_t revision = 0;       // v3 header revision, v2 X-Etcd-Index: watch from revision + 1
  bool truncated = false;     // a limit cut the listing short
};

// A key written with a limited lifetime. v3: `id` is the lease ID (decimal int64, kept as text
// because it exceeds 2^53). v2: `id` is empty and refresh rewrites the TTL of `key`.
struct Lease {
  std::string key;
  std::string value;
  std::string id;
  int ttlSeconds = 0;
};

// A value and the revision of its last change (v3 mod_revision, v2 modifiedIndex).
struct Versioned {
  std::string value;
  int64_t revision = 0;
};

struct WatchResult {
  bool changed = false;  // something below the directory changed after the asked revision
  int64_t revision = 0;  // the revision to watch after next time
  // A quiet answer only (v3): etcd's revision when the watch started, 0 when unknown. Above
  // `revision`, other keys were written meanwhile, and a watch started again from `revision`
  // makes etcd read all of that history again (it is kept until compacted): list again instead,
  // which costs the directory's keys only, and watch from the listing's revision.
  int64_t current = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  // "v3" or "v2", for logs.
  virtual const char* api() const = 0;

  // Every key strictly below `dir` (the key `dir` + "/" + anything), recursively; with a
  // `limit`, only the first `limit` keys (etcd's v3 gateway takes ~100 ms to encode 10,000).
  virtual Result<Listing> list(const std::string& dir, size_t limit = 0) = 0;

  // The value of one key, or nullopt when it does not exist.
  virtual Result<std::optional<std::string>> get(const std::string& key) = 0;

  // Writes key=value so that it disappears `ttlSeconds` after the last refresh.
  virtual Result<Lease> putWithTtl(const std::string& key, const std::string& value,
                                   int ttlSeconds) = 0;

  // Extends the life of a key written by putWithTtl. ErrorKind::LeaseLost when it had expired
  // (or was deleted behind our back): the caller writes it again with putWithTtl.
  virtual Result<Unit> refresh(const Lease& lease) = 0;

  // Deletes the key now (v3: revokes its lease too). Deleting a missing key is success.
  virtual Result<Unit> remove(const Lease& lease) = 0;

  // Writes key=value only if the key does not exist; ttlSeconds 0 means forever.
  // true when this call wrote it, false when it existed already.
  virtual Result<bool> createIfAbsent(const std::string& key, const std::string& value,
                                      int ttlSeconds) = 0;

  // The value of one key with the revision of its last change, or nullopt when it does not exist.
  virtual Result<std::optional<Versioned>> getVersioned(const std::string& key) = 0;

  // Deletes `key` only while its last change is still `revision` and, for each of `quietDirs`,
  // no key below it was written after revision `since` (a listing's revision): all checked in
  // one v3 transaction. true when deleted, false when a condition failed. v2 compares the key's
  // revision only (prevIndex) and fails with ErrorKind::Etcd when `quietDirs` is not empty.
  virtual Result<bool> removeIfUnchanged(const std::string& key, int64_t revision,
                                         const std::vector<std::string>& quietDirs,
                                         int64_t since) = 0;

  // Blocks until something below `dir` changes after `afterRevision`, `timeout` passes or the
  // transport's abort flag is raised. ErrorKind::Compacted when that revision is gone: list again,
  // then wait again.
  virtual Result<WatchResult> waitForChange(const std::string& dir, int64_t afterRevision,
                                            std::chrono::milliseconds timeout) = 0;
};

}  // namespace esetcd

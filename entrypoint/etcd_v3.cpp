#include "etcd_v3.hpp"

#include <algorithm>
#include <cctype>
#include <utility>

#include "etcd_codec.hpp"
#include "log.hpp"

namespace esetcd {
namespace {

Error inContext(Error error, const std::string& what) {
  error.message = "etcd v3 " + what + ": " + error.message;
  return error;
}

// What to change when etcd refuses us: the settings, or the etcd roles, behind the refusal.
Error withAuthHint(Error error, const EtcdTransport& transport) {
  if (error.kind != ErrorKind::Auth || error.message.find("(check ") != std::string::npos)
    return error;
  if (!transport.hasCredentials()) {
    error.message += " (etcd has authentication on: set ETCD_USERNAME and ETCD_PASSWORD)";
  } else if (error.code == codec::kGrpcPermissionDenied) {
    error.message += " (etcd user " + transport.options().username +
                     ": its roles must grant readwrite on ETCD_PREFIX and ETCD_STATE_PREFIX)";
  }
  return error;
}

// POSTs a JSON body to the gateway: the answer's body, or the error of a failed call.
Result<std::string> call(EtcdTransport& transport, const char* path, std::string body) {
  EtcdRequest request;
  request.path = path;
  request.body = std::move(body);
  request.contentType = "application/json";
  auto response = transport.v3(request);
  if (!response) return response.error();
  if (auto error = codec::v3Error(response->status, response->body))
    return withAuthHint(std::move(*error), transport);
  return std::move(response.value().body);
}

Result<codec::V3Grant> grant(EtcdTransport& transport, int ttlSeconds) {
  auto body = call(transport, "/v3/lease/grant", codec::v3LeaseGrantRequest(ttlSeconds));
  if (!body) return body.error();
  return codec::v3ParseLeaseGrant(*body);
}

// A lease that is already gone (expired, revoked by someone else) counts as revoked.
Result<Unit> revoke(EtcdTransport& transport, const std::string& leaseId) {
  auto body = call(transport, "/v3/lease/revoke", codec::v3LeaseIdRequest(leaseId));
  if (!body &&
      !(body.error().kind == ErrorKind::Etcd && body.error().code == codec::kGrpcNotFound)) {
    return body.error();
  }
  return Unit{};
}

// Cleans up a lease that ended up unused; it would expire by itself, so failures only get logged.
void discardLease(EtcdTransport& transport, const std::string& leaseId) {
  if (auto revoked = revoke(transport, leaseId); !revoked) {
    logDebug("etcd v3: could not revoke unused lease: " + revoked.error().message);
  }
}

bool isBlank(std::string_view text) {
  for (const char c : text) {
    if (std::isspace(static_cast<unsigned char>(c)) == 0) return false;
  }
  return true;
}

// Follows a /v3/watch stream line by line until it says what we wait for: events, a cancel or an
// error. The "created" message and progress messages only show that the watch is running.
class WatchReader {
 public:
  // false once the outcome is known: the transfer can stop.
  bool feed(std::string_view chunk) {
    lines_.append(chunk);
    while (auto line = lines_.next()) {
      if (!consume(*line)) return false;
    }
    return true;
  }

  // A unary error body may end without '\n'.
  void finish() {
    const std::string rest = lines_.rest();
    if (!outcome_) consume(rest);
  }

  const std::optional<Result<WatchResult>>& outcome() const { return outcome_; }
  // etcd's revision in the "created" message: where the store was when the watch started.
  int64_t createdRevision() const { return createdRevision_; }

 private:
  bool consume(const std::string& line) {
    if (isBlank(line)) return true;
    auto message = codec::v3ParseWatchMessage(line);
    if (!message) {
      outcome_ = message.error();
      return false;
    }
    if (message->created) createdRevision_ = std::max(createdRevision_, message->headerRevision);
    if (message->events == 0) return true;
    // The highest event revision, not the header's: when etcd splits a long backlog over
    // several messages, the header may already name a revision whose events are still to come.
    outcome_ = WatchResult{true, message->lastEventRevision};
    return false;
  }

  codec::LineSplitter lines_;
  std::optional<Result<WatchResult>> outcome_;
  int64_t createdRevision_ = 0;
};

Result<WatchResult> watchOnce(EtcdTransport& transport, const std::string& dir,
                              int64_t afterRevision, std::chrono::milliseconds timeout) {
  const std::string prefix = codec::directoryPrefix(dir);
  WatchReader reader;
  EtcdRequest request;
  request.path = "/v3/watch";
  request.body = codec::v3WatchRequest(prefix, codec::prefixRangeEnd(prefix), afterRevision + 1);
  request.contentType = "application/json";
  request.timeout = timeout;
  request.onData = [&reader](std::string_view chunk) { return reader.feed(chunk); };
  request.longPoll = true;
  auto response = transport.v3(request);
  if (!response) return response.error();
  reader.finish();
  if (reader.outcome()) return *reader.outcome();
  // The long-poll ran out: nothing changed, which is the normal answer of a quiet cluster.
  if (response->outcome == HttpOutcome::Timeout) {
    return WatchResult{false, afterRevision, reader.createdRevision()};
  }
  if (response->status != 200) {
    return Error{ErrorKind::Status, "HTTP status " + std::to_string(response->status),
                 response->status};
  }
  return Error{ErrorKind::Transport, "watch stream ended without events: " + response->error, 0};
}

}  // namespace

V3Store::V3Store(std::shared_ptr<EtcdTransport> transport) : transport_(std::move(transport)) {}

Result<Listing> V3Store::list(const std::string& dir, size_t limit) {
  const std::string prefix = codec::directoryPrefix(dir);
  auto body = call(*transport_, "/v3/kv/range",
                   codec::v3RangeRequest(prefix, codec::prefixRangeEnd(prefix), limit));
  if (!body) return inContext(body.error(), "list " + dir);
  auto listing = codec::v3ParseRange(*body);
  if (!listing) return inContext(listing.error(), "list " + dir);
  listing.value().truncated = limit > 0 && listing->kvs.size() >= limit;
  return listing;
}

Result<std::optional<std::string>> V3Store::get(const std::string& key) {
  auto body = call(*transport_, "/v3/kv/range", codec::v3RangeRequest(key, ""));
  if (!body) return inContext(body.error(), "get " + key);
  auto listing = codec::v3ParseRange(*body);
  if (!listing) return inContext(listing.error(), "get " + key);
  if (listing->kvs.empty()) return std::optional<std::string>();
  return std::optional<std::string>(listing->kvs.front().value);
}

Result<std::optional<Versioned>> V3Store::getVersioned(const std::string& key) {
  auto body = call(*transport_, "/v3/kv/range", codec::v3RangeRequest(key, ""));
  if (!body) return inContext(body.error(), "get " + key);
  auto versioned = codec::v3ParseVersioned(*body);
  if (!versioned) return inContext(versioned.error(), "get " + key);
  return versioned;
}

Result<bool> V3Store::removeIfUnchanged(const std::string& key, int64_t revision,
                                        const std::vector<std::string>& quietDirs, int64_t since) {
  auto body = call(*transport_, "/v3/kv/txn",
                   codec::v3RemoveIfUnchangedRequest(key, revision, quietDirs, since));
  auto removed = body ? codec::v3ParseTxn(*body) : Result<bool>(body.error());
  if (!removed) return inContext(removed.error(), "delete " + key + " if unchanged");
  return removed;
}

Result<Lease> V3Store::putWithTtl(const std::string& key, const std::string& value,
                                  int ttlSeconds) {
  auto lease = grant(*transport_, ttlSeconds);
  if (!lease) return inContext(lease.error(), "lease grant for " + key);
  auto put = call(*transport_, "/v3/kv/put", codec::v3PutRequest(key, value, lease->id));
  if (!put) {
    discardLease(*transport_, lease->id);
    return inContext(put.error(), "put " + key);
  }
  // etcd may raise a TTL below its minimum; the granted one is what refreshes must beat.
  return Lease{key, value, lease->id, lease->ttlSeconds};
}

Result<Unit> V3Store::refresh(const Lease& lease) {
  const std::string what = "refresh " + lease.key;
  if (lease.id.empty()) return Error{ErrorKind::LeaseLost, "etcd v3 " + what + ": no lease", 0};
  auto body = call(*transport_, "/v3/lease/keepalive", codec::v3LeaseIdRequest(lease.id));
  if (!body) return inContext(body.error(), what);
  if (auto ttl = codec::v3ParseKeepAlive(*body); !ttl) return inContext(ttl.error(), what);
  // A live lease does not prove that the key is still there: someone may have deleted or
  // overwritten it, and a registration must not silently vanish while we keep renewing.
  auto range = call(*transport_, "/v3/kv/range", codec::v3RangeRequest(lease.key, ""));
  if (!range) return inContext(range.error(), what);
  auto bound = codec::v3ParseKeyLease(*range);
  if (!bound) return inContext(bound.error(), what);
  if (!*bound || **bound != lease.id) {
    return Error{ErrorKind::LeaseLost, "etcd v3 " + what + ": key deleted or rewritten", 0};
  }
  return Unit{};
}

Result<Unit> V3Store::remove(const Lease& lease) {
  // Revoking deletes every key on the lease; the delete also covers a key written without one.
  if (!lease.id.empty()) {
    if (auto revoked = revoke(*transport_, lease.id); !revoked) {
      return inContext(revoked.error(), "revoke lease of " + lease.key);
    }
  }
  auto body = call(*transport_, "/v3/kv/deleterange", codec::v3DeleteRequest(lease.key));
  if (!body) return inContext(body.error(), "delete " + lease.key);
  return Unit{};
}

Result<bool> V3Store::createIfAbsent(const std::string& key, const std::string& value,
                                     int ttlSeconds) {
  std::string leaseId;
  if (ttlSeconds > 0) {
    auto lease = grant(*transport_, ttlSeconds);
    if (!lease) return inContext(lease.error(), "lease grant for " + key);
    leaseId = lease->id;
  }
  auto body = call(*transport_, "/v3/kv/txn", codec::v3CreateIfAbsentRequest(key, value, leaseId));
  auto created = body ? codec::v3ParseTxn(*body) : Result<bool>(body.error());
  if (!leaseId.empty() && !(created && *created)) discardLease(*transport_, leaseId);
  if (!created) return inContext(created.error(), "create " + key);
  return created;
}

Result<WatchResult> V3Store::waitForChange(const std::string& dir, int64_t afterRevision,
                                           std::chrono::milliseconds timeout) {
  auto result = watchOnce(*transport_, dir, afterRevision, timeout);
  // A watch learns of a rejected token or an unavailable member only inside its stream, where
  // the transport cannot act on it: act here and try once more.
  if (!result && codec::tokenRejected(result.error()) && transport_->hasCredentials()) {
    logDebug("etcd rejected the watch's auth token (" + result.error().message +
             "), authenticating again");
    transport_->dropToken();
    result = watchOnce(*transport_, dir, afterRevision, timeout);
  } else if (!result && result.error().kind == ErrorKind::Etcd &&
             result.error().code == codec::kGrpcUnavailable) {
    transport_->skipEndpoint();
    result = watchOnce(*transport_, dir, afterRevision, timeout);
  }
  if (!result) return inContext(withAuthHint(result.error(), *transport_), "watch " + dir);
  return result;
}

}  // namespace esetcd

#include "etcd_v2.hpp"

#include <utility>
#include <vector>

#include "etcd_codec.hpp"

namespace esetcd {
namespace {

using Form = std::vector<std::pair<std::string, std::string>>;

Error inContext(Error error, const std::string& what) {
  error.message = "etcd v2 " + what + ": " + error.message;
  return error;
}

bool hasCode(const Error& error, long code) {
  return error.kind == ErrorKind::Etcd && error.code == code;
}

// v2 ignores a JSON body without complaint (the value ends up empty): always send a form.
EtcdRequest formRequest(const char* method, const std::string& key, const Form& form) {
  EtcdRequest request;
  request.method = method;
  request.path = codec::v2KeyPath(key);
  request.body = codec::formEncode(form);
  request.contentType = "application/x-www-form-urlencoded";
  return request;
}

EtcdRequest getRequest(const std::string& key, const std::string& query) {
  EtcdRequest request;
  request.method = "GET";
  request.path = codec::v2KeyPath(key) + query;
  return request;
}

// The answer of a successful call, or its error (errorCode in Error::code).
Result<HttpResponse> call(EtcdTransport& transport, const EtcdRequest& request) {
  auto response = transport.v2(request);
  if (!response) return response;
  if (auto error = codec::v2Error(response->status, response->body)) return *error;
  return response;
}

std::optional<int64_t> etcdIndex(const HttpResponse& response) {
  for (const auto& [name, value] : response.headers) {
    if (name == "x-etcd-index") return codec::parseInt64(value);
  }
  return std::nullopt;
}

std::string withoutTrailingSlash(std::string dir) {
  while (!dir.empty() && dir.back() == '/') dir.pop_back();
  return dir;
}

Result<Listing> emptyListing(const HttpResponse& response) {
  const auto index = etcdIndex(response);
  if (!index) return Error{ErrorKind::Malformed, "answer without X-Etcd-Index", 0};
  return Listing{{}, *index};
}

}  // namespace

V2Store::V2Store(std::shared_ptr<EtcdTransport> transport) : transport_(std::move(transport)) {}

Result<Listing> V2Store::list(const std::string& dir, size_t limit) {
  auto response = transport_->v2(getRequest(withoutTrailingSlash(dir), "?recursive=true"));
  if (!response) return inContext(response.error(), "list " + dir);
  if (auto error = codec::v2Error(response->status, response->body)) {
    // A directory nobody has written to yet is an empty listing, at the current index.
    if (hasCode(*error, codec::kV2KeyNotFound)) return emptyListing(*response);
    return inContext(*error, "list " + dir);
  }
  const auto index = etcdIndex(*response);
  if (!index) return Error{ErrorKind::Malformed, "etcd v2 list " + dir + ": no X-Etcd-Index", 0};
  auto listing = codec::v2ParseListing(response->body, *index);
  if (!listing) return inContext(listing.error(), "list " + dir);
  // The keys API has no limit: cut here so both APIs answer alike.
  if (limit > 0 && listing->kvs.size() > limit) {
    listing.value().kvs.resize(limit);
    listing.value().truncated = true;
  }
  return listing;
}

Result<std::optional<std::string>> V2Store::get(const std::string& key) {
  auto response = call(*transport_, getRequest(key, ""));
  if (!response) {
    if (hasCode(response.error(), codec::kV2KeyNotFound)) return std::optional<std::string>();
    return inContext(response.error(), "get " + key);
  }
  auto value = codec::v2ParseValue(response->body);
  if (!value) return inContext(value.error(), "get " + key);
  return value;
}

Result<std::optional<Versioned>> V2Store::getVersioned(const std::string& key) {
  auto response = call(*transport_, getRequest(key, ""));
  if (!response) {
    if (hasCode(response.error(), codec::kV2KeyNotFound)) return std::optional<Versioned>();
    return inContext(response.error(), "get " + key);
  }
  auto value = codec::v2ParseVersioned(response->body);
  if (!value) return inContext(value.error(), "get " + key);
  return value;
}

Result<bool> V2Store::removeIfUnchanged(const std::string& key, int64_t revision,
                                        const std::vector<std::string>& quietDirs, int64_t) {
  // v2 has no transaction over several keys: the caller must not rely on one.
  if (!quietDirs.empty())
    return Error{ErrorKind::Etcd, "etcd v2 delete " + key + " if unchanged: needs the v3 API", 0};
  EtcdRequest request;
  request.method = "DELETE";
  request.path = codec::v2KeyPath(key) + "?prevIndex=" + std::to_string(revision);
  auto response = call(*transport_, request);
  if (!response) {
    if (hasCode(response.error(), codec::kV2TestFailed) ||
        hasCode(response.error(), codec::kV2KeyNotFound))
      return false;
    return inContext(response.error(), "delete " + key + " if unchanged");
  }
  return true;
}

Result<Lease> V2Store::putWithTtl(const std::string& key, const std::string& value,
                                  int ttlSeconds) {
  const Form form = {{"value", value}, {"ttl", std::to_string(ttlSeconds)}};
  auto response = call(*transport_, formRequest("PUT", key, form));
  if (!response) return inContext(response.error(), "put " + key);
  return Lease{key, value, "", ttlSeconds};
}

Result<Unit> V2Store::refresh(const Lease& lease) {
  // refresh=true renews the TTL without a change event (so watchers do not wake up);
  // prevExist=true turns an expired or deleted key into "key not found" instead of creating it.
  const Form form = {
      {"ttl", std::to_string(lease.ttlSeconds)}, {"refresh", "true"}, {"prevExist", "true"}};
  auto response = call(*transport_, formRequest("PUT", lease.key, form));
  if (!response) {
    if (hasCode(response.error(), codec::kV2KeyNotFound)) {
      return Error{ErrorKind::LeaseLost, "etcd v2 refresh " + lease.key + ": key expired", 0};
    }
    return inContext(response.error(), "refresh " + lease.key);
  }
  return Unit{};
}

Result<Unit> V2Store::remove(const Lease& lease) {
  EtcdRequest request;
  request.method = "DELETE";
  request.path = codec::v2KeyPath(lease.key);
  auto response = call(*transport_, request);
  if (!response && !hasCode(response.error(), codec::kV2KeyNotFound)) {
    return inContext(response.error(), "delete " + lease.key);
  }
  return Unit{};
}

Result<bool> V2Store::createIfAbsent(const std::string& key, const std::string& value,
                                     int ttlSeconds) {
  Form form = {{"value", value}, {"prevExist", "false"}};
  if (ttlSeconds > 0) form.emplace_back("ttl", std::to_string(ttlSeconds));
  auto response = call(*transport_, formRequest("PUT", key, form));
  if (!response) {
    if (hasCode(response.error(), codec::kV2NodeExist)) return false;
    return inContext(response.error(), "create " + key);
  }
  return true;
}

Result<WatchResult> V2Store::waitForChange(const std::string& dir, int64_t afterRevision,
                                           std::chrono::milliseconds timeout) {
  const std::string query =
      "?wait=true&recursive=true&waitIndex=" + std::to_string(afterRevision + 1);
  EtcdRequest request = getRequest(withoutTrailingSlash(dir), query);
  request.timeout = timeout;
  request.longPoll = true;
  auto response = transport_->v2(request);
  if (!response) return inContext(response.error(), "watch " + dir);
  // etcd sends the status line at once and the body when something happens: running out of
  // time after the status line is the quiet answer, not an error.
  if (response->outcome == HttpOutcome::Timeout) return WatchResult{false, afterRevision};
  // errorCode 401: the index fell out of v2's 1000-event history (ErrorKind::Compacted).
  if (auto error = codec::v2Error(response->status, response->body)) {
    return inContext(*error, "watch " + dir);
  }
  if (response->outcome != HttpOutcome::Ok) {
    return Error{ErrorKind::Transport, "etcd v2 watch " + dir + ": " + response->error, 0};
  }
  auto index = codec::v2ParseEventIndex(response->body);
  if (!index) return inContext(index.error(), "watch " + dir);
  return WatchResult{true, *index};
}

}  // namespace esetcd

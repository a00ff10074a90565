// Pure encoding and decoding of etcd's v3 JSON gateway and v2 keys API messages, with no I/O, so
// that every wire quirk (int64 as strings, omitted zero fields, two error shapes) is unit-tested.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "etcd_store.hpp"
#include "result.hpp"

namespace esetcd::codec {

// gRPC status codes that the v3 gateway reports in error bodies and that change our behaviour.
constexpr long kGrpcInvalidArgument = 3;   // also "authentication failed" and "auth store is old"
constexpr long kGrpcNotFound = 5;          // e.g. "requested lease not found"
constexpr long kGrpcPermissionDenied = 7;  // the user's roles do not cover the key
constexpr long kGrpcUnavailable = 14;      // no leader, member stopping: try another endpoint
constexpr long kGrpcUnauthenticated = 16;  // token expired or unknown: authenticate again

// v2 errorCode values.
constexpr long kV2KeyNotFound = 100;
constexpr long kV2NodeExist = 105;
constexpr long kV2TestFailed = 101;  // prevIndex/prevValue did not match
constexpr long kV2EventIndexCleared = 401;
constexpr long kV2Unauthorized = 110;  // basic auth missing or wrong, or no permission

// Standard base64 with padding, as the v3 gateway uses for keys and values.
std::string base64Encode(std::string_view bytes);
// nullopt when `text` is not valid padded standard base64.
std::optional<std::string> base64Decode(std::string_view text);

// The smallest key greater than every key starting with `prefix`: increment the last byte below
// 0xff and cut after it. A prefix of only 0xff bytes (or none) has no such key: "\0" = no end.
std::string prefixRangeEnd(std::string_view prefix);

// The key prefix for "everything below dir": exactly one trailing '/', so "/a/b" never matches
// "/a/b-c/x".
std::string directoryPrefix(std::string_view dir);

// Parses a whole decimal int64; nullopt on anything else (sign allowed, no spaces).
std::optional<int64_t> parseInt64(std::string_view text);

// ---- v3 request bodies (JSON) ----
// `rangeEnd` empty: the single key.
std::string v3RangeRequest(std::string_view key, std::string_view rangeEnd, size_t limit = 0);
// `leaseId` empty: no lease.
std::string v3PutRequest(std::string_view key, std::string_view value, std::string_view leaseId);
std::string v3DeleteRequest(std::string_view key);
std::string v3LeaseGrantRequest(int ttlSeconds);
// Body of keepalive and revoke.
std::string v3LeaseIdRequest(std::string_view leaseId);
// A txn that puts key=value only when the key's create revision is 0 (it does not exist).
std::string v3CreateIfAbsentRequest(std::string_view key, std::string_view value,
                                    std::string_view leaseId);
// A txn deleting `key` if its mod_revision is still `revision` and every key below each of
// `quietDirs` has a mod_revision of at most `since` (a compare over the whole range; an empty
// range passes).
std::string v3RemoveIfUnchangedRequest(std::string_view key, int64_t revision,
                                       const std::vector<std::string>& quietDirs, int64_t since);
std::string v3WatchRequest(std::string_view key, std::string_view rangeEnd, int64_t startRevision);
std::string v3AuthRequest(std::string_view user, std::string_view password);
// API detection: a serializable range is answered by the member itself, even without a leader.
std::string v3ProbeRequest();

// ---- v3 answers ----
// etcd's errors, in every shape the gateways of 3.4–3.7 send them (captured answers:
// tests/fixtures/etcd_errors):
//   unary calls        {"error","message","code"} (3.4, 3.5) or {"code","message"} (3.6+)
//   streamed calls     {"error":{"grpc_code","http_code","message",...}} (3.5) or
//   (keepalive, watch) {"error":{"code","message"}} (3.6+), with HTTP 401/400/503
//   watch cancels      {"result":{"canceled":true,"cancel_reason":"rpc error: code = <Name>
//                      desc = <message>"}} with HTTP 200
// An error with a gRPC code gives ErrorKind::Etcd with that code and etcd's message, except
// refused credentials and permissions (see etcdError), which give ErrorKind::Auth.

// The error of an answer: nullopt for 200. An etcd error body (unary or streamed shape) gives
// the error above; any other non-200 answer gives ErrorKind::Status with the HTTP status.
std::optional<Error> v3Error(long status, std::string_view body);

// An error etcd reported with gRPC `code`: ErrorKind::Auth for permission denied (7) and for
// code 3 with "authentication failed" (wrong user or password), "user name is empty" (no
// credentials while auth is on) or "user name not found"; ErrorKind::Etcd otherwise.
Error etcdError(long code, std::string message);

// Whether a new login cures the error: the token is invalid or expired (16), or it was issued
// before an auth change ("revision of auth store is old", code 3; etcd's Go client logs in
// again on both). The caller authenticates once more and retries once.
bool tokenRejected(const Error& error);

// true when the body is something only the v3 gateway sends: a JSON object with a response
// header or a gRPC error code (auto-detection; a v2-only etcd answers 404 in plain text).
bool v3GatewayAnswered(std::string_view body);

Result<Listing> v3ParseRange(std::string_view body);
// The first key of a range answer with its mod_revision; nullopt when there is none.
Result<std::optional<Versioned>> v3ParseVersioned(std::string_view body);

// The lease bound to the single key of a range answer: nullopt when the key does not exist,
// "0" when it has no lease.
Result<std::optional<std::string>> v3ParseKeyLease(std::string_view body);

struct V3Grant {
  std::string id;  // decimal text: lease IDs exceed 2^53
  int ttlSeconds = 0;
};
Result<V3Grant> v3ParseLeaseGrant(std::string_view body);

// The remaining TTL after a keepalive; ErrorKind::LeaseLost when the answer has none (etcd
// answers 200 without "TTL" for an expired or revoked lease).
Result<int64_t> v3ParseKeepAlive(std::string_view body);

// Whether the txn's compare held; false when "succeeded" is omitted.
Result<bool> v3ParseTxn(std::string_view body);

Result<std::string> v3ParseAuthToken(std::string_view body);

struct V3WatchMessage {
  bool created = false;
  size_t events = 0;
  int64_t headerRevision = 0;
  int64_t lastEventRevision = 0;  // highest mod_revision among the events
};
// One line of the /v3/watch stream. A cancel for a compacted revision gives
// ErrorKind::Compacted; any other cancel or error gives the error its code and message say
// (see etcdError; a cancel reason in no known form gives ErrorKind::Etcd with code 0).
Result<V3WatchMessage> v3ParseWatchMessage(std::string_view line);

// Splits a byte stream into lines as chunks arrive (a chunk may hold several lines or a part).
class LineSplitter {
 public:
  void append(std::string_view chunk) { buffer_.append(chunk); }
  // The next complete line without its '\n', if any.
  std::optional<std::string> next();
  // What is left after the stream ended (a last line without '\n'), emptied.
  std::string rest();

 private:
  std::string buffer_;
};

// ---- v2 ----
// application/x-www-form-urlencoded; v2 ignores JSON bodies without an error.
std::string formEncode(const std::vector<std::pair<std::string, std::string>>& fields);

// "/v2/keys" + the key with every byte outside [A-Za-z0-9-._~/] percent-encoded.
std::string v2KeyPath(std::string_view key);

// The error of a v2 answer: nullopt for 2xx. {"errorCode","message","cause","index"} gives
// ErrorKind::Etcd with the errorCode (401 gives ErrorKind::Compacted, 110 ErrorKind::Auth);
// other answers give ErrorKind::Status.
std::optional<Error> v2Error(long status, std::string_view body);

// Every leaf below the answer's node, nested directories flattened, sorted by key.
Result<Listing> v2ParseListing(std::string_view body, int64_t etcdIndex);

// The value of the answer's node; nullopt when it is a directory.
Result<std::optional<std::string>> v2ParseValue(std::string_view body);
// The value with its modifiedIndex; nullopt for a directory.
Result<std::optional<Versioned>> v2ParseVersioned(std::string_view body);

// The modifiedIndex of a watch event's node (for delete and expire, the index of the removal).
Result<int64_t> v2ParseEventIndex(std::string_view body);

}  // namespace esetcd::codec

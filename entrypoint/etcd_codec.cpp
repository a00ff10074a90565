#include "etcd_codec.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <iterator>
#include <limits>
#include <utility>

#include <nlohmann/json.hpp>

namespace esetcd::codec {
namespace {

using nlohmann::json;

constexpr char kBase64Alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

Error malformed(std::string_view what, std::string_view detail) {
  return Error{ErrorKind::Malformed, std::string(what) + ": " + std::string(detail), 0};
}

// Parses without exceptions; a discarded value means "not JSON".
json parseJson(std::string_view body) {
  return json::parse(body, nullptr, false);
}

// The gateway sends int64 fields as JSON strings and omits them when zero. Integers that arrive
// as JSON numbers are accepted too, but never through a double.
std::optional<int64_t> int64Field(const json& object, const char* name) {
  const auto it = object.find(name);
  if (it == object.end()) return 0;
  if (it->is_string()) return parseInt64(it->get_ref<const std::string&>());
  if (it->is_number_integer() && !it->is_number_unsigned()) return it->get<int64_t>();
  if (it->is_number_unsigned() &&
      it->get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return static_cast<int64_t>(it->get<uint64_t>());
  }
  return std::nullopt;
}

// A boolean field; false when absent or of another type (json::value would throw then).
bool boolField(const json& object, const char* name) {
  const auto it = object.find(name);
  return it != object.end() && it->is_boolean() && it->get<bool>();
}

std::string stringField(const json& object, const char* name) {
  const auto it = object.find(name);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// Base64 text field decoded; missing means empty (omitted zero value).
std::optional<std::string> bytesField(const json& object, const char* name) {
  return base64Decode(stringField(object, name));
}

// A range answer read as the parser meets it (nlohmann's SAX interface) rather than through a
// JSON tree: the listing at start, up to 1,000 registrations and the largest answer the
// entrypoint reads before its command runs, takes a quarter fewer instructions this way (1,000
// registrations: 33.2 million before, 24.0 million; the lexer is most of the rest). It reads what
// the tree did: header.revision (0 without one; a string, or an integer that fits int64), and
// kvs[].key and .value (empty when missing or not a string; an element that is no object is an
// empty pair); of names given twice, the last counts; every other field is skipped whole.
class RangeReader final : public nlohmann::json_sax<json> {
 public:
  bool wasObject() const { return wasObject_; }

  // The answer's listing, sorted by key, or why it makes no sense.
  Result<Listing> listing() {
    if (!revision_) return malformed("range answer", "bad header revision");
    Listing listing;
    listing.revision = *revision_;
    if (!kvsSeen_) return listing;  // no match: "kvs" is omitted
    if (!kvsArray_) return malformed("range answer", "kvs is not an array");
    for (const auto& [rawKey, rawValue] : kvs_) {
      auto key = base64Decode(rawKey);
      auto value = base64Decode(rawValue);
      if (!key || !value) return malformed("range answer", "key or value is not base64");
      listing.kvs.push_back(KeyValue{std::move(*key), std::move(*value)});
    }
    std::sort(listing.kvs.begin(), listing.kvs.end(),
              [](const KeyValue& a, const KeyValue& b) { return a.key < b.key; });
    return listing;
  }

  bool null() override { return scalar(std::nullopt, nullptr); }
  bool boolean(bool) override { return scalar(std::nullopt, nullptr); }
  bool number_integer(number_integer_t value) override {
    return scalar(static_cast<int64_t>(value), nullptr);
  }
  bool number_unsigned(number_unsigned_t value) override {
    const bool fits = value <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
    return scalar(fits ? std::optional<int64_t>(static_cast<int64_t>(value)) : std::nullopt,
                  nullptr);
  }
  bool number_float(number_float_t, const string_t&) override {
    return scalar(std::nullopt, nullptr);
  }
  bool string(string_t& text) override { return scalar(std::nullopt, &text); }
  bool binary(binary_t&) override { return scalar(std::nullopt, nullptr); }
  bool start_object(std::size_t) override { return open(Frame::Kv); }
  bool start_array(std::size_t) override { return open(Frame::Kvs); }
  bool end_object() override { return close(); }
  bool end_array() override { return close(); }
  bool key(string_t& name) override {
    const Frame in = frames_.back();
    slot_ = in == Frame::Top      ? (name == "header" ? Slot::Header
                                     : name == "kvs"  ? Slot::Kvs
                                                      : Slot::None)
            : in == Frame::Header ? (name == "revision" ? Slot::Revision : Slot::None)
            : in == Frame::Kv     ? (name == "key"     ? Slot::Key
                                     : name == "value" ? Slot::Value
                                                       : Slot::None)
                                  : Slot::None;
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return false;
  }

 private:
  // Where the parser is: the answer itself, its header, its kvs array, one element of it, or
  // anything else (skipped). What the next value is for: one of the fields read, or nothing.
  enum class Frame { Top, Header, Kvs, Kv, Other };
  enum class Slot { None, Header, Kvs, Revision, Key, Value };

  // Whether the next value is an element of the kvs array; if so, its pair begins (empty unless
  // the element is an object with those fields).
  bool element() {
    if (frames_.back() != Frame::Kvs) return false;
    kvs_.emplace_back();
    return true;
  }

  // A value that is no object or array. `number`: an integer that fits int64; `text`: a string.
  bool scalar(std::optional<int64_t> number, const std::string* text) {
    if (frames_.empty()) return false;  // the answer is no object
    if (element()) return true;
    const Slot slot = std::exchange(slot_, Slot::None);
    if (slot == Slot::Header) revision_ = 0;  // a header that is no object holds no revision
    if (slot == Slot::Kvs) setKvs(false);
    if (slot == Slot::Revision) revision_ = text != nullptr ? parseInt64(*text) : number;
    if (slot == Slot::Key) kvs_.back().first = text != nullptr ? *text : std::string();
    if (slot == Slot::Value) kvs_.back().second = text != nullptr ? *text : std::string();
    return true;
  }

  // An object (`kind` Kv) or an array (`kind` Kvs) begins.
  bool open(Frame kind) {
    const bool object = kind == Frame::Kv;
    if (frames_.empty()) {
      wasObject_ = object;
      frames_.push_back(Frame::Top);
      return object;
    }
    if (element()) {
      frames_.push_back(object ? Frame::Kv : Frame::Other);
      return true;
    }
    const Slot slot = std::exchange(slot_, Slot::None);
    Frame frame = Frame::Other;
    if (slot == Slot::Header) {
      revision_ = 0;  // the last header counts, and one without a revision means 0
      if (object) frame = Frame::Header;
    }
    if (slot == Slot::Kvs) {
      setKvs(!object);
      if (!object) frame = Frame::Kvs;
    }
    if (slot == Slot::Revision) revision_ = std::nullopt;
    if (slot == Slot::Key) kvs_.back().first.clear();
    if (slot == Slot::Value) kvs_.back().second.clear();
    frames_.push_back(frame);
    return true;
  }

  bool close() {
    frames_.pop_back();
    return true;
  }

  // A "kvs" field: the last one counts.
  void setKvs(bool isArray) {
    kvsSeen_ = true;
    kvsArray_ = isArray;
    kvs_.clear();
  }

  std::vector<Frame> frames_;
  Slot slot_ = Slot::None;
  bool wasObject_ = false;
  std::optional<int64_t> revision_ = 0;
  bool kvsSeen_ = false;
  bool kvsArray_ = false;
  std::vector<std::pair<std::string, std::string>> kvs_;  // base64 key and value, as sent
};

// A streaming endpoint (keepalive, watch) wraps each message in {"result": ...}.
const json& unwrapResult(const json& message) {
  const auto it = message.find("result");
  return it != message.end() && it->is_object() ? *it : message;
}

Result<json> parseObject(std::string_view what, std::string_view body) {
  json parsed = parseJson(body);
  if (parsed.is_discarded() || !parsed.is_object()) return malformed(what, "not a JSON object");
  return parsed;
}

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

// The error in an etcd error object: {"code","message"} (3.6+), {"error","message","code"}
// (3.4, 3.5 unary) or {"grpc_code","message",...} (3.5 streamed); nullopt without a code.
std::optional<Error> errorObject(const json& object) {
  for (const char* name : {"code", "grpc_code"}) {
    if (!object.contains(name)) continue;
    const auto code = int64Field(object, name);
    if (!code || *code == 0) return std::nullopt;
    std::string message = stringField(object, "message");
    if (message.empty()) message = stringField(object, "error");
    if (message.empty()) message = "etcd error code " + std::to_string(*code);
    return etcdError(static_cast<long>(*code), std::move(message));
  }
  return std::nullopt;
}

// A streamed call (keepalive, watch) reports an error as {"error":{...}}.
std::optional<Error> streamError(const json& message) {
  const auto it = message.find("error");
  if (it == message.end() || !it->is_object()) return std::nullopt;
  if (auto error = errorObject(*it)) return error;
  std::string text = stringField(*it, "message");
  if (text.empty()) text = "etcd error without a code or message";
  return Error{ErrorKind::Etcd, std::move(text), 0};
}

// gRPC's status names as a watch's cancel reason spells them.
long grpcCodeNamed(std::string_view name) {
  static const char* const kNames[] = {
      "OK",       "Canceled",       "Unknown",          "InvalidArgument",   "DeadlineExceeded",
      "NotFound", "AlreadyExists",  "PermissionDenied", "ResourceExhausted", "FailedPrecondition",
      "Aborted",  "OutOfRange",     "Unimplemented",    "Internal",          "Unavailable",
      "DataLoss", "Unauthenticated"};
  for (size_t code = 1; code < std::size(kNames); ++code) {
    if (name == kNames[code]) return static_cast<long>(code);
  }
  return 0;
}

// "rpc error: code = Unauthenticated desc = etcdserver: invalid auth token" (every version).
Error cancelError(const std::string& reason) {
  static constexpr std::string_view kCode = "rpc error: code = ";
  static constexpr std::string_view kDesc = " desc = ";
  const auto code = reason.find(kCode);
  const auto desc = reason.find(kDesc);
  if (code == std::string::npos || desc == std::string::npos || desc < code) {
    return Error{ErrorKind::Etcd, "watch canceled: " + reason, 0};
  }
  const std::string_view name =
      std::string_view(reason).substr(code + kCode.size(), desc - code - kCode.size());
  Error error = etcdError(grpcCodeNamed(name), reason.substr(desc + kDesc.size()));
  error.message = "watch canceled: " + error.message;
  return error;
}

Result<V3WatchMessage> watchResult(const json& result) {
  const auto header = result.find("header");
  const auto headerRevision = header != result.end() && header->is_object()
                                  ? int64Field(*header, "revision")
                                  : std::optional<int64_t>(0);
  if (!headerRevision) return malformed("watch answer", "bad header revision");
  V3WatchMessage message;
  message.created = boolField(result, "created");
  message.headerRevision = *headerRevision;
  const auto events = result.find("events");
  if (events == result.end()) return message;
  if (!events->is_array()) return malformed("watch answer", "events is not an array");
  for (const auto& event : *events) {
    const auto kv = event.find("kv");
    if (kv == event.end() || !kv->is_object()) return malformed("watch answer", "event without kv");
    const auto modRevision = int64Field(*kv, "mod_revision");
    if (!modRevision) return malformed("watch answer", "bad mod_revision");
    message.lastEventRevision = std::max(message.lastEventRevision, *modRevision);
    ++message.events;
  }
  return message;
}

bool isUnreserved(unsigned char c) {
  return std::isalnum(c) != 0 || c == '-' || c == '.' || c == '_' || c == '~';
}

std::string percentEncode(std::string_view text, bool keepSlash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (isUnreserved(c) || (keepSlash && c == '/')) {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0x0f];
    }
  }
  return out;
}

// Appends every leaf below `node` (not `node` itself) to `out`.
bool flattenV2(const json& node, std::vector<KeyValue>& out) {
  const auto children = node.find("nodes");
  if (children == node.end()) return true;
  if (!children->is_array()) return false;
  for (const auto& child : *children) {
    if (!child.is_object()) return false;
    if (boolField(child, "dir")) {
      if (!flattenV2(child, out)) return false;
    } else if (auto key = stringField(child, "key"); !key.empty()) {
      // A node without a key names nothing: skipped (found by fuzzing).
      out.push_back(KeyValue{key, stringField(child, "value")});
    }
  }
  return true;
}

Result<json> v2Node(std::string_view what, std::string_view body) {
  auto parsed = parseObject(what, body);
  if (!parsed) return parsed.error();
  const auto node = parsed->find("node");
  if (node == parsed->end() || !node->is_object()) return malformed(what, "no node");
  return json(*node);
}

}  // namespace

std::string base64Encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t n = static_cast<unsigned char>(bytes[i]) << 16 |
                       static_cast<unsigned char>(bytes[i + 1]) << 8 |
                       static_cast<unsigned char>(bytes[i + 2]);
    out += kBase64Alphabet[n >> 18 & 63];
    out += kBase64Alphabet[n >> 12 & 63];
    out += kBase64Alphabet[n >> 6 & 63];
    out += kBase64Alphabet[n & 63];
  }
  const size_t left = bytes.size() - i;
  if (left == 0) return out;
  uint32_t n = static_cast<unsigned char>(bytes[i]) << 16;
  if (left == 2) n |= static_cast<unsigned char>(bytes[i + 1]) << 8;
  out += kBase64Alphabet[n >> 18 & 63];
  out += kBase64Alphabet[n >> 12 & 63];
  out += left == 2 ? kBase64Alphabet[n >> 6 & 63] : '=';
  out += '=';
  return out;
}

std::optional<std::string> base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    const int padding = last ? (text[i + 3] == '=') + (text[i + 2] == '=') : 0;
    if (padding == 1 && text[i + 2] == '=') return std::nullopt;  // "x=y=" style
    uint32_t n = 0;
    for (int j = 0; j < 4 - padding; ++j) {
      const int value = base64Value(text[i + j]);
      if (value < 0) return std::nullopt;
      n |= static_cast<uint32_t>(value) << (18 - 6 * j);
    }
    out += static_cast<char>(n >> 16 & 0xff);
    if (padding < 2) out += static_cast<char>(n >> 8 & 0xff);
    if (padding < 1) out += static_cast<char>(n & 0xff);
  }
  return out;
}

std::string prefixRangeEnd(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    const auto last = static_cast<unsigned char>(end.back());
    if (last < 0xff) {
      end.back() = static_cast<char>(last + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');
}

std::string directoryPrefix(std::string_view dir) {
  while (!dir.empty() && dir.back() == '/') dir.remove_suffix(1);
  return std::string(dir) + "/";
}

std::optional<int64_t> parseInt64(std::string_view text) {
  int64_t value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

std::string v3RangeRequest(std::string_view key, std::string_view rangeEnd, size_t limit) {
  json body = {{"key", base64Encode(key)}};
  if (!rangeEnd.empty()) body["range_end"] = base64Encode(rangeEnd);
  if (limit > 0) body["limit"] = std::to_string(limit);
  return body.dump();
}

std::string v3PutRequest(std::string_view key, std::string_view value, std::string_view leaseId) {
  json body = {{"key", base64Encode(key)}, {"value", base64Encode(value)}};
  if (!leaseId.empty()) body["lease"] = std::string(leaseId);
  return body.dump();
}

std::string v3DeleteRequest(std::string_view key) {
  return json{{"key", base64Encode(key)}}.dump();
}

std::string v3LeaseGrantRequest(int ttlSeconds) {
  return json{{"TTL", std::to_string(ttlSeconds)}}.dump();
}

std::string v3LeaseIdRequest(std::string_view leaseId) {
  return json{{"ID", std::string(leaseId)}}.dump();
}

std::string v3CreateIfAbsentRequest(std::string_view key, std::string_view value,
                                    std::string_view leaseId) {
  const json compare = {{"target", "CREATE"},
                        {"result", "EQUAL"},
                        {"key", base64Encode(key)},
                        {"create_revision", "0"}};
  const json put = json::parse(v3PutRequest(key, value, leaseId));
  return json{{"compare", json::array({compare})},
              {"success", json::array({json{{"request_put", put}}})}}
      .dump();
}

std::string v3RemoveIfUnchangedRequest(std::string_view key, int64_t revision,
                                       const std::vector<std::string>& quietDirs, int64_t since) {
  json compares = json::array({json{{"target", "MOD"},
                                    {"result", "EQUAL"},
                                    {"key", base64Encode(key)},
                                    {"mod_revision", std::to_string(revision)}}});
  for (const auto& dir : quietDirs) {
    const std::string prefix = directoryPrefix(dir);
    compares.push_back(json{{"target", "MOD"},
                            {"result", "LESS"},
                            {"key", base64Encode(prefix)},
                            {"range_end", base64Encode(prefixRangeEnd(prefix))},
                            {"mod_revision", std::to_string(since + 1)}});
  }
  const json remove = {{"key", base64Encode(key)}};
  return json{{"compare", compares},
              {"success", json::array({json{{"request_delete_range", remove}}})}}
      .dump();
}

std::string v3WatchRequest(std::string_view key, std::string_view rangeEnd, int64_t startRevision) {
  json create = {{"key", base64Encode(key)}, {"start_revision", std::to_string(startRevision)}};
  if (!rangeEnd.empty()) create["range_end"] = base64Encode(rangeEnd);
  return json{{"create_request", create}}.dump();
}

std::string v3AuthRequest(std::string_view user, std::string_view password) {
  // Validated at start (config.cpp); replace rather than throw should anything slip through.
  return json{{"name", std::string(user)}, {"password", std::string(password)}}.dump(
      -1, ' ', false, json::error_handler_t::replace);
}

std::string v3ProbeRequest() {
  return json{{"key", base64Encode("/")}, {"serializable", true}, {"count_only", true}}.dump();
}

Error etcdError(long code, std::string message) {
  // etcd's own words (server/etcdserver/api/v3rpc/rpctypes): the code alone is ambiguous, 3 is
  // also "revision of auth store is old" and any malformed request.
  const bool refused =
      code == kGrpcPermissionDenied ||
      (code == kGrpcInvalidArgument &&
       (contains(message, "authentication failed") || contains(message, "user name is empty") ||
        contains(message, "user name not found")));
  return Error{refused ? ErrorKind::Auth : ErrorKind::Etcd, std::move(message), code};
}

bool tokenRejected(const Error& error) {
  if (error.kind != ErrorKind::Etcd) return false;
  return error.code == kGrpcUnauthenticated ||
         (error.code == kGrpcInvalidArgument &&
          contains(error.message, "revision of auth store is old"));
}

std::optional<Error> v3Error(long status, std::string_view body) {
  if (status == 200) return std::nullopt;
  const json parsed = parseJson(body.substr(0, body.find('\n')));
  if (parsed.is_object()) {
    if (auto error = errorObject(parsed)) return error;
    if (auto error = streamError(parsed); error && error->code != 0) return error;
  }
  return Error{ErrorKind::Status, "HTTP status " + std::to_string(status), status};
}

bool v3GatewayAnswered(std::string_view body) {
  const json parsed = parseJson(body);
  return parsed.is_object() && (parsed.contains("header") || parsed.contains("code"));
}

Result<Listing> v3ParseRange(std::string_view body) {
  RangeReader reader;
  if (!json::sax_parse(body.begin(), body.end(), &reader) || !reader.wasObject())
    return malformed("range answer", "not a JSON object");
  return reader.listing();
}

Result<std::optional<Versioned>> v3ParseVersioned(std::string_view body) {
  auto parsed = parseObject("range answer", body);
  if (!parsed) return parsed.error();
  const auto kvs = parsed->find("kvs");
  if (kvs == parsed->end() || !kvs->is_array() || kvs->empty()) return std::optional<Versioned>();
  const auto value = bytesField(kvs->front(), "value");
  const auto revision = int64Field(kvs->front(), "mod_revision");
  if (!value || !revision) return malformed("range answer", "bad value or mod_revision");
  return std::optional<Versioned>(Versioned{*value, *revision});
}

Result<std::optional<std::string>> v3ParseKeyLease(std::string_view body) {
  auto parsed = parseObject("range answer", body);
  if (!parsed) return parsed.error();
  const auto kvs = parsed->find("kvs");
  if (kvs == parsed->end() || !kvs->is_array() || kvs->empty()) {
    return std::optional<std::string>();
  }
  const auto lease = int64Field(kvs->front(), "lease");
  if (!lease) return malformed("range answer", "bad lease");
  return std::optional<std::string>(std::to_string(*lease));
}

Result<V3Grant> v3ParseLeaseGrant(std::string_view body) {
  auto parsed = parseObject("lease grant answer", body);
  if (!parsed) return parsed.error();
  if (auto error = stringField(*parsed, "error"); !error.empty()) {
    return Error{ErrorKind::Etcd, error, 0};  // 3.4 reports some grant failures this way
  }
  const auto id = int64Field(*parsed, "ID");
  const auto ttl = int64Field(*parsed, "TTL");
  if (!id || *id == 0 || !ttl || *ttl <= 0 || *ttl > std::numeric_limits<int>::max()) {
    return malformed("lease grant answer", "no lease ID or TTL");
  }
  return V3Grant{std::to_string(*id), static_cast<int>(*ttl)};
}

Result<int64_t> v3ParseKeepAlive(std::string_view body) {
  const auto line = body.substr(0, body.find('\n'));
  auto parsed = parseObject("keepalive answer", line);
  if (!parsed) return parsed.error();
  if (auto error = streamError(*parsed)) return *error;
  const auto ttl = int64Field(unwrapResult(*parsed), "TTL");
  if (!ttl) return malformed("keepalive answer", "bad TTL");
  if (*ttl <= 0) return Error{ErrorKind::LeaseLost, "lease expired or revoked", 0};
  return *ttl;
}

Result<bool> v3ParseTxn(std::string_view body) {
  auto parsed = parseObject("txn answer", body);
  if (!parsed) return parsed.error();
  const auto it = parsed->find("succeeded");
  if (it == parsed->end()) return false;  // false is omitted
  if (!it->is_boolean()) return malformed("txn answer", "succeeded is not a boolean");
  return it->get<bool>();
}

Result<std::string> v3ParseAuthToken(std::string_view body) {
  auto parsed = parseObject("authenticate answer", body);
  if (!parsed) return parsed.error();
  std::string token = stringField(*parsed, "token");
  if (token.empty()) return malformed("authenticate answer", "no token");
  return token;
}

Result<V3WatchMessage> v3ParseWatchMessage(std::string_view line) {
  auto parsed = parseObject("watch answer", line);
  if (!parsed) return parsed.error();
  if (auto error = streamError(*parsed)) return *error;
  if (!parsed->contains("result")) {
    // A unary error body: the watch was refused before the stream started.
    if (auto error = errorObject(*parsed)) return *error;
    return malformed("watch answer", "neither result nor error");
  }
  const json& result = unwrapResult(*parsed);
  if (!boolField(result, "canceled")) return watchResult(result);
  const auto compactRevision = int64Field(result, "compact_revision");
  if (compactRevision && *compactRevision > 0) {
    return Error{ErrorKind::Compacted,
                 "revision compacted, oldest available is " + std::to_string(*compactRevision), 0};
  }
  return cancelError(stringField(result, "cancel_reason"));
}

std::optional<std::string> LineSplitter::next() {
  const auto newline = buffer_.find('\n');
  if (newline == std::string::npos) return std::nullopt;
  std::string line = buffer_.substr(0, newline);
  buffer_.erase(0, newline + 1);
  return line;
}

std::string LineSplitter::rest() {
  std::string left;
  left.swap(buffer_);
  return left;
}

std::string formEncode(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (const auto& [name, value] : fields) {
    if (!out.empty()) out += '&';
    out += percentEncode(name, false) + "=" + percentEncode(value, false);
  }
  return out;
}

std::string v2KeyPath(std::string_view key) {
  std::string path = "/v2/keys";
  if (key.empty() || key.front() != '/') path += '/';
  return path + percentEncode(key, true);
}

std::optional<Error> v2Error(long status, std::string_view body) {
  if (status >= 200 && status < 300) return std::nullopt;
  const json parsed = parseJson(body);
  const auto code = parsed.is_object() ? int64Field(parsed, "errorCode") : std::nullopt;
  if (!code || *code == 0) {
    return Error{ErrorKind::Status, "HTTP status " + std::to_string(status), status};
  }
  std::string message = stringField(parsed, "message");
  if (message.empty()) message = "etcd error code " + std::to_string(*code);
  if (const auto cause = stringField(parsed, "cause"); !cause.empty())
    message += " (" + cause + ")";
  const auto kind = *code == kV2EventIndexCleared ? ErrorKind::Compacted
                    : *code == kV2Unauthorized    ? ErrorKind::Auth
                                                  : ErrorKind::Etcd;
  return Error{kind, message, static_cast<long>(*code)};
}

Result<Listing> v2ParseListing(std::string_view body, int64_t etcdIndex) {
  auto node = v2Node("v2 listing", body);
  if (!node) return node.error();
  Listing listing;
  listing.revision = etcdIndex;
  if (!flattenV2(*node, listing.kvs)) return malformed("v2 listing", "bad nodes");
  std::sort(listing.kvs.begin(), listing.kvs.end(),
            [](const KeyValue& a, const KeyValue& b) { return a.key < b.key; });
  return listing;
}

Result<std::optional<std::string>> v2ParseValue(std::string_view body) {
  auto node = v2Node("v2 get", body);
  if (!node) return node.error();
  if (boolField(*node, "dir")) return std::optional<std::string>();
  return std::optional<std::string>(stringField(*node, "value"));
}

Result<std::optional<Versioned>> v2ParseVersioned(std::string_view body) {
  auto node = v2Node("v2 get", body);
  if (!node) return node.error();
  if (boolField(*node, "dir")) return std::optional<Versioned>();
  const auto index = int64Field(*node, "modifiedIndex");
  if (!index) return malformed("v2 get", "no modifiedIndex");
  return std::optional<Versioned>(Versioned{stringField(*node, "value"), *index});
}

Result<int64_t> v2ParseEventIndex(std::string_view body) {
  auto node = v2Node("v2 watch event", body);
  if (!node) return node.error();
  const auto index = int64Field(*node, "modifiedIndex");
  if (!index || *index <= 0) return malformed("v2 watch event", "no modifiedIndex");
  return *index;
}

}  // namespace esetcd::codec

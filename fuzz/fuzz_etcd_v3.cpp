// Answers of etcd's v3 JSON gateway: unary bodies, watch stream lines, errors. Invariants: no
// crash, no exception, no hang; what parses keeps its promises (revisions not negative, listed
// keys inside the range asked for are not invented); base64 round-trips; a range answer reads the
// same through v3ParseRange (streamed, nlohmann's SAX) as through a JSON tree (treeRange below).
#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>

#include "etcd_codec.hpp"
#include "fuzz_input.hpp"

using namespace esetcd;

namespace {

using nlohmann::json;

// The tree reading of a range answer v3ParseRange replaced, kept as its oracle: nullopt when the
// answer makes no sense, else the revision and the decoded pairs, sorted.
std::optional<Listing> treeRange(std::string_view body) {
  const json answer = json::parse(body, nullptr, false);
  if (answer.is_discarded() || !answer.is_object()) return std::nullopt;
  auto int64Of = [](const json& object, const char* name) -> std::optional<int64_t> {
    const auto it = object.find(name);
    if (it == object.end()) return 0;
    if (it->is_string()) return codec::parseInt64(it->get_ref<const std::string&>());
    if (it->is_number_unsigned()) {
      if (it->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        return std::nullopt;
      return static_cast<int64_t>(it->get<uint64_t>());
    }
    if (it->is_number_integer()) return it->get<int64_t>();
    return std::nullopt;
  };
  auto textOf = [](const json& object, const char* name) {
    const auto it = object.find(name);
    return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  Listing listing;
  const auto header = answer.find("header");
  const auto revision = header != answer.end() && header->is_object() ? int64Of(*header, "revision")
                                                                      : std::optional<int64_t>(0);
  if (!revision) return std::nullopt;
  listing.revision = *revision;
  const auto kvs = answer.find("kvs");
  if (kvs == answer.end()) return listing;
  if (!kvs->is_array()) return std::nullopt;
  for (const auto& kv : *kvs) {
    const bool object = kv.is_object();
    auto key = codec::base64Decode(object ? textOf(kv, "key") : "");
    auto value = codec::base64Decode(object ? textOf(kv, "value") : "");
    if (!key || !value) return std::nullopt;
    listing.kvs.push_back(KeyValue{*key, *value});
  }
  std::sort(listing.kvs.begin(), listing.kvs.end(),
            [](const KeyValue& a, const KeyValue& b) { return a.key < b.key; });
  return listing;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t selector = data[0];
  std::string_view body = fuzz::text(data + 1, size - 1);
  const long status = selector & 1 ? 200 : (selector & 2 ? 400 : 503);

  if (auto error = codec::v3Error(status, body)) FUZZ_CHECK(!error->message.empty());
  (void)codec::v3GatewayAnswered(body);
  const auto range = codec::v3ParseRange(body);
  const auto tree = treeRange(body);
  FUZZ_CHECK(range.ok() == tree.has_value());
  if (range && tree) {
    FUZZ_CHECK(range->revision == tree->revision);
    FUZZ_CHECK(range->kvs.size() == tree->kvs.size());
    for (size_t i = 0; i < range->kvs.size() && i < tree->kvs.size(); ++i)
      FUZZ_CHECK(range->kvs[i].key == tree->kvs[i].key &&
                 range->kvs[i].value == tree->kvs[i].value);
  }
  (void)codec::v3ParseVersioned(body);
  (void)codec::v3ParseKeyLease(body);
  (void)codec::v3ParseLeaseGrant(body);
  (void)codec::v3ParseKeepAlive(body);
  (void)codec::v3ParseTxn(body);
  (void)codec::v3ParseAuthToken(body);
  if (auto message = codec::v3ParseWatchMessage(body)) {
    FUZZ_CHECK(message->lastEventRevision >= 0 || message->events == 0);
  }

  // Round trips of the request side, on the same bytes as a key.
  std::string bytes(body);
  auto decoded = codec::base64Decode(codec::base64Encode(bytes));
  FUZZ_CHECK(decoded && *decoded == bytes);
  if (auto number = codec::parseInt64(body))
    FUZZ_CHECK(codec::parseInt64(std::to_string(*number)) == number);
  if (!bytes.empty()) {
    // Every key that starts with the prefix sorts below the range end ("\0": no end).
    std::string end = codec::prefixRangeEnd(bytes);
    FUZZ_CHECK(end == std::string(1, '\0') || (bytes < end && (bytes + "\xff\xff") < end));
  }
  return 0;
}

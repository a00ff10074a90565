// Unit tests of the etcd wire codec: every quirk of the v3 gateway and the v2 keys API, with
// answers copied from etcd 3.4.23 and shapes documented for 3.5/3.6.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "../result_checks.hpp"
#include "etcd_codec.hpp"

using namespace esetcd;
using namespace esetcd::codec;
using nlohmann::json;

namespace {

const char* const kHeader =
    R"("header":{"cluster_id":"324952591200643719","member_id":"3319814642761637952",)"
    R"("revision":"7","raft_term":"2"})";

std::string withHeader(const std::string& rest) {
  return "{" + std::string(kHeader) + (rest.empty() ? "" : "," + rest) + "}";
}

std::string allBytes() {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes += static_cast<char>(i);
  return bytes;
}

}  // namespace

TEST_CASE("base64 matches RFC 4648 test vectors") {
  CHECK(base64Encode("") == "");
  CHECK(base64Encode("f") == "Zg==");
  CHECK(base64Encode("fo") == "Zm8=");
  CHECK(base64Encode("foo") == "Zm9v");
  CHECK(base64Encode("foobar") == "Zm9vYmFy");
  CHECK(base64Encode("/a/b") == "L2EvYg==");
  CHECK(base64Decode("Zm9vYg==") == std::optional<std::string>("foob"));
}

TEST_CASE("base64 round-trips binary data of every length") {
  const std::string bytes = allBytes();
  for (size_t length = 0; length <= bytes.size(); length += 37) {
    const std::string input = bytes.substr(bytes.size() - length);
    CHECK(base64Decode(base64Encode(input)) == std::optional<std::string>(input));
  }
  const std::string nulls("\0\0\xff", 3);
  CHECK(base64Decode(base64Encode(nulls)) == std::optional<std::string>(nulls));
}

TEST_CASE("base64 decoding rejects what is not padded standard base64") {
  CHECK_FALSE(base64Decode("Zg"));        // unpadded
  CHECK_FALSE(base64Decode("Zg=a"));      // padding in the middle
  CHECK_FALSE(base64Decode("Z==="));      // too much padding
  CHECK_FALSE(base64Decode("Zm9v\n"));    // line breaks
  CHECK_FALSE(base64Decode("Zm-_"));      // URL alphabet
  CHECK_FALSE(base64Decode("Zg==Zg=="));  // padding before the end
}

TEST_CASE("prefixRangeEnd increments the last byte below 0xff and cuts after it") {
  CHECK(prefixRangeEnd("/services/es/") == "/services/es0");
  CHECK(prefixRangeEnd("abc") == "abd");
  CHECK(prefixRangeEnd("a\xff") == "b");
  CHECK(prefixRangeEnd(std::string("a\xfe\xff\xff", 4)) == "a\xff");
  CHECK(prefixRangeEnd(std::string("\x00", 1)) == std::string("\x01", 1));
}

TEST_CASE("prefixRangeEnd of nothing but 0xff means no end") {
  CHECK(prefixRangeEnd("\xff\xff") == std::string(1, '\0'));
  CHECK(prefixRangeEnd("") == std::string(1, '\0'));
}

TEST_CASE("directoryPrefix keeps sibling prefixes apart") {
  CHECK(directoryPrefix("/services/elasticsearch") == "/services/elasticsearch/");
  CHECK(directoryPrefix("/services/elasticsearch//") == "/services/elasticsearch/");
  CHECK(directoryPrefix("/") == "/");
  const std::string prefix = directoryPrefix("/services/elasticsearch");
  const std::string sibling = "/services/elasticsearch-state/x";
  const std::string child = "/services/elasticsearch/10.0.0.5";
  const std::string end = prefixRangeEnd(prefix);
  CHECK_FALSE((sibling >= prefix && sibling < end));
  CHECK((child >= prefix && child < end));
}

TEST_CASE("parseInt64 takes whole decimal numbers only") {
  CHECK(parseInt64("9223372036854775807") == std::optional<int64_t>(INT64_MAX));
  CHECK(parseInt64("-5") == std::optional<int64_t>(-5));
  CHECK_FALSE(parseInt64("9223372036854775808"));
  CHECK_FALSE(parseInt64(""));
  CHECK_FALSE(parseInt64("12 "));
  CHECK_FALSE(parseInt64("1e3"));
}

TEST_CASE("v3 request bodies carry base64 keys and int64 as strings") {
  const json range = json::parse(v3RangeRequest("/a/", "/a0"));
  CHECK(range == json{{"key", "L2Ev"}, {"range_end", "L2Ew"}});
  CHECK_FALSE(json::parse(v3RangeRequest("/a", "")).contains("range_end"));

  const json put = json::parse(v3PutRequest("k", "v", "7587868245061011521"));
  CHECK(put["lease"] == "7587868245061011521");
  CHECK_FALSE(json::parse(v3PutRequest("k", "v", "")).contains("lease"));

  CHECK(json::parse(v3LeaseGrantRequest(2)) == json{{"TTL", "2"}});
  CHECK(json::parse(v3LeaseIdRequest("7587868245061011521")) ==
        json{{"ID", "7587868245061011521"}});

  const json watch = json::parse(v3WatchRequest("/a/", "/a0", 12));
  CHECK(watch["create_request"]["start_revision"] == "12");
  CHECK(watch["create_request"]["range_end"] == "L2Ew");
}

TEST_CASE("v3 create-if-absent compares the create revision with 0") {
  const json txn = json::parse(v3CreateIfAbsentRequest("/k", "v", "42"));
  const json compare = txn["compare"][0];
  CHECK(compare["target"] == "CREATE");
  CHECK(compare["result"] == "EQUAL");
  CHECK(compare["create_revision"] == "0");
  CHECK(compare["key"] == base64Encode("/k"));
  CHECK(txn["success"][0]["request_put"]["lease"] == "42");
  CHECK_FALSE(txn.contains("failure"));
}

TEST_CASE("v3 errors key off the gRPC code in both body shapes") {
  const auto old = v3Error(404, R"({"error":"etcdserver: requested lease not found",)"
                                R"("message":"etcdserver: requested lease not found","code":5})");
  REQUIRE(old);
  CHECK(old->kind == ErrorKind::Etcd);
  CHECK(old->code == kGrpcNotFound);
  CHECK(old->message == "etcdserver: requested lease not found");

  const auto v36 = v3Error(503, R"({"code":14,"message":"etcdserver: no leader"})");
  REQUIRE(v36);
  CHECK(v36->kind == ErrorKind::Etcd);
  CHECK(v36->code == kGrpcUnavailable);
  CHECK(v36->message == "etcdserver: no leader");

  const auto error = v3Error(401, R"({"error":"x","code":16})");
  REQUIRE(error);
  CHECK(error->message == "x");
  CHECK(error->code == kGrpcUnauthenticated);
}

TEST_CASE("v3 answers without an etcd error body report the HTTP status") {
  CHECK_FALSE(v3Error(200, withHeader("")));
  const auto notFound = v3Error(404, "404 page not found\n");
  REQUIRE(notFound);
  CHECK(notFound->kind == ErrorKind::Status);
  CHECK(notFound->code == 404);
  const auto noCode = v3Error(500, R"({"code":0})");
  REQUIRE(noCode);
  CHECK(noCode->kind == ErrorKind::Status);
}

TEST_CASE("v3 gateway detection") {
  const json probe = json::parse(v3ProbeRequest());
  CHECK(probe["serializable"] == true);
  CHECK(probe["key"] == base64Encode("/"));
  CHECK(v3GatewayAnswered(withHeader("")));
  CHECK(v3GatewayAnswered(R"({"error":"etcdserver: user name is empty","code":3})"));
  CHECK_FALSE(v3GatewayAnswered("404 page not found\n"));
  CHECK_FALSE(v3GatewayAnswered(R"({"errorCode":100,"message":"Key not found"})"));
}

TEST_CASE("v3 range answers decode keys and values, sorted") {
  const auto listing = v3ParseRange(withHeader(
      R"("kvs":[{"key":"L2EvYw==","create_revision":"3","mod_revision":"3","version":"1",)"
      R"("value":"Mg=="},{"key":"L2EvYg==","mod_revision":"2","value":"djE="}],"count":"2")"));
  REQUIRE(listing);
  CHECK(listing->revision == 7);
  REQUIRE(listing->kvs.size() == 2);
  CHECK(listing->kvs[0].key == "/a/b");
  CHECK(listing->kvs[0].value == "v1");
  CHECK(listing->kvs[1].key == "/a/c");
  CHECK(listing->kvs[1].value == "2");
}

TEST_CASE("v3 range answers may omit kvs and empty values") {
  const auto empty = v3ParseRange(withHeader(""));
  REQUIRE(empty);
  CHECK(empty->kvs.empty());
  CHECK(empty->revision == 7);

  const auto noValue = v3ParseRange(withHeader(R"("kvs":[{"key":"L2E="}])"));
  REQUIRE(noValue);
  CHECK(noValue->kvs.at(0).value.empty());
}

TEST_CASE("v3 range answers that make no sense are Malformed") {
  CHECK(v3ParseRange("not json").error().kind == ErrorKind::Malformed);
  CHECK(v3ParseRange("[]").error().kind == ErrorKind::Malformed);
  CHECK(v3ParseRange(withHeader(R"("kvs":[{"key":"%%%"}])")).error().kind == ErrorKind::Malformed);
  CHECK(v3ParseRange(R"({"header":{"revision":1.5}})").error().kind == ErrorKind::Malformed);
}

TEST_CASE("v3 range answers: unknown fields skipped whole, the last of a name counts") {
  // Nested unknown fields, even ones named like ours, change nothing.
  const auto nested = v3ParseRange(
      R"({"x":{"kvs":[{"key":"L3g="}],"header":{"revision":"9"}},"header":{"revision":"4",)"
      R"("y":[{"revision":"8"}]},"kvs":[{"key":"L2E=","z":{"key":"L3o="},"value":"MQ=="}]})");
  REQUIRE(nested);
  CHECK(nested->revision == 4);
  REQUIRE(nested->kvs.size() == 1);
  CHECK(nested->kvs[0].key == "/a");
  CHECK(nested->kvs[0].value == "1");
  // Names given twice: the last one counts, for the header, its revision, kvs and a pair.
  const auto twice =
      v3ParseRange(R"({"header":{"revision":"2"},"header":{"revision":"3","revision":5},)"
                   R"("kvs":[{"key":"L2I="}],"kvs":[{"key":"L2I=","key":"L2M="}]})");
  REQUIRE(twice);
  CHECK(twice->revision == 5);
  REQUIRE(twice->kvs.size() == 1);
  CHECK(twice->kvs[0].key == "/c");
  // A header that is no object, or without a revision, means revision 0.
  CHECK(v3ParseRange(R"({"header":[1,2]})")->revision == 0);
  CHECK(v3ParseRange(R"({"header":{"revision":"7"},"header":{}})")->revision == 0);
  // An element that is no object is an empty pair; a key or value of another type is empty.
  const auto odd = v3ParseRange(R"({"kvs":[7,[1],{"key":5,"value":null},{"key":"L2Q="}]})");
  REQUIRE(odd);
  REQUIRE(odd->kvs.size() == 4);
  CHECK(odd->kvs[0].key.empty());
  CHECK(odd->kvs[3].key == "/d");
}

TEST_CASE("v3 range answers: revisions as strings or integers that fit int64, nothing else") {
  CHECK(v3ParseRange(R"({"header":{"revision":12}})")->revision == 12);
  CHECK(v3ParseRange(R"({"header":{"revision":"9223372036854775807"}})")->revision ==
        9223372036854775807LL);
  for (const char* bad :
       {R"({"header":{"revision":9223372036854775808}})", R"({"header":{"revision":"12x"}})",
        R"({"header":{"revision":null}})", R"({"header":{"revision":true}})",
        R"({"header":{"revision":{}}})", R"({"kvs":{"key":"L2E="}})", R"({"kvs":"L2E="})", "", "7",
        R"({"kvs":[]} trailing)"}) {
    INFO(bad);
    CHECK(v3ParseRange(bad).error().kind == ErrorKind::Malformed);
  }
}

TEST_CASE("v3 key lease of a range answer") {
  const auto bound = v3ParseKeyLease(withHeader(
      R"("kvs":[{"key":"L2E=","value":"eA==","lease":"9223372036854775000"}],"count":"1")"));
  REQUIRE(bound);
  CHECK(*bound == std::optional<std::string>("9223372036854775000"));
  CHECK(VALUE_OF(v3ParseKeyLease(withHeader(R"("kvs":[{"key":"L2E="}])"))) ==
        std::optional<std::string>("0"));
  CHECK_FALSE(VALUE_OF(v3ParseKeyLease(withHeader(""))));
}

TEST_CASE("v3 lease IDs beyond 2^53 stay exact") {
  // 2^53 + 1 cannot be represented by a double.
  const auto grant = v3ParseLeaseGrant(withHeader(R"("ID":"9007199254740993","TTL":"2")"));
  REQUIRE(grant);
  CHECK(grant->id == "9007199254740993");
  CHECK(grant->ttlSeconds == 2);
  const auto number = v3ParseLeaseGrant(withHeader(R"("ID":9007199254740993,"TTL":5)"));
  REQUIRE(number);
  CHECK(number->id == "9007199254740993");
  CHECK(v3ParseLeaseGrant(withHeader(R"("ID":9.007199254740993e15,"TTL":5)")).error().kind ==
        ErrorKind::Malformed);
  CHECK(v3ParseLeaseGrant(withHeader(R"("TTL":"5")")).error().kind == ErrorKind::Malformed);
}

TEST_CASE("v3 keepalive without TTL means the lease is lost") {
  const auto alive = v3ParseKeepAlive(R"({"result":{)" + std::string(kHeader) +
                                      R"(,"ID":"7587868245061011521","TTL":"2"}})" + "\n");
  REQUIRE(alive);
  CHECK(*alive == 2);
  const auto lost =
      v3ParseKeepAlive(R"({"result":{)" + std::string(kHeader) + R"(,"ID":"12345"}})");
  REQUIRE_FALSE(lost);
  CHECK(lost.error().kind == ErrorKind::LeaseLost);
  const auto error = v3ParseKeepAlive(R"({"error":{"grpc_code":14,"message":"no leader"}})");
  REQUIRE_FALSE(error);
  CHECK(error.error().kind == ErrorKind::Etcd);
  CHECK(error.error().code == 14);
}

TEST_CASE("v3 txn: a failed compare has no succeeded field") {
  CHECK(VALUE_OF(v3ParseTxn(withHeader(R"("succeeded":true,"responses":[{"response_put":{}}])"))));
  CHECK_FALSE(VALUE_OF(v3ParseTxn(withHeader(""))));
  CHECK(v3ParseTxn(withHeader(R"("succeeded":"yes")")).error().kind == ErrorKind::Malformed);
}

TEST_CASE("v3 auth token") {
  CHECK(VALUE_OF(v3ParseAuthToken(withHeader(R"("token":"sjPFSHEToyuIvibJ.11")"))) ==
        "sjPFSHEToyuIvibJ.11");
  CHECK(v3ParseAuthToken(withHeader("")).error().kind == ErrorKind::Malformed);
  const json body = json::parse(v3AuthRequest("root", "p\"w"));
  CHECK(body == json{{"name", "root"}, {"password", "p\"w"}});
}

TEST_CASE("v3 watch: created message, then events with their highest revision") {
  const auto created =
      v3ParseWatchMessage(R"({"result":{)" + std::string(kHeader) + R"(,"created":true}})");
  REQUIRE(created);
  CHECK(created->created);
  CHECK(created->events == 0);
  CHECK(created->headerRevision == 7);

  const auto events = v3ParseWatchMessage(
      R"({"result":{)" + std::string(kHeader) +
      R"(,"events":[{"kv":{"key":"L2EvYg==","mod_revision":"5","value":"djE="}},)"
      R"({"type":"DELETE","kv":{"key":"L2EvYw==","mod_revision":"6"}}]}})");
  REQUIRE(events);
  CHECK(events->events == 2);
  CHECK(events->lastEventRevision == 6);
  CHECK(events->headerRevision == 7);
}

TEST_CASE("v3 watch: cancel for a compacted revision is Compacted") {
  const auto compacted = v3ParseWatchMessage(
      R"({"result":{"header":{"raft_term":"2"},"canceled":true,"compact_revision":"2"}})");
  REQUIRE_FALSE(compacted);
  CHECK(compacted.error().kind == ErrorKind::Compacted);
}

TEST_CASE("v3 watch: other cancels and errors are Etcd errors") {
  const auto token = v3ParseWatchMessage(
      R"({"result":{"header":{"revision":"1"},"watch_id":"-1","created":true,"canceled":true,)"
      R"("cancel_reason":"rpc error: code = Unauthenticated desc = etcdserver: invalid auth token"}})");
  REQUIRE_FALSE(token);
  CHECK(token.error().kind == ErrorKind::Etcd);
  CHECK(token.error().code == kGrpcUnauthenticated);

  const auto stream = v3ParseWatchMessage(
      R"({"error":{"grpc_code":14,"http_code":503,"message":"etcdserver: no leader"}})");
  REQUIRE_FALSE(stream);
  CHECK(stream.error().code == kGrpcUnavailable);

  const auto unary = v3ParseWatchMessage(R"({"code":3,"message":"bad request"})");
  REQUIRE_FALSE(unary);
  CHECK(unary.error().kind == ErrorKind::Etcd);
  CHECK(unary.error().code == 3);

  CHECK(v3ParseWatchMessage("{}").error().kind == ErrorKind::Malformed);
  CHECK(v3ParseWatchMessage("{\"result\":").error().kind == ErrorKind::Malformed);
}

TEST_CASE("LineSplitter reassembles lines across chunks") {
  LineSplitter lines;
  lines.append("{\"a\"");
  CHECK_FALSE(lines.next());
  lines.append(":1}\n{\"b\":2}\n{\"c\"");
  CHECK(lines.next() == std::optional<std::string>("{\"a\":1}"));
  CHECK(lines.next() == std::optional<std::string>("{\"b\":2}"));
  CHECK_FALSE(lines.next());
  CHECK(lines.rest() == "{\"c\"");
  CHECK(lines.rest().empty());
}

TEST_CASE("v2 form encoding and key paths") {
  CHECK(formEncode({{"value", "10.0.0.5:9300"}, {"ttl", "30"}}) == "value=10.0.0.5%3A9300&ttl=30");
  CHECK(formEncode({{"value", "a b&c=d+e/"}}) == "value=a%20b%26c%3Dd%2Be%2F");
  CHECK(formEncode({{"value", ""}}) == "value=");
  CHECK(v2KeyPath("/services/es/node 1") == "/v2/keys/services/es/node%201");
  CHECK(v2KeyPath("/a/[::1]:9300") == "/v2/keys/a/%5B%3A%3A1%5D%3A9300");
  CHECK(v2KeyPath("") == "/v2/keys/");
}

TEST_CASE("v2 error codes") {
  const auto missing =
      v2Error(404, R"({"errorCode":100,"message":"Key not found","cause":"/services","index":3})");
  REQUIRE(missing);
  CHECK(missing->kind == ErrorKind::Etcd);
  CHECK(missing->code == kV2KeyNotFound);
  CHECK(missing->message == "Key not found (/services)");

  const auto exists =
      v2Error(412, R"({"errorCode":105,"message":"Key already exists","cause":"/a","index":6})");
  REQUIRE(exists);
  CHECK(exists->code == kV2NodeExist);

  const auto cleared = v2Error(
      400, R"({"errorCode":401,"message":"The event in requested index is outdated and cleared",)"
           R"("cause":"the requested history has been cleared [1008/5]","index":2007})");
  REQUIRE(cleared);
  CHECK(cleared->kind == ErrorKind::Compacted);
  CHECK(cleared->code == kV2EventIndexCleared);

  CHECK_FALSE(v2Error(201, ""));
  const auto plain = v2Error(404, "404 page not found\n");
  REQUIRE(plain);
  CHECK(plain->kind == ErrorKind::Status);
  CHECK(plain->code == 404);
}

TEST_CASE("v2 listing flattens nested directories and skips directory nodes") {
  const auto listing = v2ParseListing(
      R"({"action":"get","node":{"key":"/services/es","dir":true,"nodes":[)"
      R"({"key":"/services/es/sub","dir":true,"nodes":[{"key":"/services/es/sub/b","value":"2",)"
      R"("modifiedIndex":5,"createdIndex":5},{"key":"/services/es/sub/empty","dir":true}]},)"
      R"({"key":"/services/es/a","value":"1","ttl":5,"modifiedIndex":4}],"modifiedIndex":4}})",
      9);
  REQUIRE(listing);
  CHECK(listing->revision == 9);
  REQUIRE(listing->kvs.size() == 2);
  CHECK(listing->kvs[0].key == "/services/es/a");
  CHECK(listing->kvs[0].value == "1");
  CHECK(listing->kvs[1].key == "/services/es/sub/b");
  CHECK(listing->kvs[1].value == "2");
}

TEST_CASE("v2 listing of an empty directory or of a plain key is empty") {
  const auto empty = v2ParseListing(R"({"action":"get","node":{"key":"/d","dir":true}})", 3);
  REQUIRE(empty);
  CHECK(empty->kvs.empty());
  const auto leaf = v2ParseListing(R"({"action":"get","node":{"key":"/d","value":"x"}})", 3);
  REQUIRE(leaf);
  CHECK(leaf->kvs.empty());
  CHECK(v2ParseListing(R"({"action":"get"})", 3).error().kind == ErrorKind::Malformed);
}

TEST_CASE("v2 get and watch event") {
  CHECK(VALUE_OF(v2ParseValue(
            R"({"action":"get","node":{"key":"/a","value":"x","modifiedIndex":4}})")) ==
        std::optional<std::string>("x"));
  CHECK_FALSE(VALUE_OF(v2ParseValue(R"({"action":"get","node":{"key":"/d","dir":true}})")));

  CHECK(VALUE_OF(v2ParseEventIndex(
            R"({"action":"expire","node":{"key":"/a","modifiedIndex":12,"createdIndex":4},)"
            R"("prevNode":{"key":"/a","value":"1","modifiedIndex":6}})")) == 12);
  CHECK(v2ParseEventIndex(R"({"action":"set","node":{"key":"/a"}})").error().kind ==
        ErrorKind::Malformed);
}

TEST_CASE("an error body with a code but no message still says something (found by fuzzing)") {
  auto v3 = codec::v3Error(400, R"({"code":9})");
  REQUIRE(v3);
  CHECK(v3->message == "etcd error code 9");
  auto v2 = codec::v2Error(412, R"({"errorCode":105,"index":4})");
  REQUIRE(v2);
  CHECK(v2->message == "etcd error code 105");
}

TEST_CASE("a v2 listing node without a key is skipped (found by fuzzing)") {
  auto listing = codec::v2ParseListing(
      R"({"action":"get","node":{"dir":true,"nodes":[{"value":"x"},{"key":"/a/b","value":"y"}]}})",
      3);
  REQUIRE(listing);
  REQUIRE(listing->kvs.size() == 1);
  CHECK(listing->kvs[0].key == "/a/b");
}

TEST_CASE("boolean fields of another type are false, never an exception (found by fuzzing)") {
  auto watch = codec::v3ParseWatchMessage(R"({"result":{"header":{"revision":"3"},"created":1}})");
  REQUIRE(watch);
  CHECK_FALSE(watch->created);
  auto listing = codec::v2ParseListing(
      R"({"action":"get","node":{"dir":true,"nodes":[{"key":"/a/b","dir":"yes","value":"v"}]}})",
      3);
  REQUIRE(listing);
  CHECK(listing->kvs.size() == 1);
  auto canceled = codec::v3ParseWatchMessage(R"({"result":{"canceled":"no","header":{}}})");
  (void)canceled;  // any answer, no exception
}

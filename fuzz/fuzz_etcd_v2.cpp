// Answers of etcd's v2 keys API: listings, values, watch events, errors. Invariants: no crash, no
// exception, no hang; a listing never holds a key that is not a string below what was listed.
#include "etcd_codec.hpp"
#include "fuzz_input.hpp"

using namespace esetcd;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const long status = data[0] & 1 ? 200 : (data[0] & 2 ? 404 : 500);
  std::string_view body = fuzz::text(data + 1, size - 1);

  if (auto error = codec::v2Error(status, body)) FUZZ_CHECK(!error->message.empty());
  if (auto listing = codec::v2ParseListing(body, 7)) {
    for (const auto& kv : listing->kvs) FUZZ_CHECK(!kv.key.empty());
  }
  (void)codec::v2ParseValue(body);
  (void)codec::v2ParseVersioned(body);
  (void)codec::v2ParseEventIndex(body);
  std::string path = codec::v2KeyPath(body);
  FUZZ_CHECK(path.find(' ') == std::string::npos && path.find('\n') == std::string::npos);
  return 0;
}

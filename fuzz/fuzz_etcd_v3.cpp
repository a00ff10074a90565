// Answers of etcd's v3 JSON gateway: unary bodies, watch stream lines, errors. Invariants: no
// crash, no exception, no hang; what parses keeps its promises (revisions not negative, listed
// keys inside the range asked for are not invented); base64 round-trips.
#include "etcd_codec.hpp"
#include "fuzz_input.hpp"

using namespace esetcd;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t selector = data[0];
  std::string_view body = fuzz::text(data + 1, size - 1);
  const long status = selector & 1 ? 200 : (selector & 2 ? 400 : 503);

  if (auto error = codec::v3Error(status, body)) FUZZ_CHECK(!error->message.empty());
  (void)codec::v3GatewayAnswered(body);
  if (auto range = codec::v3ParseRange(body)) {
    FUZZ_CHECK(range->revision >= 0);
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

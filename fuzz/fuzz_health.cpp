// The node's answer to the health probe (GET /_cluster/state/master_node?local=true), from an
// Elasticsearch or OpenSearch that may be starting, failing or not Elasticsearch at all.
// Invariants: no crash; healthy only on a 200 that names an elected master; a reason whenever
// not healthy; the reason is one printable line.
#include "fuzz_input.hpp"
#include "health.hpp"

using namespace esetcd;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  static const long kStatuses[] = {200, 200, 200, 401, 403, 404, 500, 503};
  static const HttpOutcome kOutcomes[] = {HttpOutcome::Ok, HttpOutcome::Ok, HttpOutcome::Transport,
                                          HttpOutcome::Timeout, HttpOutcome::Tls};
  HttpResponse response;
  response.status = kStatuses[data[0] % 8];
  response.outcome = kOutcomes[data[1] % 5];
  response.body = std::string(fuzz::text(data + 2, size - 2));
  NodeApi api;
  api.baseUrl = "https://127.0.0.1:9200";
  api.principal = "user \"elastic\"";

  HealthReport report = classifyHealth(response, api);
  if (report.healthy) {
    FUZZ_CHECK(response.outcome == HttpOutcome::Ok && response.status == 200);
    FUZZ_CHECK(!report.masterNode.empty());
  } else {
    FUZZ_CHECK(!report.reason.empty());
  }
  FUZZ_CHECK(report.reason.find('\n') == std::string::npos);
  (void)healthTransition(HealthKind::Unreachable, report);
  return 0;
}

#include "etcd.hpp"

#include <utility>

#include "etcd_codec.hpp"
#include "etcd_metered_store.hpp"
#include "etcd_v2.hpp"
#include "etcd_v3.hpp"
#include "log.hpp"

namespace esetcd {
namespace {

std::unique_ptr<Store> choose(const std::string& api, std::shared_ptr<EtcdTransport> transport) {
  if (api == "v3")
    return std::make_unique<MeteredStore>(std::make_unique<V3Store>(std::move(transport)));
  return std::make_unique<MeteredStore>(std::make_unique<V2Store>(std::move(transport)));
}

// One unauthenticated, serializable range request: the v3 gateway (etcd 3.4+) answers with a
// response header, or with a gRPC error such as "user name is empty" when auth is on; both prove it
// is there. A v2-only etcd (2.x, or 3.3 whose gateway lives under /v3beta) answers 404 in plain
// text.
Result<std::string> detect(EtcdTransport& transport) {
  EtcdRequest request;
  request.path = "/v3/kv/range";
  request.body = codec::v3ProbeRequest();
  request.contentType = "application/json";
  auto response = transport.plain(request);
  if (!response) return response.error();
  return std::string(codec::v3GatewayAnswered(response->body) ? "v3" : "v2");
}

}  // namespace

Result<std::unique_ptr<Store>> makeStore(const std::string& api, EtcdOptions options) {
  if (api != "auto" && api != "v3" && api != "v2") {
    return Error{ErrorKind::Malformed, "unknown etcd API '" + api + "' (auto, v3 or v2)", 0};
  }
  auto transport = std::make_shared<EtcdTransport>(std::move(options));
  if (api != "auto") return choose(api, std::move(transport));
  auto detected = detect(*transport);
  if (!detected) {
    Error error = detected.error();
    error.message = "etcd API detection: " + error.message;
    return error;
  }
  logInfo("etcd API detection at " + transport->currentEndpoint() + ": using " + *detected);
  return choose(*detected, std::move(transport));
}

}  // namespace esetcd

// makeStore builds the Store for the configured etcd API; "auto" asks the cluster once, with a
// single request, whether the v3 gateway answers, and falls back to the v2 keys API otherwise.
#pragma once

#include <memory>
#include <string>

#include "etcd_http.hpp"
#include "etcd_store.hpp"
#include "result.hpp"

namespace esetcd {

// `api` is "auto", "v3" or "v2"; the chosen one is the store's api(). Only "auto" talks to etcd
// here; its Error is the transport's (no endpoint answered, or Aborted), or Malformed for an
// unknown `api`.
Result<std::unique_ptr<Store>> makeStore(const std::string& api, EtcdOptions options);

}  // namespace esetcd

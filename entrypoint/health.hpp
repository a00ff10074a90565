// Health: whether the local node answers AND has joined a cluster (a master is known). GET / is
// not enough: from 7.0 on it answers 200 without a master. Classification is pure.
#pragma once

#include <atomic>
#include <chrono>
#include <optional>
#include <string>

#include "http.hpp"

namespace esetcd {

struct HealthReport {
  bool healthy = false;
  std::string reason;       // why not healthy, for logs
  std::string clusterName;  // as the node reports it
  std::string status;       // green / yellow / red
  int nodes = 0;            // number_of_nodes
};

// The probe path: both timeouts zero, so a node without a master answers at once (503) instead
// of waiting 30 s for one.
const char* healthPath();

HealthReport classifyHealth(const HttpResponse& response);

HealthReport probeHealth(const std::string& baseUrl, std::chrono::milliseconds timeout,
                         const std::atomic<bool>* abort);

// The cluster UUID the node has joined, from GET /_cluster/state/metadata (GET / is not served
// by every distribution); nullopt when absent or not yet committed ("_na_").
std::optional<std::string> parseClusterUuid(const std::string& body);
std::optional<std::string> fetchClusterUuid(const std::string& baseUrl,
                                            std::chrono::milliseconds timeout,
                                            const std::atomic<bool>* abort);

}  // namespace esetcd

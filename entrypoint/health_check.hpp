// The health subcommand (`es-etcd-entrypoint health`, the image's HEALTHCHECK): asks the running
// entrypoint's GET /status at STATUS_ADDR, resolved from the same settings by the listener's own
// rule (status_server.hpp), and prints one line. Exit 0 when the node is healthy and registered,
// 1 otherwise (nothing listening included). The verdict is a pure function of the answer.
#pragma once

#include <string>

#include "config.hpp"
#include "http.hpp"

namespace esetcd {

struct HealthVerdict {
  int code = 1;      // 0 healthy and registered, 1 anything else
  std::string line;  // what is printed
};

// From one answer of GET `url`.
HealthVerdict healthVerdict(const HttpResponse& response, const std::string& url);

// The URL of /status for these settings; empty with STATUS_ADDR=off or no publish host.
std::string statusUrl(const Config& c);

// Runs the subcommand; returns the exit code.
int healthCommand(const Config& c);

}  // namespace esetcd

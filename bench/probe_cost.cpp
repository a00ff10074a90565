// probe_cost: the CPU one health probe costs, over http and over https, and how often it opens a
// connection (on https: a TLS handshake). bench/run.sh runs it against standin_es serving each
// scheme and reports the ratio; the probe is the same function the monitor thread calls.
//
//   probe_cost URL COUNT [CA_FILE [AUTHORIZATION]]
// prints one line: <probes> <healthy> <cpu us per probe> <new connections>
#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "health.hpp"
#include "http.hpp"

namespace {

long threadCpuMicros() {
  rusage usage{};
  getrusage(RUSAGE_THREAD, &usage);
  return (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1000000L + usage.ru_utime.tv_usec +
         usage.ru_stime.tv_usec;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: probe_cost URL COUNT [CA_FILE [AUTHORIZATION]]\n");
    return 2;
  }
  esetcd::httpGlobalInit();
  esetcd::NodeApi api;
  api.baseUrl = argv[1];
  const int count = std::atoi(argv[2]);
  if (argc > 3) api.tls.caFile = argv[3];
  if (argc > 4) api.authorization = argv[4];
  // One probe first, as the monitor's first one: it pays for loading the CA and the first
  // handshake, which the steady state does not.
  esetcd::probeHealth(api, std::chrono::milliseconds(2000), nullptr);
  int healthy = 0;
  int connections = 0;
  const long before = threadCpuMicros();
  for (int i = 0; i < count; ++i) {
    auto report = esetcd::probeHealth(api, std::chrono::milliseconds(2000), nullptr);
    healthy += report.healthy ? 1 : 0;
    connections += report.newConnection ? 1 : 0;
  }
  const long spent = threadCpuMicros() - before;
  std::printf("%d %d %.1f %d\n", count, healthy, count > 0 ? double(spent) / count : 0.0,
              connections);
  return healthy == count ? 0 : 1;
}

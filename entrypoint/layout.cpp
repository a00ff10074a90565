#include "layout.hpp"

#include <sys/stat.h>
#include <unistd.h>

namespace esetcd {

HomeChoice detectHome(const PathTest& exists) {
  const std::vector<std::string> candidates = {kElasticsearchHome, kOpenSearchHome};
  const std::string& first = candidates.front();
  auto installed = [&](const std::string& home) -> std::string {
    for (const char* program : {"/bin/elasticsearch", "/bin/opensearch"})
      if (exists(home + program)) return home + program;
    return "";
  };
  auto whyNotFirst = [&] {
    return exists(first) ? first + " holds neither bin/elasticsearch nor bin/opensearch"
                         : first + " does not exist";
  };
  for (const auto& home : candidates) {
    std::string program = installed(home);
    if (program.empty()) continue;
    return {home, true, program + " exists" + (home == first ? "" : "; " + whyNotFirst())};
  }
  // A home without its bin/ scripts (a slimmed image, a test): still better than none.
  for (const auto& home : candidates) {
    if (exists(home))
      return {home, true, home + " exists, without bin/elasticsearch or bin/opensearch"};
  }
  return {first, false, "neither " + first + " nor " + candidates.back() + " exists"};
}

std::vector<std::string> imageStartCommand(const std::string& home, const PathTest& isExecutable) {
  // The script in the home first: it belongs to the installation that was chosen.
  std::string openSearchScript = home + "/" + kOpenSearchStartScript;
  if (isExecutable(openSearchScript)) return {openSearchScript, "opensearch"};
  if (isExecutable(kImageStartScript)) return {kImageStartScript, "eswrapper"};
  return {};
}

bool pathExists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

bool isExecutable(const std::string& path) {
  return ::access(path.c_str(), X_OK) == 0;
}

}  // namespace esetcd

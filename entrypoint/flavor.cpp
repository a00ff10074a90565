#include "flavor.hpp"

#include <cctype>
#include <tuple>

namespace esetcd {
namespace {

bool readNumber(const std::string& text, size_t& pos, int& out) {
  size_t start = pos;
  while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) ++pos;
  if (pos == start || pos - start > 6) return false;
  out = std::stoi(text.substr(start, pos - start));
  return true;
}

bool isOpenSearch(const Flavor& f) {
  return f.distribution == Distribution::OpenSearch;
}

}  // namespace

bool Version::operator<(const Version& o) const {
  return std::tie(major, minor, patch) < std::tie(o.major, o.minor, o.patch);
}

std::optional<Version> parseVersion(const std::string& text) {
  Version v;
  size_t pos = 0;
  if (!readNumber(text, pos, v.major) || pos >= text.size() || text[pos++] != '.') return {};
  if (!readNumber(text, pos, v.minor) || pos >= text.size() || text[pos++] != '.') return {};
  if (!readNumber(text, pos, v.patch)) return {};
  if (pos < text.size() && text[pos] != '-') return {};
  if (v.major < 1) return {};
  return v;
}

std::string toString(const Flavor& flavor) {
  const auto& v = flavor.version;
  return std::string(isOpenSearch(flavor) ? "opensearch " : "elasticsearch ") +
         std::to_string(v.major) + "." + std::to_string(v.minor) + "." + std::to_string(v.patch);
}

std::optional<Flavor> detectFlavor(const std::vector<std::string>& libFileNames,
                                   const std::string& wanted) {
  struct Candidate {
    const char* prefix;
    Distribution distribution;
  };
  const Candidate candidates[] = {{"elasticsearch-", Distribution::Elasticsearch},
                                  {"opensearch-", Distribution::OpenSearch}};
  for (const auto& name : libFileNames) {
    for (const auto& c : candidates) {
      std::string prefix = c.prefix;
      bool allowed = wanted == "auto" || wanted + "-" == prefix;
      if (!allowed || name.rfind(prefix, 0) != 0 || name.size() < prefix.size() + 4) continue;
      if (name.compare(name.size() - 4, 4, ".jar") != 0) continue;
      // elasticsearch-core-8.15.0.jar and friends are not the server jar: the version must
      // follow the prefix directly.
      auto version = parseVersion(name.substr(prefix.size(), name.size() - prefix.size() - 4));
      if (version) return Flavor{c.distribution, *version};
    }
  }
  return std::nullopt;
}

std::string settingArg(const Flavor& flavor, const std::string& key, const std::string& value) {
  if (!isOpenSearch(flavor) && flavor.version.major == 1) return "--" + key + "=" + value;
  if (!isOpenSearch(flavor) && flavor.version.major == 2) return "-Des." + key + "=" + value;
  return "-E" + key + "=" + value;
}

bool usesSeedFile(const Flavor& flavor) {
  return isOpenSearch(flavor) || flavor.version.atLeast(7);
}

std::string transportPortKey(const Flavor& flavor) {
  return isOpenSearch(flavor) || flavor.version.atLeast(6, 7) ? "transport.port"
                                                              : "transport.tcp.port";
}

std::string initialMastersKey(const Flavor& flavor) {
  if (isOpenSearch(flavor)) {
    return flavor.version.atLeast(2) ? "cluster.initial_cluster_manager_nodes"
                                     : "cluster.initial_master_nodes";
  }
  return flavor.version.atLeast(7) ? "cluster.initial_master_nodes" : "";
}

std::string startScript(const Flavor& flavor) {
  return isOpenSearch(flavor) ? "bin/opensearch" : "bin/elasticsearch";
}

}  // namespace esetcd

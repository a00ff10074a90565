// Layout: where the node's installation lives in the image and how the image starts it. The
// official Elasticsearch image keeps its home in /usr/share/elasticsearch and its start script in
// /usr/local/bin/docker-entrypoint.sh; the official OpenSearch image has no
// /usr/share/elasticsearch: its home is /usr/share/opensearch, with its start script
// opensearch-docker-entrypoint.sh in that directory. Pure: the file system is asked through the
// probe passed in, so every rule is unit-tested with literal trees.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace esetcd {

// Whether a path exists (detectHome) or is executable (imageStartCommand).
using PathTest = std::function<bool(const std::string& path)>;

inline constexpr const char* kElasticsearchHome = "/usr/share/elasticsearch";
inline constexpr const char* kOpenSearchHome = "/usr/share/opensearch";
// The official Elasticsearch image's start script: with no command it runs with "eswrapper".
inline constexpr const char* kImageStartScript = "/usr/local/bin/docker-entrypoint.sh";
// The official OpenSearch image's start script, in its home: with no command, "opensearch".
inline constexpr const char* kOpenSearchStartScript = "opensearch-docker-entrypoint.sh";

struct HomeChoice {
  std::string home;    // never empty: the Elasticsearch home when nothing was found
  bool found = false;  // false: neither home exists
  std::string reason;  // for the log: "/usr/share/elasticsearch does not exist; ..."
};

// The home when ES_HOME (or OPENSEARCH_HOME) is not set: of /usr/share/elasticsearch and
// /usr/share/opensearch, in that order, the first that holds bin/elasticsearch or bin/opensearch,
// else the first that exists, else /usr/share/elasticsearch with found = false.
HomeChoice detectHome(const PathTest& exists);

// The image's own start command for a start with no command: <home>/opensearch-docker-entrypoint.sh
// opensearch when the home holds that script (the official OpenSearch image), else
// /usr/local/bin/docker-entrypoint.sh eswrapper when that script exists (the official
// Elasticsearch image); empty when the image has neither (then the node's bin/ script is run).
std::vector<std::string> imageStartCommand(const std::string& home, const PathTest& isExecutable);

// Whether the file at `path` exists / may be executed: the probes for a real start.
bool pathExists(const std::string& path);
bool isExecutable(const std::string& path);

}  // namespace esetcd

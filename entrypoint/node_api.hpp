// NodeApi: how the entrypoint reaches the local node's HTTP API — the base URL, TLS and
// credentials of every request it makes to the node (today: the health probe). Secured by
// default on Elasticsearch 8+ and OpenSearch with its security plugin, so nothing here assumes
// plain HTTP. Every decision is a pure function of the configuration and of the node's own
// settings; reading those settings (elasticsearch.yml) is the caller's I/O.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config.hpp"
#include "flavor.hpp"
#include "http.hpp"

namespace esetcd {

struct NodeApi {
  std::string baseUrl;        // "https://127.0.0.1:9200", no trailing slash
  TlsOptions tls;             // caFile empty: the system bundle
  std::string authorization;  // "Basic ..." or "ApiKey ..."; a secret, never logged
  std::string principal;      // who the probe is, for logs: `user "elastic"`, `an API key`, ""
};

// The node's settings as Elasticsearch sees them, from the three places they can come from.
struct NodeSettingSources {
  std::vector<std::string> command;               // the child's argv: -Ename=value
  std::map<std::string, std::string> env;         // env forms, by dotted name
  std::map<std::string, std::string> configFile;  // elasticsearch.yml/opensearch.yml, flattened
};

// Flattens the block mappings of a YAML document into dotted keys:
//   "xpack.security.http.ssl:\n  enabled: true" -> {"xpack.security.http.ssl.enabled": "true"}
// Scalars (quotes removed, comments dropped) and sequences of scalars, flow ("[data, ingest]")
// or block ("- data" lines), which become comma-joined text as on the command line ("data,ingest";
// "[]" is ""). Other collections are skipped. Enough for the settings files of Elasticsearch and
// OpenSearch, which nest or dot freely.
std::map<std::string, std::string> flattenYaml(const std::string& text);

// A setting's value: a -E argument wins over the env form, which wins over the config file.
std::optional<std::string> nodeSetting(const NodeSettingSources& sources, const std::string& name);

// Whether the node serves HTTPS: Elasticsearch's xpack.security.http.ssl.enabled (with security
// not switched off), OpenSearch's plugins.security.ssl.http.enabled (with the plugin enabled).
bool nodeServesHttps(const NodeSettingSources& sources, Distribution distribution);

// Everything the probe needs. `defaultCaPresent`: $ES_PATH_CONF/certs/http_ca.crt exists (where
// the 8.x auto-configuration leaves the HTTP CA), used when ES_HEALTH_CA_FILE is not set.
// Credentials: ES_HEALTH_API_KEY, else ES_HEALTH_PASSWORD, else the image's own password
// (ELASTIC_PASSWORD as "elastic"; OpenSearch's initial admin password as "admin"). `httpPort`:
// the port the node listens on when it is not ES_HTTP_PORT (an -Ehttp.port of the command); 0:
// ES_HTTP_PORT.
NodeApi resolveNodeApi(const Config& c, Distribution distribution, bool https,
                       bool defaultCaPresent, int httpPort = 0);

// One line for the start-up log: URL, CA, verification and principal; no secret.
std::string describeNodeApi(const NodeApi& api);

// Performs a GET of `path` on the node with the API's TLS options and credentials.
HttpResponse nodeGet(const NodeApi& api, const std::string& path, std::chrono::milliseconds timeout,
                     const std::atomic<bool>* abort);

}  // namespace esetcd

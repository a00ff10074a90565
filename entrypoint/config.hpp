// Config: the one validated, immutable configuration, built in layers
//   built-in defaults < official image env (cluster.name, ES_SETTING_*) < our env < flags
// by a pure function, so every rule is unit-tested without a process or a network.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "http.hpp"
#include "layout.hpp"
#include "log.hpp"

namespace esetcd {

using Millis = std::chrono::milliseconds;
// std::less<>: looked up by the C strings of the settings table without a copy of each name.
using Env = std::map<std::string, std::string, std::less<>>;

enum class PassSettings { Auto, Always, Never };

// Whether the entrypoint discovers peers through etcd: auto decides by the command (command.hpp).
enum class DiscoveryMode { Auto, On, Off };

// STATUS_ADDR: "off", "host:port", "[v6]:port" or ":port" (the publish host, the default).
struct StatusAddr {
  bool enabled = true;
  std::string host;  // empty: the node's publish host
  int port = 9911;
};

struct Config {
  // etcd
  std::vector<std::string> etcdEndpoints;
  std::string etcdApi;      // auto | v3 | v2
  std::string prefix;       // registrations of healthy nodes, the seed's layout
  std::string statePrefix;  // everything else we keep in etcd
  int ttlSeconds = 0;
  Millis etcdTimeout{0};
  Millis etcdStartTimeout{0};
  std::string etcdUsername;
  std::string etcdPassword;  // never logged
  TlsOptions tls;

  // this node
  std::string nodeNameTemplate;  // may hold {hostname} and {ip}
  std::string publishHost;       // empty: detected at start
  int httpPort = 0;
  int transportPort = 0;
  int transportPublishPort = 0;
  std::string clusterName;   // empty: leave Elasticsearch's default
  std::string distribution;  // auto | elasticsearch | opensearch
  std::string version;       // empty: detected from ES_HOME/lib
  std::string esHome;        // set, or detected from the image (layout.hpp)
  std::string esHomeFrom;    // ES_HOME, OPENSEARCH_HOME or --es-home; empty: detected
  std::string layoutReason;  // for the log: why this home
  std::string esPathConf;
  std::string esPathData;  // Elasticsearch's data directory: empty means a brand-new node
  std::string stateDir;    // where the last peer list is cached
  int bootstrapExpect = 0;
  Millis bootstrapStaleAfter{0};  // an orphaned bootstrap decision is replaced after this
  // discovery.type=single-node in the image's env: no discovery, no bootstrap (Elasticsearch
  // refuses cluster.initial_master_nodes then).
  bool singleNode = false;

  // the local node's HTTP API, probed for health (node_api.hpp resolves them at start)
  std::string healthUrl;  // base URL; empty: 127.0.0.1, https when the node enables HTTP TLS
  TlsOptions healthTls;   // caFile empty: $ES_PATH_CONF/certs/http_ca.crt when present
  std::string healthUsername;
  std::string healthPassword;  // secret, as are the three below
  std::string healthApiKey;
  std::string elasticPassword;          // the official Elasticsearch image's ELASTIC_PASSWORD
  std::string opensearchAdminPassword;  // the official OpenSearch image's initial admin password
  // Node settings given in the image's env forms (cluster.name=x, ES_SETTING_...), by their
  // dotted names: they tell, for one, whether the node serves HTTPS.
  std::map<std::string, std::string> envNodeSettings;

  // supervision
  Millis healthInterval{0};
  Millis healthTimeout{0};
  int healthFailures = 0;
  Millis stopGrace{0};
  Millis stopDeregisterTimeout{0};
  PassSettings passSettings = PassSettings::Auto;
  DiscoveryMode discovery = DiscoveryMode::Auto;
  LogLevel logLevel = LogLevel::Info;
  LogFormat logFormat = LogFormat::Plain;
  StatusAddr statusAddr;

  // Every setting's value as given or defaulted, by variable name, secrets left out: for /status
  // and --plan.
  std::vector<std::pair<std::string, std::string>> shownSettings;

  std::vector<std::string> command;  // empty: the image's Elasticsearch start command
  // Variables removed from the child's environment when the entrypoint assembles the node's
  // settings: official-image forms whose values we took over (cluster.name=...,
  // ES_SETTING_NODE_NAME=...), so that no setting is given twice.
  std::vector<std::string> absorbedEnv;
  // Variables removed from the child's environment always: our own secrets (ETCD_PASSWORD,
  // ES_HEALTH_PASSWORD, ES_HEALTH_API_KEY and their _FILE forms), which no command needs.
  std::vector<std::string> secretEnv;

  bool showHelp = false;
  bool showVersion = false;
  bool showPlan = false;  // --plan: print what a start would do, change nothing
};

struct ConfigOutcome {
  Config config;
  std::vector<std::string> errors;  // each names the setting and the value
};

// Parses argv (without argv[0]) and the environment. Never exits, never does I/O except reading
// the *_FILE secret files named in the environment and, when neither ES_HOME nor OPENSEARCH_HOME
// is set, asking whether the image's homes exist (layout.hpp); both are injected for tests.
using FileReader = std::string (*)(const std::string& path, bool& ok);
ConfigOutcome parseConfig(const std::vector<std::string>& args, const Env& env, FileReader readFile,
                          const PathTest& exists);

// The --help text: usage, every setting with its env name, flag and default, and exit codes.
std::string helpText();

// Parses "500ms", "5s", "2m" or a plain number of seconds.
bool parseDuration(const std::string& text, Millis& out);

// Decodes the official image's ES_SETTING_ names: ES_SETTING_A_B__C -> a.b_c.
std::string decodeEsSettingName(const std::string& envName);

Env currentEnvironment();

}  // namespace esetcd

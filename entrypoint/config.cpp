#include "config.hpp"

#include <Poco/Exception.h>
#include <Poco/URI.h>
#include <Poco/Util/HelpFormatter.h>
#include <Poco/Util/Option.h>
#include <Poco/Util/OptionProcessor.h>
#include <Poco/Util/OptionSet.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <initializer_list>
#include <optional>
#include <sstream>
#include <string_view>

#include "exit_codes.hpp"
#include "flavor.hpp"
#include "host.hpp"
#include "text.hpp"

extern char** environ;

namespace esetcd {
namespace {

using Errors = std::vector<std::string>;

// One row of the settings table: the env name is the source of truth; the flag is derived
// (ETCD_TTL -> --etcd-ttl) so the two can never drift apart.
struct Setting {
  const char* env;
  const char* defaultValue;  // applied when neither env nor flag gives one; "" = derived later
  const char* shownDefault;  // for --help when it differs from defaultValue
  const char* help;
  // Parses `value` into the config; returns an error text ("must be ...") or "". A plain
  // function: the table is constant data, built by the compiler rather than at every start.
  std::string (*apply)(Config&, const std::string&);
};

std::string flagFor(const std::string& env) {
  std::string flag = env;
  std::transform(flag.begin(), flag.end(), flag.begin(), [](unsigned char c) {
    return c == '_' ? '-' : static_cast<char>(std::tolower(c));
  });
  return flag;
}

bool parseInt(const std::string& text, long min, long max, int& out) {
  if (text.empty() || text.size() > 10) return false;
  if (!std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); }))
    return false;
  long v = std::stol(text);
  if (v < min || v > max) return false;
  out = static_cast<int>(v);
  return true;
}

// "a, b,c" -> {"a", "b", "c"}; a trailing comma adds no empty item, as std::getline's split did.
std::vector<std::string> splitList(const std::string& text) {
  std::vector<std::string> out;
  for (size_t start = 0; start < text.size();) {
    size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    std::string item = text.substr(start, end - start);
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    out.push_back(item);
    start = end + 1;
  }
  return out;
}

std::string checkEndpoint(const std::string& url) {
  try {
    Poco::URI uri(url);
    if (uri.getScheme() != "http" && uri.getScheme() != "https")
      return "scheme must be http or https";
    if (uri.getHost().empty()) return "has no host";
    if (!uri.getPath().empty() && uri.getPath() != "/") return "must not have a path";
  } catch (const Poco::Exception& e) {
    return printableText(e.displayText());
  }
  return "";
}

std::string applyDuration(Millis& out, const std::string& v, Millis min, const char* what) {
  if (!parseDuration(v, out)) return "must be a duration such as 500ms, 5s or 2m";
  if (out < min) return std::string("must be at least ") + what;
  return "";
}

std::string applyPort(int& out, const std::string& v) {
  return parseInt(v, 1, 65535, out) ? "" : "must be a port number from 1 to 65535";
}

std::string applyOneOf(std::string& out, const std::string& v, std::vector<std::string> allowed) {
  if (std::find(allowed.begin(), allowed.end(), v) == allowed.end()) {
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
    return "must be one of " + list;
  }
  out = v;
  return "";
}

// The choice named `v` into `out`; else "must be one of ..." in the order given.
template <typename Choice>
std::string applyChoice(Choice& out, const std::string& v,
                        std::initializer_list<std::pair<const char*, Choice>> choices) {
  std::string list;
  for (const auto& [name, choice] : choices) {
    if (v == name) {
      out = choice;
      return "";
    }
    list += (list.empty() ? "" : ", ") + std::string(name);
  }
  return "must be one of " + list;
}

std::string applyKeyPrefix(std::string& out, const std::string& v) {
  if (v.empty() || v[0] != '/') return "must start with /";
  if (v.size() > 1 && v.back() == '/') return "must not end with /";
  if (v.find_first_of(" \t\n") != std::string::npos) return "must not contain white space";
  out = v;
  return "";
}

std::string applyNodeName(Config& c, const std::string& v) {
  if (v.empty()) return "must not be empty";
  for (size_t open = v.find('{'); open != std::string::npos; open = v.find('{', open + 1)) {
    size_t close = v.find('}', open);
    if (close == std::string::npos) return "has an unclosed {";
    std::string field = v.substr(open + 1, close - open - 1);
    if (field != "hostname" && field != "ip")
      return "knows only {hostname} and {ip}, not {" + field + "}";
  }
  c.nodeNameTemplate = v;
  return "";
}

std::string applyPath(std::string& out, const std::string& v) {
  if (!v.empty() && v[0] != '/') return "must be an absolute path";
  out = v;
  return "";
}

// Text that ends up in a header or a log line: printable, one line.
std::string applyText(std::string& out, const std::string& v) {
  for (unsigned char ch : v)
    if (ch < 0x20 || ch == 0x7f) return "must not contain control characters";
  out = v;
  return "";
}

std::string applyHost(std::string& out, const std::string& v) {
  auto host = validHost(v);
  if (!host) return "must be one IP address or DNS name: the value " + host.error().message;
  out = *host;
  return "";
}

// A word that ends up in a setting and a registration: no blanks, no separators.
std::string applyWord(std::string& out, const std::string& v) {
  if (v.find_first_of(" \t\n/,") != std::string::npos) return "must be one word";
  out = v;
  return "";
}

std::string applyStatusAddr(StatusAddr& out, const std::string& text) {
  const std::string shape = "must be off, host:port, [IPv6]:port or :port";
  if (text == "off") {
    out.enabled = false;
    return "";
  }
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos) return shape;
  std::string host = text.substr(0, colon);
  const std::string port = text.substr(colon + 1);
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos)
    return shape + ": the port must be a number from 1 to 65535";
  const long number = std::stol(port);
  if (number < 1 || number > 65535) return shape + ": the port must be from 1 to 65535";
  const bool bracketed = host.size() >= 2 && host.front() == '[' && host.back() == ']';
  if (!bracketed && host.find(':') != std::string::npos)
    return shape + ": write an IPv6 address in brackets";
  if (!host.empty()) {
    auto valid = validHost(host);
    if (!valid) return shape + ": the host " + valid.error().message;
    host = *valid;
  }
  out = {true, host, static_cast<int>(number)};
  return "";
}

const Setting kSettings[] = {
    {"ETCD_ENDPOINTS", "http://127.0.0.1:2379", nullptr,
     "Comma-separated etcd client URLs; tried in turn on transport errors.",
     [](Config& c, const std::string& v) -> std::string {
       c.etcdEndpoints.clear();
       for (const auto& url : splitList(v)) {
         std::string why = checkEndpoint(url);
         if (!why.empty()) return "'" + printableText(url) + "' " + why;
         c.etcdEndpoints.push_back(url);
       }
       return c.etcdEndpoints.empty() ? "must name at least one URL" : "";
     }},
    {"ETCD_API", "auto", nullptr,
     "etcd API: auto (v3 when its JSON gateway answers, else v2; exit 2 when v3 holds no "
     "registration but v2 does: set v2 to join that fleet), v3 or v2.",
     [](Config& c, const std::string& v) {
       return applyOneOf(c.etcdApi, v, {"auto", "v3", "v2"});
     }},
    {"ETCD_PREFIX", "/services/elasticsearch", nullptr,
     "Directory of the registrations of healthy nodes (key = publish host).",
     [](Config& c, const std::string& v) { return applyKeyPrefix(c.prefix, v); }},
    {"ETCD_STATE_PREFIX", "", "/es-etcd-entrypoint<ETCD_PREFIX>",
     "Directory for everything else kept in etcd (announcements, bootstrap state).",
     [](Config& c, const std::string& v) {
       return v.empty() ? "" : applyKeyPrefix(c.statePrefix, v);
     }},
    {"ETCD_TTL", "20", nullptr, "Seconds a registration lives without a refresh (>= 2).",
     [](Config& c, const std::string& v) -> std::string {
       return parseInt(v, 2, 86400, c.ttlSeconds)
                  ? ""
                  : "must be a whole number of seconds from 2 to 86400";
     }},
    {"ETCD_TIMEOUT", "2s", nullptr, "Deadline of one etcd request.",
     [](Config& c, const std::string& v) {
       return applyDuration(c.etcdTimeout, v, Millis(100), "100ms");
     }},
    {"ETCD_START_TIMEOUT", "30s", nullptr,
     "How long to retry etcd at start before using the cached peer list (0 = try once).",
     [](Config& c, const std::string& v) {
       return applyDuration(c.etcdStartTimeout, v, Millis(0), "0s");
     }},
    {"ETCD_USERNAME", "", nullptr, "etcd user for v3 authentication.",
     [](Config& c, const std::string& v) {
       c.etcdUsername = v;
       return std::string();
     }},
    {"ETCD_PASSWORD", "", nullptr, "etcd password (or ETCD_PASSWORD_FILE); never logged.",
     [](Config& c, const std::string& v) {
       c.etcdPassword = v;
       return std::string();
     }},
    {"ETCD_CA_FILE", "", "probed", "CA bundle for https endpoints; default: the system bundle.",
     [](Config& c, const std::string& v) {
       c.tls.caFile = v;
       return std::string();
     }},
    {"ETCD_CERT_FILE", "", nullptr, "Client certificate for etcd mTLS.",
     [](Config& c, const std::string& v) {
       c.tls.certFile = v;
       return std::string();
     }},
    {"ETCD_KEY_FILE", "", nullptr, "Client key for etcd mTLS.",
     [](Config& c, const std::string& v) {
       c.tls.keyFile = v;
       return std::string();
     }},
    {"ES_NODE_NAME", "{hostname}", nullptr, "Node name; {hostname} and {ip} are replaced.",
     applyNodeName},
    {"ES_PUBLISH_HOST", "", "detected", "Address peers reach this node at (network.publish_host).",
     [](Config& c, const std::string& v) { return applyHost(c.publishHost, v); }},
    {"ES_HTTP_PORT", "9200", nullptr, "HTTP port of the node (http.port); probed for health.",
     [](Config& c, const std::string& v) { return applyPort(c.httpPort, v); }},
    {"ES_TRANSPORT_PORT", "9300", nullptr, "Transport port the node listens on.",
     [](Config& c, const std::string& v) { return applyPort(c.transportPort, v); }},
    {"ES_TRANSPORT_PUBLISH_PORT", "", "ES_TRANSPORT_PORT",
     "Transport port peers use, when a port mapping differs (transport.publish_port).",
     [](Config& c, const std::string& v) {
       return v.empty() ? "" : applyPort(c.transportPublishPort, v);
     }},
    {"ES_CLUSTER_NAME", "", nullptr,
     "cluster.name; also read from the image's cluster.name variable.",
     [](Config& c, const std::string& v) { return applyWord(c.clusterName, v); }},
    {"ES_DISTRIBUTION", "auto", nullptr, "auto, elasticsearch or opensearch.",
     [](Config& c, const std::string& v) {
       return applyOneOf(c.distribution, v, {"auto", "elasticsearch", "opensearch"});
     }},
    {"ES_VERSION", "", "detected", "Version, e.g. 8.15.0; detected from ES_HOME/lib.",
     [](Config& c, const std::string& v) {
       if (!v.empty() && !parseVersion(v)) return std::string("must look like 8.15.0");
       c.version = v;
       return std::string();
     }},
    {"ES_HOME", "", "detected",
     "Installation directory (OPENSEARCH_HOME is read too); default: /usr/share/elasticsearch "
     "or, in an image without it, /usr/share/opensearch.",
     [](Config& c, const std::string& v) {
       if (v.empty() || v[0] != '/') return std::string("must be an absolute path");
       c.esHome = v;
       return std::string();
     }},
    {"ES_PATH_CONF", "", "<ES_HOME>/config",
     "Config directory (OPENSEARCH_PATH_CONF is read too); unicast_hosts.txt is written here.",
     [](Config& c, const std::string& v) {
       c.esPathConf = v;
       return std::string();
     }},
    {"ES_PATH_DATA", "", "<ES_HOME>/data",
     "Elasticsearch's data directory; empty means a brand-new node (first bootstrap).",
     [](Config& c, const std::string& v) {
       c.esPathData = v;
       return std::string();
     }},
    {"STATE_DIR", "", "<ES_PATH_DATA>", "Where the last peer list is cached for etcd outages.",
     [](Config& c, const std::string& v) {
       c.stateDir = v;
       return std::string();
     }},
    {"ES_HEALTH_URL", "", "http(s)://127.0.0.1:<ES_HTTP_PORT>",
     "Base URL of the local node for health probes; https by default when the node's settings "
     "enable HTTP TLS.",
     [](Config& c, const std::string& v) -> std::string {
       if (v.empty()) return "";
       std::string why = checkEndpoint(v);
       if (!why.empty()) return why;
       c.healthUrl = v;
       return "";
     }},
    {"ES_HEALTH_CA_FILE", "", "<ES_PATH_CONF>/certs/http_ca.crt if present, else system",
     "CA bundle that signed the node's HTTP certificate.",
     [](Config& c, const std::string& v) { return applyPath(c.healthTls.caFile, v); }},
    {"ES_HEALTH_CERT_FILE", "", nullptr, "Client certificate for the node's HTTP API (mTLS).",
     [](Config& c, const std::string& v) { return applyPath(c.healthTls.certFile, v); }},
    {"ES_HEALTH_KEY_FILE", "", nullptr, "Key of ES_HEALTH_CERT_FILE.",
     [](Config& c, const std::string& v) { return applyPath(c.healthTls.keyFile, v); }},
    {"ES_HEALTH_TLS_VERIFY", "full", nullptr,
     "How the node's certificate is checked: full (CA and host name), certificate (CA only), "
     "none.",
     [](Config& c, const std::string& v) {
       return applyChoice(c.healthTls.verify, v,
                          {{"full", TlsVerify::Full},
                           {"certificate", TlsVerify::Certificate},
                           {"none", TlsVerify::None}});
     }},
    {"ES_HEALTH_USERNAME", "", "elastic (admin on OpenSearch) with their image's password",
     "User the health probe authenticates as.",
     [](Config& c, const std::string& v) { return applyText(c.healthUsername, v); }},
    {"ES_HEALTH_PASSWORD", "", "ELASTIC_PASSWORD(_FILE)",
     "Password of ES_HEALTH_USERNAME (or ES_HEALTH_PASSWORD_FILE); never logged.",
     [](Config& c, const std::string& v) {
       c.healthPassword = v;
       return std::string();
     }},
    {"ES_HEALTH_API_KEY", "", nullptr,
     "API key for the probe instead of a password, as Elasticsearch encodes it (or "
     "ES_HEALTH_API_KEY_FILE); never logged.",
     [](Config& c, const std::string& v) {
       c.healthApiKey = v;
       return std::string();
     }},
    {"ES_BOOTSTRAP_EXPECT", "3", nullptr,
     "Master-eligible nodes of a brand-new cluster (1 for a single-node dev cluster).",
     [](Config& c, const std::string& v) -> std::string {
       return parseInt(v, 1, 99, c.bootstrapExpect) ? "" : "must be a whole number from 1 to 99";
     }},
    {"ES_BOOTSTRAP_STALE_AFTER", "", "60s or 3 x ETCD_TTL, the longer",
     "A first-bootstrap decision none of whose members has been announced or registered for "
     "this long, with no cluster formed, is replaced (at least 2 x ETCD_TTL).",
     [](Config& c, const std::string& v) {
       return v.empty() ? "" : applyDuration(c.bootstrapStaleAfter, v, Millis(1000), "1s");
     }},
    {"HEALTH_INTERVAL", "5s", nullptr, "Time between health probes (and registration refreshes).",
     [](Config& c, const std::string& v) {
       return applyDuration(c.healthInterval, v, Millis(100), "100ms");
     }},
    {"HEALTH_TIMEOUT", "2s", nullptr, "Deadline of one health probe.",
     [](Config& c, const std::string& v) {
       return applyDuration(c.healthTimeout, v, Millis(50), "50ms");
     }},
    {"HEALTH_FAILURES", "3", nullptr,
     "Consecutive failed probes before the registration is deleted.",
     [](Config& c, const std::string& v) -> std::string {
       return parseInt(v, 1, 1000, c.healthFailures) ? "" : "must be a whole number from 1 to 1000";
     }},
    {"STOP_GRACE", "20s", nullptr,
     "How long Elasticsearch may take to stop after SIGTERM before SIGKILL; keep it below the "
     "stop timeout of docker/systemd.",
     [](Config& c, const std::string& v) {
       return applyDuration(c.stopGrace, v, Millis(0), "0s");
     }},
    {"STOP_DEREGISTER_TIMEOUT", "1s", nullptr,
     "On SIGTERM/SIGINT, how long deleting the registration may hold the signal back before it "
     "goes to Elasticsearch, whether or not etcd answered (0 = forward at once; the "
     "registration then expires within ETCD_TTL).",
     [](Config& c, const std::string& v) {
       return applyDuration(c.stopDeregisterTimeout, v, Millis(0), "0s");
     }},
    {"ES_PASS_SETTINGS", "auto", nullptr,
     "Append the -E settings to the command: auto (only for Elasticsearch start scripts), "
     "always, never.",
     [](Config& c, const std::string& v) {
       return applyChoice(c.passSettings, v,
                          {{"auto", PassSettings::Auto},
                           {"always", PassSettings::Always},
                           {"never", PassSettings::Never}});
     }},
    {"DISCOVERY", "auto", nullptr,
     "auto (discover through etcd when the command starts Elasticsearch, else only "
     "supervise it), on (always), off (never contact etcd).",
     [](Config& c, const std::string& v) {
       return applyChoice(
           c.discovery, v,
           {{"auto", DiscoveryMode::Auto}, {"on", DiscoveryMode::On}, {"off", DiscoveryMode::Off}});
     }},
    {"LOG_LEVEL", "info", nullptr, "error, warn, info or debug.",
     [](Config& c, const std::string& v) -> std::string {
       auto level = parseLogLevel(v);
       if (!level) return "must be error, warn, info or debug";
       c.logLevel = *level;
       return "";
     }},
    {"STATUS_ADDR", ":9911", "<publish host>:9911",
     "Where GET /status and GET /metrics are served: host:port, [IPv6]:port, :port (the "
     "publish host) or off. The health subcommand asks it.",
     [](Config& c, const std::string& v) { return applyStatusAddr(c.statusAddr, v); }},
    {"LOG_FORMAT", "plain", nullptr,
     "plain (one line of text per event) or json (one JSON object per line, with the ECS "
     "field names of Elasticsearch's own logs).",
     [](Config& c, const std::string& v) -> std::string {
       auto format = parseLogFormat(v);
       if (!format) return "must be plain or json";
       c.logFormat = *format;
       return "";
     }},
};

Poco::Util::OptionSet optionSet() {
  Poco::Util::OptionSet options;
  options.addOption(Poco::Util::Option("help", "h", "Print this help and exit."));
  options.addOption(Poco::Util::Option("version", "V", "Print the version and exit."));
  options.addOption(Poco::Util::Option(
      "plan", "", "Print what a start would do (reading etcd, writing nothing) and exit."));
  for (const auto& s : kSettings) {
    std::string help = std::string(s.help) + " [env " + s.env;
    std::string shown = s.shownDefault ? s.shownDefault : s.defaultValue;
    if (!shown.empty()) help += ", default " + shown;
    help += "]";
    options.addOption(Poco::Util::Option(flagFor(s.env), "", help)
                          .argument("VALUE")
                          .required(false)
                          .repeatable(false));
  }
  return options;
}

constexpr size_t kSettingCount = sizeof(kSettings) / sizeof(kSettings[0]);

// The index of the setting named `env` in kSettings, or kSettingCount for a name not in it.
size_t settingIndex(std::string_view env) {
  for (size_t i = 0; i < kSettingCount; ++i)
    if (env == kSettings[i].env) return i;
  return kSettingCount;
}

// The value each setting takes, by its index in kSettings, layered as the values are read:
// nothing (no default and none given), the default, or the value given; and who gave it (empty:
// the default or an official image's setting; else our variable, the OpenSearch image's name for
// it, or the flag).
struct Layers {
  std::optional<std::string> value[kSettingCount];
  std::string givenBy[kSettingCount];

  Layers() {
    for (size_t i = 0; i < kSettingCount; ++i)
      if (*kSettings[i].defaultValue) value[i] = kSettings[i].defaultValue;
  }
  void set(std::string_view env, const std::string& v, std::string by = {}) {
    const size_t i = settingIndex(env);
    if (i == kSettingCount) return;  // names come from the tables here: not reached
    value[i] = v;
    if (!by.empty()) givenBy[i] = std::move(by);
  }
};

// Values in the official image's own form that mean one of our settings: the image's start script
// would pass them as -E too, so we take them over and drop them from the child's environment.
const std::pair<const char*, const char*> kOfficialAliases[] = {
    {"cluster.name", "ES_CLUSTER_NAME"},
    {"node.name", "ES_NODE_NAME"},
    {"network.publish_host", "ES_PUBLISH_HOST"},
    {"http.port", "ES_HTTP_PORT"},
    {"transport.port", "ES_TRANSPORT_PORT"},
    {"transport.publish_port", "ES_TRANSPORT_PUBLISH_PORT"},
};

// The official OpenSearch image's names for the home and the config directory (its start
// script and tools read them): read as ours, which win when both are set.
const std::pair<const char*, const char*> kOpenSearchAliases[] = {
    {"OPENSEARCH_HOME", "ES_HOME"},
    {"OPENSEARCH_PATH_CONF", "ES_PATH_CONF"},
};

// Layers the official image's forms of our settings and records the variables absorbed.
void layerOfficialEnv(const Env& env, Layers& chosen, std::vector<std::string>& absorbed) {
  for (const auto& [name, value] : env) {
    const bool encoded = name.rfind("ES_SETTING_", 0) == 0;
    const std::string decoded = encoded ? decodeEsSettingName(name) : std::string();
    const std::string_view setting = encoded ? decoded : name;
    for (const auto& [official, ours] : kOfficialAliases) {
      if (setting != official) continue;
      chosen.set(ours, value);
      absorbed.push_back(name);
    }
  }
}

std::string describe(const std::string& env, const std::string& value) {
  return env + " (--" + flagFor(env) + ") = \"" + printableText(value) + "\"";
}

// Our secrets: each may come from a file named by <NAME>_FILE instead, as the official images
// allow for theirs. Neither form reaches the child: Elasticsearch has no use for them.
const char* const kSecretSettings[] = {"ETCD_PASSWORD", "ES_HEALTH_PASSWORD", "ES_HEALTH_API_KEY"};

bool isSecret(std::string_view env) {
  for (const char* name : kSecretSettings)
    if (env == name) return true;
  return false;
}

std::string chomp(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

// NAME or NAME_FILE from the environment; both at once is an error, as in the official images.
std::optional<std::string> secretFromEnv(const Env& env, const std::string& name,
                                         FileReader readFile, Errors& errors) {
  auto plain = env.find(name);
  auto file = env.find(name + "_FILE");
  if (file == env.end()) {
    if (plain == env.end()) return std::nullopt;
    return plain->second;
  }
  if (plain != env.end()) {
    errors.push_back(name + "_FILE = \"" + file->second + "\": " + name + " is set too; set one");
    return std::nullopt;
  }
  bool ok = false;
  std::string secret = chomp(readFile(file->second, ok));
  if (!ok) {
    errors.push_back(name + "_FILE = \"" + file->second + "\": cannot be read");
    return std::nullopt;
  }
  return secret;
}

// The official images' own variables that matter to the probe, and the settings they give the
// node in env form. Never copied into our errors: they are secrets.
void readImageEnv(const Env& env, FileReader readFile, Config& c, Errors& errors) {
  if (auto pw = secretFromEnv(env, "ELASTIC_PASSWORD", readFile, errors)) c.elasticPassword = *pw;
  if (auto it = env.find("OPENSEARCH_INITIAL_ADMIN_PASSWORD"); it != env.end())
    c.opensearchAdminPassword = it->second;
  for (const auto& [name, value] : env) {
    if (name.rfind("ES_SETTING_", 0) == 0)
      c.envNodeSettings[decodeEsSettingName(name)] = value;
    else if (name.find('.') != std::string::npos && name == lowerCase(name))
      c.envNodeSettings[name] = value;
  }
  // The official OpenSearch image's switch for its security plugin.
  if (auto it = env.find("DISABLE_SECURITY_PLUGIN"); it != env.end() && it->second == "true")
    c.envNodeSettings["plugins.security.disabled"] = "true";
  if (auto it = env.find("ENROLLMENT_TOKEN"); it != env.end() && !it->second.empty()) {
    errors.push_back(
        "ENROLLMENT_TOKEN is set: enrollment tokens are not used here; nodes find each other "
        "through etcd and trust each other through certificates you mount (docs/security.md, "
        "scripts/certs.sh)");
  }
}

void addDerivedDefaults(Config& c) {
  if (c.statePrefix.empty()) c.statePrefix = "/es-etcd-entrypoint" + c.prefix;
  if (c.transportPublishPort == 0) c.transportPublishPort = c.transportPort;
  if (c.esPathConf.empty()) c.esPathConf = c.esHome + "/config";
  if (c.esPathData.empty()) c.esPathData = c.esHome + "/data";
  if (c.stateDir.empty()) c.stateDir = c.esPathData;
  if (c.bootstrapStaleAfter == Millis(0))
    c.bootstrapStaleAfter = std::max(Millis(60000), Millis(3000L * c.ttlSeconds));
  while (c.healthUrl.size() > 1 && c.healthUrl.back() == '/') c.healthUrl.pop_back();
}

// Rules between settings, checked once every single value is known to be valid.
void crossCheck(const Config& c, Errors& errors) {
  // A healthy node refreshes after every probe; the refresh must land before the TTL runs out
  // even when one probe and one etcd request both take their whole deadline.
  auto ttl = std::chrono::seconds(c.ttlSeconds);
  if (c.healthInterval + 2 * c.healthTimeout >= ttl) {
    errors.push_back(describe("ETCD_TTL", std::to_string(c.ttlSeconds)) +
                     ": must exceed HEALTH_INTERVAL + 2 x HEALTH_TIMEOUT (" +
                     std::to_string((c.healthInterval + 2 * c.healthTimeout).count()) + " ms)");
  }
  // docker stop's default is 10 s: the signal must reach Elasticsearch well before that.
  if (c.stopDeregisterTimeout > std::chrono::seconds(5)) {
    errors.push_back(
        describe("STOP_DEREGISTER_TIMEOUT",
                 std::to_string(c.stopDeregisterTimeout.count()) + "ms") +
        ": must be at most 5s (the signal waits for it, and docker stop waits only 10s)");
  }
  if (c.etcdTimeout >= ttl) {
    errors.push_back(describe("ETCD_TIMEOUT", std::to_string(c.etcdTimeout.count()) + "ms") +
                     ": must be shorter than ETCD_TTL");
  }
  // An announcement outlives its node by up to one TTL, and a live member that lost etcd for a
  // moment must not look gone.
  if (c.bootstrapStaleAfter < 2 * ttl) {
    errors.push_back(
        describe("ES_BOOTSTRAP_STALE_AFTER", std::to_string(c.bootstrapStaleAfter.count()) + "ms") +
        ": must be at least 2 x ETCD_TTL");
  }
  if (c.tls.certFile.empty() != c.tls.keyFile.empty()) {
    errors.push_back(describe("ETCD_CERT_FILE", c.tls.certFile) +
                     ": ETCD_CERT_FILE and ETCD_KEY_FILE go together");
  }
  if (c.healthTls.certFile.empty() != c.healthTls.keyFile.empty()) {
    errors.push_back(describe("ES_HEALTH_CERT_FILE", c.healthTls.certFile) +
                     ": ES_HEALTH_CERT_FILE and ES_HEALTH_KEY_FILE go together");
  }
  if (!c.healthApiKey.empty() && !c.healthPassword.empty()) {
    errors.push_back(describe("ES_HEALTH_API_KEY", "***") +
                     ": ES_HEALTH_PASSWORD is set too; the probe uses one or the other");
  }
}

// Splits argv into flag values and the command; records Poco's parse errors. The option table
// (some 60 options with their help) is built only when an argument may be an option: the usual
// starts ("-- CMD", "-Ekey=value", no argument at all) skip it, and start their command sooner.
void parseArgs(const std::vector<std::string>& args, std::map<std::string, std::string>& flags,
               Config& c, Errors& errors) {
  std::optional<Poco::Util::OptionSet> options;
  std::optional<Poco::Util::OptionProcessor> processor;
  std::string pending;  // a flag whose value is the next argument ("--etcd-ttl 30")
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--" && pending.empty()) {
      c.command.assign(args.begin() + static_cast<long>(i) + 1, args.end());
      return;
    }
    // An Elasticsearch setting (docker run IMAGE -Ecluster.name=x): none of our options is -E,
    // so the command starts here and follows the image's start command.
    if (args[i].rfind("-E", 0) == 0 && pending.empty()) {
      c.command.assign(args.begin() + static_cast<long>(i), args.end());
      return;
    }
    if (!processor) {
      options.emplace(optionSet());
      processor.emplace(*options);
      processor->setUnixStyle(true);
    }
    std::string name, value;
    try {
      if (!processor->process(args[i], name, value)) {
        c.command.assign(args.begin() + static_cast<long>(i), args.end());
        return;
      }
    } catch (const Poco::Exception& e) {
      // Poco's message repeats the argument: both may hold any bytes.
      errors.push_back("argument \"" + printableText(args[i]) +
                       "\": " + printableText(e.displayText()));
      continue;
    }
    pending = name.empty() ? args[i] : "";
    if (name == "help")
      c.showHelp = true;
    else if (name == "version")
      c.showVersion = true;
    else if (name == "plan")
      c.showPlan = true;
    else if (!name.empty())
      flags[name] = value;
  }
  if (!pending.empty())
    errors.push_back("argument \"" + printableText(pending) + "\": missing value");
}

}  // namespace

bool parseDuration(const std::string& text, Millis& out) {
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  if (digits == 0 || digits > 9) return false;
  long n = std::stol(text.substr(0, digits));
  std::string unit = text.substr(digits);
  if (unit == "ms")
    out = Millis(n);
  else if (unit == "s" || unit.empty())
    out = Millis(n * 1000);
  else if (unit == "m")
    out = Millis(n * 60000);
  else
    return false;
  return true;
}

std::string decodeEsSettingName(const std::string& envName) {
  std::string rest = envName.substr(std::string("ES_SETTING_").size());
  std::string out;
  for (size_t i = 0; i < rest.size(); ++i) {
    if (rest[i] == '_' && i + 1 < rest.size() && rest[i + 1] == '_') {
      out += '_';
      ++i;
    } else if (rest[i] == '_') {
      out += '.';
    } else {
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(rest[i])));
    }
  }
  return out;
}

ConfigOutcome parseConfig(const std::vector<std::string>& args, const Env& env, FileReader readFile,
                          const PathTest& exists) {
  ConfigOutcome out;
  Config& c = out.config;
  std::map<std::string, std::string> flags;
  parseArgs(args, flags, c, out.errors);

  Layers chosen;
  layerOfficialEnv(env, chosen, c.absorbedEnv);
  for (const char* name : {"discovery.type", "ES_SETTING_DISCOVERY_TYPE"}) {
    auto it = env.find(name);
    if (it != env.end() && it->second == "single-node") c.singleNode = true;
  }
  readImageEnv(env, readFile, c, out.errors);
  for (const char* name : kSecretSettings) {
    if (auto secret = secretFromEnv(env, name, readFile, out.errors)) chosen.set(name, *secret);
    for (const auto& form : {std::string(name), std::string(name) + "_FILE"})
      if (env.count(form)) c.secretEnv.push_back(form);
  }
  for (const auto& [theirs, ours] : kOpenSearchAliases) {
    if (auto it = env.find(theirs); it != env.end()) chosen.set(ours, it->second, theirs);
  }
  for (size_t i = 0; i < kSettingCount; ++i) {
    const char* name = kSettings[i].env;
    // A secret's env form was taken above, with its _FILE twin.
    if (auto it = env.find(name); it != env.end() && !isSecret(name)) {
      chosen.value[i] = it->second;
      chosen.givenBy[i] = name;
    }
    if (flags.empty()) continue;
    if (auto it = flags.find(flagFor(name)); it != flags.end()) {
      chosen.value[i] = it->second;
      chosen.givenBy[i] = "--" + flagFor(name);
    }
  }
  for (size_t i = 0; i < kSettingCount; ++i) {
    const Setting& s = kSettings[i];
    if (!chosen.value[i]) continue;
    const std::string& value = *chosen.value[i];
    // Values end up in JSON (registrations, etcd requests), headers, logs and command lines.
    std::string why = textProblem(value);
    if (why.empty()) why = s.apply(c, value);
    if (why.empty()) continue;
    // Never echo a secret back, even in an error.
    std::string shown = isSecret(s.env) ? "***" : value;
    const std::string& by = chosen.givenBy[i];
    if (!by.empty() && by != s.env && by[0] != '-')
      out.errors.push_back(by + " (read as " + s.env + ") = \"" + printableText(shown) +
                           "\": " + why);
    else
      out.errors.push_back(describe(s.env, shown) + ": " + why);
  }
  if (c.esHome.empty()) {
    HomeChoice home = detectHome(exists);
    c.esHome = home.home;
    c.layoutReason = home.reason;
  } else {
    c.esHomeFrom = chosen.givenBy[settingIndex("ES_HOME")];
    c.layoutReason = "set by " + c.esHomeFrom;
  }
  addDerivedDefaults(c);
  // Derived defaults are shown as derived, not as the empty text that asked for them.
  const std::pair<const char*, std::string> derived[] = {
      {"ETCD_STATE_PREFIX", c.statePrefix},
      {"ES_PATH_CONF", c.esPathConf},
      {"ES_PATH_DATA", c.esPathData},
      {"STATE_DIR", c.stateDir},
      {"ES_TRANSPORT_PUBLISH_PORT", std::to_string(c.transportPublishPort)},
      {"ES_BOOTSTRAP_STALE_AFTER", std::to_string(c.bootstrapStaleAfter.count()) + "ms"}};
  c.shownSettings.reserve(kSettingCount);
  for (size_t i = 0; i < kSettingCount; ++i) {
    const char* name = kSettings[i].env;
    if (isSecret(name)) continue;
    std::string value = chosen.value[i].value_or("");
    if (value.empty())
      for (const auto& [derivedName, derivedValue] : derived)
        if (std::strcmp(derivedName, name) == 0) value = derivedValue;
    c.shownSettings.emplace_back(name, withoutUserinfo(value));
  }
  if (out.errors.empty()) crossCheck(c, out.errors);
  return out;
}

std::string helpText() {
  Poco::Util::OptionSet options = optionSet();
  std::ostringstream text;
  Poco::Util::HelpFormatter formatter(options);
  formatter.setUnixStyle(true);
  formatter.setWidth(100);
  formatter.setIndent(4);
  formatter.setCommand("es-etcd-entrypoint");
  formatter.setUsage("[options] [--] [command [args...]] | reset-bootstrap | health | --plan");
  formatter.setHeader(
      "Container entrypoint (PID 1) that discovers Elasticsearch peers through etcd, starts and "
      "supervises Elasticsearch, and registers the node in etcd while it is healthy. Every "
      "option can also be set by its environment variable; flags win over the environment. "
      "Durations take ms, s or m. Without a command, the image's Elasticsearch start command "
      "is run; options alone (-Ekey=value) are given to it. Any other command (bash, "
      "elasticsearch-keystore) is only supervised, unless DISCOVERY=on. The command "
      "reset-bootstrap deletes a first-bootstrap decision no node can carry out; the command "
      "health asks the running entrypoint at STATUS_ADDR and exits 0 when its node is healthy "
      "and registered, 1 otherwise.");
  // Built from exit_codes.hpp so that the help cannot drift from the codes the program uses.
  using namespace exit_code;
  formatter.setFooter(
      "Exit status: the command's own exit code, or " + std::to_string(kSignalBase) +
      "+N when it died of signal N; " + std::to_string(kUsage) +
      " bad usage or setting (nothing started); " + std::to_string(kNodeNameTaken) +
      " node name taken by another live node; " + std::to_string(kRefused) +
      " reset-bootstrap refused; " + std::to_string(kEtcdAuth) +
      " etcd refused the credentials or their permissions (nothing started); " +
      std::to_string(kSystem) + " system failure before start; " + std::to_string(kNotExecutable) +
      " command not executable; " + std::to_string(kNotFound) + " command not found.");
  formatter.format(text);
  return text.str();
}

Env currentEnvironment() {
  Env env;
  for (char** e = environ; e && *e; ++e) {
    const char* eq = std::strchr(*e, '=');
    if (eq != nullptr)
      env.insert_or_assign(std::string(*e, static_cast<size_t>(eq - *e)), std::string(eq + 1));
  }
  return env;
}

}  // namespace esetcd

#include <catch2/catch.hpp>

#include <algorithm>

#include "config.hpp"
#include "text.hpp"

using namespace esetcd;

namespace {

std::string noFile(const std::string&, bool& ok) {
  ok = false;
  return "";
}

// The official Elasticsearch image's layout: its home exists, nothing of OpenSearch's does.
bool elasticsearchImage(const std::string& path) {
  return path.rfind("/usr/share/elasticsearch", 0) == 0;
}

std::string secretFile(const std::string& path, bool& ok) {
  ok = path == "/run/secrets/etcd";
  return ok ? "s3cret\n" : "";
}

ConfigOutcome parse(std::vector<std::string> args, Env env = {}) {
  return parseConfig(args, env, noFile, elasticsearchImage);
}

bool mentions(const std::vector<std::string>& errors, const std::string& a, const std::string& b) {
  for (const auto& e : errors)
    if (e.find(a) != std::string::npos && e.find(b) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("defaults describe the seed's layout and sane timings") {
  auto out = parse({});
  REQUIRE(out.errors.empty());
  const Config& c = out.config;
  CHECK(c.etcdEndpoints == std::vector<std::string>{"http://127.0.0.1:2379"});
  CHECK(c.etcdApi == "auto");
  CHECK(c.prefix == "/services/elasticsearch");
  CHECK(c.statePrefix == "/es-etcd-entrypoint/services/elasticsearch");
  CHECK(c.ttlSeconds == 20);
  CHECK(c.httpPort == 9200);
  CHECK(c.transportPort == 9300);
  CHECK(c.transportPublishPort == 9300);
  CHECK(c.nodeNameTemplate == "{hostname}");
  CHECK(c.esHome == "/usr/share/elasticsearch");
  CHECK(c.esPathConf == "/usr/share/elasticsearch/config");
  CHECK(c.stateDir == "/usr/share/elasticsearch/data");
  CHECK(c.healthUrl.empty());  // derived at start: node_api.hpp
  CHECK(c.healthTls.verify == TlsVerify::Full);
  CHECK(c.healthInterval == Millis(5000));
  CHECK(c.healthTimeout == Millis(2000));
  CHECK(c.healthFailures == 3);
  CHECK(c.stopGrace == Millis(20000));
  CHECK(c.bootstrapExpect == 3);
  CHECK(c.logLevel == LogLevel::Info);
  CHECK(c.command.empty());
}

TEST_CASE("the home and config directory follow the image's layout unless set") {
  auto openSearchImage = [](const std::string& path) {
    return path.rfind("/usr/share/opensearch", 0) == 0;
  };
  auto noInstallation = [](const std::string&) { return false; };
  struct Case {
    const char* what;
    Env env;
    std::vector<std::string> args;
    PathTest exists;
    std::string home, conf, data, from;
  };
  const std::string es = "/usr/share/elasticsearch", os = "/usr/share/opensearch";
  const std::vector<Case> cases = {
      {"Elasticsearch image", {}, {}, elasticsearchImage, es, es + "/config", es + "/data", ""},
      {"OpenSearch image", {}, {}, openSearchImage, os, os + "/config", os + "/data", ""},
      {"no installation: the Elasticsearch default",
       {},
       {},
       noInstallation,
       es,
       es + "/config",
       es + "/data",
       ""},
      {"ES_HOME wins over the layout",
       {{"ES_HOME", "/opt/es"}},
       {},
       openSearchImage,
       "/opt/es",
       "/opt/es/config",
       "/opt/es/data",
       "ES_HOME"},
      {"OPENSEARCH_HOME is read as ES_HOME",
       {{"OPENSEARCH_HOME", "/opt/os"}},
       {},
       elasticsearchImage,
       "/opt/os",
       "/opt/os/config",
       "/opt/os/data",
       "OPENSEARCH_HOME"},
      {"ES_HOME wins over OPENSEARCH_HOME",
       {{"OPENSEARCH_HOME", "/opt/os"}, {"ES_HOME", "/opt/es"}},
       {},
       openSearchImage,
       "/opt/es",
       "/opt/es/config",
       "/opt/es/data",
       "ES_HOME"},
      {"--es-home wins over both",
       {{"OPENSEARCH_HOME", "/opt/os"}, {"ES_HOME", "/opt/es"}},
       {"--es-home=/srv/node"},
       openSearchImage,
       "/srv/node",
       "/srv/node/config",
       "/srv/node/data",
       "--es-home"},
      {"OPENSEARCH_PATH_CONF is read as ES_PATH_CONF",
       {{"OPENSEARCH_PATH_CONF", "/etc/os"}},
       {},
       openSearchImage,
       os,
       "/etc/os",
       os + "/data",
       ""},
      {"ES_PATH_CONF wins over OPENSEARCH_PATH_CONF",
       {{"OPENSEARCH_PATH_CONF", "/etc/os"}, {"ES_PATH_CONF", "/etc/es"}},
       {},
       openSearchImage,
       os,
       "/etc/es",
       os + "/data",
       ""},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    auto out = parseConfig(c.args, c.env, noFile, c.exists);
    REQUIRE(out.errors.empty());
    CHECK(out.config.esHome == c.home);
    CHECK(out.config.esPathConf == c.conf);
    CHECK(out.config.esPathData == c.data);
    CHECK(out.config.esHomeFrom == c.from);
    CHECK_FALSE(out.config.layoutReason.empty());
  }
  // A bad value given under the OpenSearch name is reported under that name.
  auto bad = parseConfig({}, {{"OPENSEARCH_HOME", "relative/dir"}}, noFile, openSearchImage);
  CHECK(mentions(bad.errors, "OPENSEARCH_HOME (read as ES_HOME) = \"relative/dir\"", "absolute"));
}

TEST_CASE("flags win over the environment, which wins over defaults") {
  Env env = {{"ETCD_TTL", "40"}, {"ES_HTTP_PORT", "9201"}, {"ETCD_PREFIX", "/x/es"}};
  auto out = parse({"--etcd-ttl=60", "--es-transport-port", "9301"}, env);
  REQUIRE(out.errors.empty());
  CHECK(out.config.ttlSeconds == 60);
  CHECK(out.config.httpPort == 9201);
  CHECK(out.config.transportPort == 9301);
  CHECK(out.config.transportPublishPort == 9301);
  CHECK(out.config.prefix == "/x/es");
  CHECK(out.config.statePrefix == "/es-etcd-entrypoint/x/es");
}

TEST_CASE("the command starts at the first non-option or after --") {
  auto plain = parse({"--log-level=debug", "bin/elasticsearch", "-Ecluster.name=x"});
  REQUIRE(plain.errors.empty());
  CHECK(plain.config.command == std::vector<std::string>{"bin/elasticsearch", "-Ecluster.name=x"});
  auto dashed = parse({"--", "--not-ours", "a"});
  REQUIRE(dashed.errors.empty());
  CHECK(dashed.config.command == std::vector<std::string>{"--not-ours", "a"});
  auto deferred = parse({"--etcd-ttl", "30", "cmd"});
  REQUIRE(deferred.errors.empty());
  CHECK(deferred.config.ttlSeconds == 30);
  CHECK(deferred.config.command == std::vector<std::string>{"cmd"});
  // docker run IMAGE -Ecluster.name=x: an Elasticsearch setting starts the command.
  auto setting = parse({"--log-level=debug", "-Ecluster.name=x", "-Enode.name=y"});
  REQUIRE(setting.errors.empty());
  CHECK(setting.config.command == std::vector<std::string>{"-Ecluster.name=x", "-Enode.name=y"});
  // Its twin: an unknown option of ours is still an error, not a command.
  CHECK(mentions(parse({"--etcd-tll=3"}).errors, "--etcd-tll=3", ""));
}

TEST_CASE("ES_PASS_SETTINGS takes auto, always or never, and names them when it is neither") {
  CHECK(parse({}).config.passSettings == PassSettings::Auto);
  CHECK(parse({}, {{"ES_PASS_SETTINGS", "always"}}).config.passSettings == PassSettings::Always);
  CHECK(parse({"--es-pass-settings=never"}).config.passSettings == PassSettings::Never);
  CHECK(mentions(parse({}, {{"ES_PASS_SETTINGS", "Always"}}).errors,
                 "ES_PASS_SETTINGS (--es-pass-settings) = \"Always\"",
                 "must be one of auto, always, never"));
}

TEST_CASE("DISCOVERY takes auto, on or off, from the environment or the flag") {
  CHECK(parse({}).config.discovery == DiscoveryMode::Auto);
  CHECK(parse({}, {{"DISCOVERY", "on"}}).config.discovery == DiscoveryMode::On);
  CHECK(parse({"--discovery=off"}, {{"DISCOVERY", "on"}}).config.discovery == DiscoveryMode::Off);
  CHECK(mentions(parse({}, {{"DISCOVERY", "yes"}}).errors, "DISCOVERY (--discovery) = \"yes\"",
                 "auto, on, off"));
}

TEST_CASE("every bad value is reported at once, naming the setting and the value") {
  Env env = {{"ETCD_ENDPOINTS", "ftp://x:1"}, {"ES_HTTP_PORT", "70000"}, {"ETCD_API", "v4"}};
  auto out = parse({"--etcd-ttl=abc", "--health-interval=5 s", "--log-level=loud"}, env);
  CHECK(out.errors.size() == 6);
  CHECK(mentions(out.errors, "ETCD_ENDPOINTS (--etcd-endpoints)", "ftp://x:1"));
  CHECK(mentions(out.errors, "ES_HTTP_PORT", "\"70000\""));
  CHECK(mentions(out.errors, "ETCD_API", "\"v4\""));
  CHECK(mentions(out.errors, "ETCD_TTL", "\"abc\""));
  CHECK(mentions(out.errors, "HEALTH_INTERVAL", "\"5 s\""));
  CHECK(mentions(out.errors, "LOG_LEVEL", "\"loud\""));
}

TEST_CASE("unknown and repeated options are errors") {
  CHECK(mentions(parse({"--no-such-thing=1"}).errors, "--no-such-thing", "Unknown"));
  CHECK_FALSE(parse({"--etcd-ttl=30", "--etcd-ttl=40"}).errors.empty());
  CHECK_FALSE(parse({"--etcd-ttl"}).errors.empty());
}

TEST_CASE("TTL must outlast one interval plus two timeouts") {
  auto bad = parse({"--etcd-ttl=8", "--health-interval=5s", "--health-timeout=2s"});
  REQUIRE(bad.errors.size() == 1);
  CHECK(mentions(bad.errors, "ETCD_TTL", "HEALTH_INTERVAL + 2 x HEALTH_TIMEOUT"));
  CHECK(parse({"--etcd-ttl=10", "--health-interval=5s", "--health-timeout=2s"}).errors.empty());
  CHECK_FALSE(parse({"--etcd-ttl=1"}).errors.empty());
}

TEST_CASE("endpoint lists, URLs and key prefixes are checked") {
  auto many = parse({"--etcd-endpoints=http://a:2379, https://b:2379"});
  REQUIRE(many.errors.empty());
  CHECK(many.config.etcdEndpoints == std::vector<std::string>{"http://a:2379", "https://b:2379"});
  // A trailing comma adds nothing; an empty item between two is an error, not skipped.
  CHECK(parse({"--etcd-endpoints=http://a:2379,"}).config.etcdEndpoints ==
        std::vector<std::string>{"http://a:2379"});
  CHECK(mentions(parse({"--etcd-endpoints=http://a:2379,,http://b:2379"}).errors, "ETCD_ENDPOINTS",
                 "scheme"));
  CHECK(mentions(parse({"--etcd-endpoints=http://a:2379/v2"}).errors, "ETCD_ENDPOINTS", "path"));
  CHECK(mentions(parse({"--etcd-endpoints="}).errors, "ETCD_ENDPOINTS", "at least one"));
  CHECK(mentions(parse({"--etcd-prefix=services"}).errors, "ETCD_PREFIX", "start with /"));
  CHECK(mentions(parse({"--etcd-prefix=/services/"}).errors, "ETCD_PREFIX", "end with /"));
}

TEST_CASE("node name templates know {hostname} and {ip} only") {
  CHECK(parse({"--es-node-name=es-{hostname}-{ip}"}).errors.empty());
  CHECK(mentions(parse({"--es-node-name=es-{pod}"}).errors, "ES_NODE_NAME", "{pod}"));
  CHECK(mentions(parse({"--es-node-name=es-{ip"}).errors, "ES_NODE_NAME", "unclosed"));
}

TEST_CASE("durations take ms, s, m or plain seconds") {
  Millis d{0};
  CHECK((parseDuration("500ms", d) && d == Millis(500)));
  CHECK((parseDuration("5s", d) && d == Millis(5000)));
  CHECK((parseDuration("2m", d) && d == Millis(120000)));
  CHECK((parseDuration("7", d) && d == Millis(7000)));
  CHECK_FALSE(parseDuration("", d));
  CHECK_FALSE(parseDuration("-1s", d));
  CHECK_FALSE(parseDuration("1h", d));
  CHECK_FALSE(parseDuration("1.5s", d));
}

TEST_CASE("the official image's env settings are taken over and dropped from the child") {
  Env env = {{"cluster.name", "logs"}, {"ES_SETTING_NODE_NAME", "n1"}, {"ES_JAVA_OPTS", "-Xmx1g"}};
  auto out = parse({}, env);
  REQUIRE(out.errors.empty());
  CHECK(out.config.clusterName == "logs");
  CHECK(out.config.nodeNameTemplate == "n1");
  CHECK(out.config.absorbedEnv.size() == 2);
  // Our own variable wins over the image's form.
  env["ES_CLUSTER_NAME"] = "ours";
  CHECK(parse({}, env).config.clusterName == "ours");
}

TEST_CASE("ES_VERSION is checked with the other settings") {
  auto out = parse({"--es-version=nonsense", "--etcd-ttl=1"});
  CHECK(out.errors.size() == 2);
  CHECK(mentions(out.errors, "ES_VERSION (--es-version)", "\"nonsense\""));
  CHECK(parse({"--es-version=7.17.29"}).errors.empty());
}

TEST_CASE("discovery.type=single-node in the image's env turns the bootstrap off") {
  CHECK_FALSE(parse({}).config.singleNode);
  CHECK(parse({}, {{"discovery.type", "single-node"}}).config.singleNode);
  CHECK(parse({}, {{"ES_SETTING_DISCOVERY_TYPE", "single-node"}}).config.singleNode);
  CHECK_FALSE(parse({}, {{"discovery.type", "multi-node"}}).config.singleNode);
}

TEST_CASE("ES_SETTING_ names decode like the official image") {
  CHECK(decodeEsSettingName("ES_SETTING_CLUSTER_NAME") == "cluster.name");
  CHECK(decodeEsSettingName("ES_SETTING_BOOTSTRAP_MEMORY__LOCK") == "bootstrap.memory_lock");
}

TEST_CASE("the password file is read, and a secret never appears in an error") {
  auto out = parseConfig({}, {{"ETCD_PASSWORD_FILE", "/run/secrets/etcd"}}, secretFile,
                         elasticsearchImage);
  REQUIRE(out.errors.empty());
  CHECK(out.config.etcdPassword == "s3cret");
  auto missing = parseConfig({}, {{"ETCD_PASSWORD_FILE", "/nope"}}, secretFile, elasticsearchImage);
  CHECK(mentions(missing.errors, "ETCD_PASSWORD_FILE", "/nope"));
}

TEST_CASE("help lists every setting with its env name, flag and default") {
  std::string help = helpText();
  for (const char* s : {"ETCD_ENDPOINTS", "--etcd-endpoints", "ETCD_TTL", "ES_NODE_NAME",
                        "ES_PUBLISH_HOST", "HEALTH_INTERVAL", "STOP_GRACE", "LOG_LEVEL",
                        "default http://127.0.0.1:2379", "127 command not found"}) {
    INFO(s);
    CHECK(help.find(s) != std::string::npos);
  }
}

TEST_CASE("the help and version flags are recognised (--help, --version)") {
  CHECK(parse({"--help"}).config.showHelp);
  CHECK(parse({"--version"}).config.showVersion);
}

namespace {

std::string secrets(const std::string& path, bool& ok) {
  ok = path.rfind("/run/secrets/", 0) == 0;
  if (path == "/run/secrets/health") return "pw-from-file\n";
  if (path == "/run/secrets/key") return "a2V5OnNlY3JldA==";
  if (path == "/run/secrets/elastic") return "elastic-pw\r\n";
  return "";
}

bool anyMentions(const std::vector<std::string>& errors, const std::string& text) {
  for (const auto& e : errors)
    if (e.find(text) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("the probe's secrets come from the env or from _FILE, never both") {
  auto out = parseConfig(
      {}, {{"ES_HEALTH_PASSWORD_FILE", "/run/secrets/health"}, {"ES_HEALTH_USERNAME", "probe"}},
      secrets, elasticsearchImage);
  REQUIRE(out.errors.empty());
  CHECK(out.config.healthPassword == "pw-from-file");
  CHECK(out.config.healthUsername == "probe");
  auto key = parseConfig({}, {{"ES_HEALTH_API_KEY_FILE", "/run/secrets/key"}}, secrets,
                         elasticsearchImage);
  REQUIRE(key.errors.empty());
  CHECK(key.config.healthApiKey == "a2V5OnNlY3JldA==");
  auto both = parseConfig(
      {},
      {{"ES_HEALTH_PASSWORD", "inline-secret"}, {"ES_HEALTH_PASSWORD_FILE", "/run/secrets/health"}},
      secrets, elasticsearchImage);
  CHECK(mentions(both.errors, "ES_HEALTH_PASSWORD_FILE", "set one"));
  CHECK_FALSE(anyMentions(both.errors, "inline-secret"));
  auto unreadable =
      parseConfig({}, {{"ES_HEALTH_API_KEY_FILE", "/nope"}}, secrets, elasticsearchImage);
  CHECK(mentions(unreadable.errors, "ES_HEALTH_API_KEY_FILE", "cannot be read"));
}

TEST_CASE("the image's ELASTIC_PASSWORD is read for the probe and stays in the child's env") {
  auto out = parseConfig({}, {{"ELASTIC_PASSWORD_FILE", "/run/secrets/elastic"}}, secrets,
                         elasticsearchImage);
  REQUIRE(out.errors.empty());
  CHECK(out.config.elasticPassword == "elastic-pw");
  auto plain = parse({}, {{"ELASTIC_PASSWORD", "x"}, {"OPENSEARCH_INITIAL_ADMIN_PASSWORD", "y"}});
  CHECK(plain.config.elasticPassword == "x");
  CHECK(plain.config.opensearchAdminPassword == "y");
  CHECK(plain.config.absorbedEnv.empty());
  auto both = parseConfig(
      {}, {{"ELASTIC_PASSWORD", "x"}, {"ELASTIC_PASSWORD_FILE", "/run/secrets/elastic"}}, secrets,
      elasticsearchImage);
  CHECK(mentions(both.errors, "ELASTIC_PASSWORD_FILE", "set one"));
}

TEST_CASE("our secrets are dropped from the child's environment, in both forms") {
  auto out = parseConfig({},
                         {{"ETCD_PASSWORD", "a"},
                          {"ES_HEALTH_PASSWORD_FILE", "/run/secrets/health"},
                          {"ELASTIC_PASSWORD", "stays"},
                          {"ETCD_USERNAME", "root"}},
                         secrets, elasticsearchImage);
  REQUIRE(out.errors.empty());
  CHECK(out.config.absorbedEnv.empty());  // kept for a command that is only supervised
  const auto& dropped = out.config.secretEnv;
  auto has = [&](const char* name) {
    return std::find(dropped.begin(), dropped.end(), name) != dropped.end();
  };
  CHECK(has("ETCD_PASSWORD"));
  CHECK(has("ES_HEALTH_PASSWORD_FILE"));
  CHECK_FALSE(has("ELASTIC_PASSWORD"));
  CHECK_FALSE(has("ETCD_USERNAME"));
}

TEST_CASE("an enrollment token is refused with a pointer to the certificate recipe") {
  auto out = parse({}, {{"ENROLLMENT_TOKEN", "eyJ2ZXIiOiI4LjE5LjAi"}});
  REQUIRE(out.errors.size() == 1);
  CHECK(mentions(out.errors, "ENROLLMENT_TOKEN", "docs/security.md"));
  CHECK_FALSE(anyMentions(out.errors, "eyJ2ZXIiOiI4LjE5LjAi"));
  CHECK(parse({}, {{"ENROLLMENT_TOKEN", ""}}).errors.empty());
}

TEST_CASE("probe TLS and credential settings are checked together") {
  auto out = parse({"--es-health-tls-verify=certificate", "--es-health-ca-file=/certs/ca.crt"});
  REQUIRE(out.errors.empty());
  CHECK(out.config.healthTls.verify == TlsVerify::Certificate);
  CHECK(out.config.healthTls.caFile == "/certs/ca.crt");
  CHECK(parse({"--es-health-tls-verify=none"}).config.healthTls.verify == TlsVerify::None);
  CHECK(mentions(parse({"--es-health-tls-verify=strict"}).errors, "ES_HEALTH_TLS_VERIFY",
                 "\"strict\""));
  CHECK(mentions(parse({"--es-health-ca-file=certs/ca.crt"}).errors, "ES_HEALTH_CA_FILE",
                 "absolute path"));
  CHECK(mentions(parse({"--es-health-cert-file=/c.crt"}).errors, "ES_HEALTH_CERT_FILE",
                 "go together"));
  auto both = parse({}, {{"ES_HEALTH_API_KEY", "k3y"}, {"ES_HEALTH_PASSWORD", "pw"}});
  CHECK(mentions(both.errors, "ES_HEALTH_API_KEY", "one or the other"));
  CHECK_FALSE(anyMentions(both.errors, "k3y"));
  CHECK(mentions(parse({}, {{"ES_HEALTH_USERNAME", "a\nb"}}).errors, "ES_HEALTH_USERNAME",
                 "control characters"));
}

TEST_CASE("node settings in env form are collected by their dotted names") {
  auto out = parse({}, {{"xpack.security.http.ssl.enabled", "true"},
                        {"ES_SETTING_XPACK_SECURITY_ENABLED", "true"},
                        {"DISABLE_SECURITY_PLUGIN", "true"},
                        {"PATH", "/bin"}});
  REQUIRE(out.errors.empty());
  const auto& s = out.config.envNodeSettings;
  CHECK(s.at("xpack.security.http.ssl.enabled") == "true");
  CHECK(s.at("xpack.security.enabled") == "true");
  CHECK(s.at("plugins.security.disabled") == "true");
  CHECK(s.count("PATH") == 0);
  CHECK(s.count("path") == 0);
}

TEST_CASE("text that goes into JSON or onto a command line: UTF-8 without control characters") {
  const std::vector<std::string> good = {"node-1",           "",    "héllo",       "日本-ノード",
                                         "\xf0\x9f\x90\xb3", "a b", "\xef\xbf\xbd"};
  for (const auto& text : good) {
    INFO("text: " << text);
    CHECK(textProblem(text).empty());
  }
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"ab\xff"
       "c",
       "UTF-8"},                      // not a lead byte
      {"\xc0\x80", "UTF-8"},          // overlong NUL
      {"\xe0\x80\xaf", "UTF-8"},      // overlong
      {"\xed\xa0\x80", "UTF-8"},      // a UTF-16 surrogate
      {"\xf4\x90\x80\x80", "UTF-8"},  // above U+10FFFF
      {"\xe6\x97", "UTF-8"},          // cut short
      {"\xe6"
       "a"
       "\x97",
       "UTF-8"},  // a continuation byte missing
      {"a\nb", "control characters"},
      {"a\tb", "control characters"},
      {"a\x7f", "control characters"},
      {"\xc2\x85", "control characters"},  // NEL, a C1 control
  };
  for (const auto& [text, why] : bad) {
    INFO("text: " << printableText(text));
    CHECK(textProblem(text).find(why) != std::string::npos);
  }
  CHECK(printableText("ab\xff"
                      "c") == "ab\\xffc");
  CHECK(printableText("héllo") == "héllo");
}

TEST_CASE("every setting is checked for UTF-8 and control characters, named, the value escaped") {
  auto name = parse({}, {{"ES_NODE_NAME",
                          "ab\xff"
                          "c"}});
  REQUIRE(name.errors.size() == 1);
  CHECK(mentions(name.errors, "ES_NODE_NAME (--es-node-name) = \"ab\\xffc\"", "UTF-8"));
  // The image's own form is checked as the setting it stands for.
  CHECK(mentions(parse({}, {{"cluster.name", "lo\ngs"}}).errors, "ES_CLUSTER_NAME",
                 "control characters"));
  CHECK(mentions(parse({"--etcd-prefix=/a\x01"}).errors, "ETCD_PREFIX", "control characters"));
  CHECK(mentions(parse({}, {{"ETCD_USERNAME", "r\xc3"}}).errors, "ETCD_USERNAME", "UTF-8"));
  CHECK(mentions(parse({}, {{"ES_PATH_DATA", "/data\xfe"}}).errors, "ES_PATH_DATA", "UTF-8"));
  // A secret is checked as well, and still never shown.
  auto secret = parse({}, {{"ETCD_PASSWORD", "pw\xff"}});
  CHECK(mentions(secret.errors, "ETCD_PASSWORD (--etcd-password) = \"***\"", "UTF-8"));
  CHECK_FALSE(anyMentions(secret.errors, "pw"));
  // The twins: valid UTF-8 passes.
  CHECK(
      parse({}, {{"ES_NODE_NAME", "nœud-{hostname}"}, {"ES_CLUSTER_NAME", "集群"}}).errors.empty());
}

TEST_CASE("ES_PUBLISH_HOST takes one IP address or DNS name, and names the value otherwise") {
  for (const char* bad : {"_site_", "10.0.0.2:9300", "[10.0.0.2]", "10.0.0.256", "a,b"}) {
    INFO(bad);
    auto out = parse({}, {{"ES_PUBLISH_HOST", bad}});
    CHECK(mentions(out.errors, "ES_PUBLISH_HOST", bad));
  }
  CHECK(parse({}, {{"ES_PUBLISH_HOST", "[fd00::5]"}}).config.publishHost == "fd00::5");
  CHECK(parse({}, {{"ES_PUBLISH_HOST", "es-1.example"}}).errors.empty());
  // cluster.name is a word, not a host: underscores are fine there.
  CHECK(parse({}, {{"ES_CLUSTER_NAME", "logs_prod"}}).errors.empty());
}

TEST_CASE("an unknown flag with stray bytes is reported printable (found by fuzzing)") {
  auto out = parse({"--wtop-grace=3\xd7s"});
  REQUIRE(out.errors.size() == 1);
  CHECK(textProblem(out.errors[0]).empty());
  CHECK(out.errors[0].find("wtop-grace=3\\xd7s") != std::string::npos);
  auto endpoint = parse({}, {{"ETCD_ENDPOINTS", "ht\xfftp://x"}});
  REQUIRE_FALSE(endpoint.errors.empty());
  for (const auto& e : endpoint.errors) CHECK(textProblem(e).empty());
}

TEST_CASE("STATUS_ADDR: host:port, [IPv6]:port, :port (the publish host) or off") {
  auto byDefault = parse({});
  REQUIRE(byDefault.errors.empty());
  CHECK(byDefault.config.statusAddr.enabled);
  CHECK(byDefault.config.statusAddr.host.empty());
  CHECK(byDefault.config.statusAddr.port == 9911);

  auto given = parse({}, {{"STATUS_ADDR", "10.0.0.5:9000"}});
  REQUIRE(given.errors.empty());
  CHECK(given.config.statusAddr.host == "10.0.0.5");
  CHECK(given.config.statusAddr.port == 9000);

  auto v6 = parse({"--status-addr", "[fd00::5]:9911"});
  REQUIRE(v6.errors.empty());
  CHECK(v6.config.statusAddr.host == "fd00::5");

  auto portOnly = parse({}, {{"STATUS_ADDR", ":8080"}});
  REQUIRE(portOnly.errors.empty());
  CHECK(portOnly.config.statusAddr.host.empty());
  CHECK(portOnly.config.statusAddr.port == 8080);

  auto off = parse({}, {{"STATUS_ADDR", "off"}});
  REQUIRE(off.errors.empty());
  CHECK_FALSE(off.config.statusAddr.enabled);

  for (const std::string bad : {"9911", "host:", "host:0", "host:70000", "fd00::5:9911",
                                "bad host:9911", "[fd00::5:9911", "on", ""}) {
    INFO(bad);
    auto out = parse({}, {{"STATUS_ADDR", bad}});
    CHECK(mentions(out.errors, "STATUS_ADDR (--status-addr) = \"" + bad + "\"", "must be off"));
  }
}

TEST_CASE("the settings shown by /status and --plan hold no secret") {
  auto out = parse({}, {{"ETCD_PASSWORD", "etcd-pw"},
                        {"ES_HEALTH_API_KEY", "api-key"},
                        {"ETCD_ENDPOINTS", "http://user:pw@10.0.0.1:2379,http://10.0.0.2:2379"},
                        {"ETCD_USERNAME", "root"}});
  REQUIRE(out.errors.empty());
  std::string all;
  for (const auto& [name, value] : out.config.shownSettings) all += name + "=" + value + "\n";
  CHECK(all.find("etcd-pw") == std::string::npos);
  CHECK(all.find("api-key") == std::string::npos);
  CHECK(all.find("ETCD_PASSWORD") == std::string::npos);
  CHECK(all.find(":pw@") == std::string::npos);
  CHECK(all.find("ETCD_ENDPOINTS=http://***@10.0.0.1:2379,http://10.0.0.2:2379\n") !=
        std::string::npos);
  CHECK(all.find("ETCD_USERNAME=root\n") != std::string::npos);
  // Derived defaults appear as derived.
  CHECK(all.find("ETCD_STATE_PREFIX=/es-etcd-entrypoint/services/elasticsearch\n") !=
        std::string::npos);
}

TEST_CASE("the plan flag is an option of its own, not a command") {
  auto out = parse({"--plan"});
  REQUIRE(out.errors.empty());
  CHECK(out.config.showPlan);
  CHECK(out.config.command.empty());
}

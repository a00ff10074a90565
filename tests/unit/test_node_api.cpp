#include <catch2/catch.hpp>

#include <optional>

#include "etcd_codec.hpp"
#include "node_api.hpp"

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

Config configFrom(const Env& env, std::vector<std::string> args = {}) {
  auto out = parseConfig(args, env, noFile, elasticsearchImage);
  REQUIRE(out.errors.empty());
  return out.config;
}

}  // namespace

TEST_CASE("YAML settings flatten to dotted keys, nested or dotted alike") {
  // What Elasticsearch 8's auto-configuration writes, next to the flat form users write.
  const char* yaml = R"(# ======= Security =======
cluster.name: "docker-cluster"
network.host: 0.0.0.0
xpack.security.enabled: true

xpack.security.http.ssl:
  enabled: true
  keystore.path: certs/http.p12   # relative to the config dir

xpack:
  security:
    transport:
      ssl:
        enabled: 'true'
cluster.initial_master_nodes: ["a"]
discovery.seed_hosts:
  - 10.0.0.1
plugins.security.nodes_dn:
  - "CN=node-*,OU=nodes"
plugins.security.ssl.http.enabled: true
)";
  auto flat = flattenYaml(yaml);
  CHECK(flat.at("cluster.name") == "docker-cluster");
  CHECK(flat.at("network.host") == "0.0.0.0");
  CHECK(flat.at("xpack.security.enabled") == "true");
  CHECK(flat.at("xpack.security.http.ssl.enabled") == "true");
  CHECK(flat.at("xpack.security.http.ssl.keystore.path") == "certs/http.p12");
  CHECK(flat.at("xpack.security.transport.ssl.enabled") == "true");
  CHECK(flat.at("plugins.security.ssl.http.enabled") == "true");
  // Sequences of scalars are comma-joined, flow or block; they end no mapping early.
  CHECK(flat.at("cluster.initial_master_nodes") == "a");
  CHECK(flat.at("discovery.seed_hosts") == "10.0.0.1");
  CHECK(flat.at("plugins.security.nodes_dn") == "CN=node-*,OU=nodes");
  CHECK(flattenYaml("").empty());
  CHECK(flattenYaml("just text\n: \n#x: y\n").empty());
}

TEST_CASE("lists of scalars (flow, block, nested, empty) are kept, other collections left out") {
  struct Case {
    const char* yaml;
    const char* key;
    std::optional<std::string> value;
  };
  const std::vector<Case> cases = {
      {"node.roles: [ data, ingest ]\n", "node.roles", "data,ingest"},
      {"node.roles: [\"master\", 'data']  # two\n", "node.roles", "master,data"},
      {"node.roles: []\n", "node.roles", ""},
      {"node.roles: [ ]\n", "node.roles", ""},
      {"node.roles:\n  - data\n  - ingest\n", "node.roles", "data,ingest"},
      {"node.roles:\n- cluster_manager\n- data\nnode.name: x\n", "node.roles",
       "cluster_manager,data"},
      {"node:\n  roles:\n    - master\n  name: n1\n", "node.roles", "master"},
      {"node:\n  roles: [ml]\n  name: n1\n", "node.name", "n1"},
      {"node.roles:\n  - data\n  - ingest\nnode.name: after\n", "node.name", "after"},
      // Not lists of scalars: left out.
      {"node.roles: [[a], b]\n", "node.roles", std::nullopt},
      {"node.roles: {a: b}\n", "node.roles", std::nullopt},
      {"node.roles:\n  - name: a\n", "node.roles", std::nullopt},
      {"node.roles:\n  - data\n  - [x]\n", "node.roles", std::nullopt},
      {"node.roles:\n", "node.roles", std::nullopt},
      {"- data\nnode.name: x\n", "", std::nullopt},
  };
  for (const auto& c : cases) {
    INFO("yaml:\n" << c.yaml);
    auto flat = flattenYaml(c.yaml);
    auto it = flat.find(c.key);
    if (c.value) {
      REQUIRE(it != flat.end());
      CHECK(it->second == *c.value);
    } else {
      CHECK(it == flat.end());
    }
  }
}

TEST_CASE("a -E argument wins over the env form, which wins over the settings file") {
  NodeSettingSources s;
  s.configFile = {{"xpack.security.http.ssl.enabled", "false"}};
  CHECK(nodeSetting(s, "xpack.security.http.ssl.enabled") == "false");
  s.env = {{"xpack.security.http.ssl.enabled", "true"}};
  CHECK(nodeSetting(s, "xpack.security.http.ssl.enabled") == "true");
  s.command = {"bin/elasticsearch", "-Expack.security.http.ssl.enabled=false"};
  CHECK(nodeSetting(s, "xpack.security.http.ssl.enabled") == "false");
  CHECK_FALSE(nodeSetting(s, "xpack.security.http").has_value());
}

TEST_CASE("HTTPS is detected from each distribution's own settings") {
  NodeSettingSources es;
  CHECK_FALSE(nodeServesHttps(es, Distribution::Elasticsearch));
  es.configFile = flattenYaml("xpack.security.http.ssl:\n  enabled: true\n");
  CHECK(nodeServesHttps(es, Distribution::Elasticsearch));
  // Security switched off wins; OpenSearch does not read xpack settings.
  es.env = {{"xpack.security.enabled", "false"}};
  CHECK_FALSE(nodeServesHttps(es, Distribution::Elasticsearch));
  es.env.clear();
  CHECK_FALSE(nodeServesHttps(es, Distribution::OpenSearch));

  NodeSettingSources os;
  os.configFile = {{"plugins.security.ssl.http.enabled", "true"}};
  CHECK(nodeServesHttps(os, Distribution::OpenSearch));
  os.env = {{"plugins.security.disabled", "true"}};
  CHECK_FALSE(nodeServesHttps(os, Distribution::OpenSearch));
}

TEST_CASE("the probe URL follows ES_HEALTH_URL, else 127.0.0.1 with the node's scheme") {
  Config c = configFrom({{"ES_HTTP_PORT", "9201"}});
  CHECK(resolveNodeApi(c, Distribution::Elasticsearch, false, false).baseUrl ==
        "http://127.0.0.1:9201");
  CHECK(resolveNodeApi(c, Distribution::Elasticsearch, true, false).baseUrl ==
        "https://127.0.0.1:9201");
  Config given = configFrom({{"ES_HEALTH_URL", "https://10.0.0.5:9200/"}});
  CHECK(resolveNodeApi(given, Distribution::Elasticsearch, false, false).baseUrl ==
        "https://10.0.0.5:9200");
}

TEST_CASE("the CA defaults to the auto-configured http_ca.crt only when it exists") {
  Config c = configFrom({{"ES_PATH_CONF", "/conf"}});
  CHECK(resolveNodeApi(c, Distribution::Elasticsearch, true, true).tls.caFile ==
        "/conf/certs/http_ca.crt");
  CHECK(resolveNodeApi(c, Distribution::Elasticsearch, true, false).tls.caFile.empty());
  Config given = configFrom({{"ES_PATH_CONF", "/conf"}, {"ES_HEALTH_CA_FILE", "/certs/ca.crt"}});
  CHECK(resolveNodeApi(given, Distribution::Elasticsearch, true, true).tls.caFile ==
        "/certs/ca.crt");
}

TEST_CASE("credentials: API key, else the probe's password, else the image's own") {
  auto basic = [](const std::string& userColonPassword) {
    return "Basic " + codec::base64Encode(userColonPassword);
  };
  NodeApi none = resolveNodeApi(configFrom({}), Distribution::Elasticsearch, true, false);
  CHECK(none.authorization.empty());
  CHECK(none.principal.empty());

  NodeApi elastic = resolveNodeApi(configFrom({{"ELASTIC_PASSWORD", "pw"}}),
                                   Distribution::Elasticsearch, true, false);
  CHECK(elastic.authorization == basic("elastic:pw"));
  CHECK(elastic.principal == "user \"elastic\"");

  NodeApi admin = resolveNodeApi(configFrom({{"OPENSEARCH_INITIAL_ADMIN_PASSWORD", "Adm1n!x"}}),
                                 Distribution::OpenSearch, true, false);
  CHECK(admin.authorization == basic("admin:Adm1n!x"));
  // The other distribution's variable is not this one's password.
  CHECK(resolveNodeApi(configFrom({{"ELASTIC_PASSWORD", "pw"}}), Distribution::OpenSearch, true,
                       false)
            .authorization.empty());

  Config own = configFrom({{"ELASTIC_PASSWORD", "pw"},
                           {"ES_HEALTH_USERNAME", "probe"},
                           {"ES_HEALTH_PASSWORD", "probe-pw"}});
  CHECK(resolveNodeApi(own, Distribution::Elasticsearch, true, false).authorization ==
        basic("probe:probe-pw"));
  Config noUser = configFrom({{"ES_HEALTH_PASSWORD", "probe-pw"}});
  CHECK(resolveNodeApi(noUser, Distribution::Elasticsearch, true, false).authorization ==
        basic("elastic:probe-pw"));
  CHECK(resolveNodeApi(noUser, Distribution::OpenSearch, true, false).authorization ==
        basic("admin:probe-pw"));
  Config renamed = configFrom({{"ELASTIC_PASSWORD", "pw"}, {"ES_HEALTH_USERNAME", "ops"}});
  CHECK(resolveNodeApi(renamed, Distribution::Elasticsearch, true, false).authorization ==
        basic("ops:pw"));

  NodeApi key =
      resolveNodeApi(configFrom({{"ES_HEALTH_API_KEY", "a2V5"}, {"ELASTIC_PASSWORD", "pw"}}),
                     Distribution::Elasticsearch, true, false);
  CHECK(key.authorization == "ApiKey a2V5");
  CHECK(key.principal == "an API key");
}

TEST_CASE("the start-up line names URL, CA and principal, never the secret") {
  Config c = configFrom({{"ELASTIC_PASSWORD", "hunter2"},
                         {"ES_HEALTH_CA_FILE", "/certs/ca.crt"},
                         {"ES_HEALTH_TLS_VERIFY", "certificate"}});
  std::string line = describeNodeApi(resolveNodeApi(c, Distribution::Elasticsearch, true, false));
  CHECK(line.find("https://127.0.0.1:9200") != std::string::npos);
  CHECK(line.find("/certs/ca.crt") != std::string::npos);
  CHECK(line.find("host name not checked") != std::string::npos);
  CHECK(line.find("user \"elastic\"") != std::string::npos);
  CHECK(line.find("hunter2") == std::string::npos);
  CHECK(line.find(codec::base64Encode("elastic:hunter2")) == std::string::npos);
  CHECK(describeNodeApi(resolveNodeApi(configFrom({}), Distribution::Elasticsearch, false,
                                       false)) == "http://127.0.0.1:9200, no credentials");
}

TEST_CASE("a YAML line with an empty key is no setting (found by fuzzing)") {
  auto flat = flattenYaml(": value\n\"\": other\nnode.roles: [data]\n");
  CHECK(flat.count("") == 0);
  CHECK(flat.at("node.roles") == "data");
}

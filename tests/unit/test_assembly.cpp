#include <catch2/catch.hpp>

#include "assembly.hpp"

using namespace esetcd;

namespace {

StartInputs inputs(Distribution d, int major, int minor = 0) {
  StartInputs in;
  in.self = {"es-1", "10.0.0.1", 9200, 9300, std::nullopt, true};
  in.flavor = {d, {major, minor, 0}};
  in.clusterName = "logstash";
  in.seeds = {"10.0.0.2:9300", "10.0.0.3:9300"};
  return in;
}

using Args = std::vector<std::string>;

}  // namespace

TEST_CASE("1.x: the seed's --key=value syntax, multicast off, unicast hosts on the command line") {
  auto plan = assembleStart(inputs(Distribution::Elasticsearch, 1, 7));
  CHECK(plan.args == Args{"--node.name=es-1", "--cluster.name=logstash",
                          "--network.publish_host=10.0.0.1", "--http.port=9200",
                          "--transport.tcp.port=9300",
                          "--discovery.zen.ping.multicast.enabled=false",
                          "--discovery.zen.ping.unicast.hosts=10.0.0.2:9300,10.0.0.3:9300"});
  CHECK_FALSE(plan.usesSeedFile);
}

TEST_CASE("2.x: -Des. settings") {
  auto plan = assembleStart(inputs(Distribution::Elasticsearch, 2, 4));
  CHECK(plan.args == Args{"-Des.node.name=es-1", "-Des.cluster.name=logstash",
                          "-Des.network.publish_host=10.0.0.1", "-Des.http.port=9200",
                          "-Des.transport.tcp.port=9300",
                          "-Des.discovery.zen.ping.unicast.hosts=10.0.0.2:9300,10.0.0.3:9300"});
}

TEST_CASE("5.x and 6.x: -E settings with zen unicast hosts and the quorum") {
  auto in5 = inputs(Distribution::Elasticsearch, 5, 6);
  in5.minimumMasterNodes = quorum(3);
  CHECK(assembleStart(in5).args ==
        Args{"-Enode.name=es-1", "-Ecluster.name=logstash", "-Enetwork.publish_host=10.0.0.1",
             "-Ehttp.port=9200", "-Etransport.tcp.port=9300",
             "-Ediscovery.zen.ping.unicast.hosts=10.0.0.2:9300,10.0.0.3:9300",
             "-Ediscovery.zen.minimum_master_nodes=2"});
  auto plan6 = assembleStart(inputs(Distribution::Elasticsearch, 6, 8));
  CHECK(plan6.args[4] == "-Etransport.port=9300");
  CHECK(plan6.args.back() == "-Ediscovery.zen.ping.unicast.hosts=10.0.0.2:9300,10.0.0.3:9300");
  CHECK_FALSE(plan6.usesSeedFile);
}

TEST_CASE("7.x, 8.x, 9.x: the file seed provider, hosts in unicast_hosts.txt") {
  for (int major : {7, 8, 9}) {
    auto plan = assembleStart(inputs(Distribution::Elasticsearch, major, 17));
    CHECK(plan.args == Args{"-Enode.name=es-1", "-Ecluster.name=logstash",
                            "-Enetwork.publish_host=10.0.0.1", "-Ehttp.port=9200",
                            "-Etransport.port=9300", "-Ediscovery.seed_providers=file"});
    CHECK(plan.usesSeedFile);
    CHECK(plan.seedFileText.find("\n10.0.0.2:9300\n10.0.0.3:9300\n") != std::string::npos);
  }
}

TEST_CASE("OpenSearch 1.x and 2.x: file seeds, initial masters under their own names") {
  auto in1 = inputs(Distribution::OpenSearch, 1, 3);
  in1.initialMasters = {"es-1", "es-2", "es-3"};
  CHECK(assembleStart(in1).args.back() == "-Ecluster.initial_master_nodes=es-1,es-2,es-3");
  auto in2 = inputs(Distribution::OpenSearch, 2, 18);
  in2.initialMasters = {"es-1", "es-2", "es-3"};
  auto plan2 = assembleStart(in2);
  CHECK(plan2.usesSeedFile);
  CHECK(plan2.args.back() == "-Ecluster.initial_cluster_manager_nodes=es-1,es-2,es-3");
}

TEST_CASE("no cluster name, no seeds, a mapped transport port") {
  auto in = inputs(Distribution::Elasticsearch, 6, 8);
  in.clusterName = "";
  in.seeds = {};
  in.self.transportPort = 19300;
  auto plan = assembleStart(in);
  CHECK(plan.args == Args{"-Enode.name=es-1", "-Enetwork.publish_host=10.0.0.1", "-Ehttp.port=9200",
                          "-Etransport.port=9300", "-Etransport.publish_port=19300"});
}

TEST_CASE("initial masters only where the version has the setting") {
  auto in6 = inputs(Distribution::Elasticsearch, 6, 8);
  in6.initialMasters = {"a"};
  for (const auto& arg : assembleStart(in6).args)
    CHECK(arg.find("initial_master") == std::string::npos);
  auto in8 = inputs(Distribution::Elasticsearch, 8, 15);
  in8.initialMasters = {"a", "b", "c"};
  CHECK(assembleStart(in8).args.back() == "-Ecluster.initial_master_nodes=a,b,c");
}

TEST_CASE("quorum of master-eligible nodes") {
  CHECK(quorum(1) == 1);
  CHECK(quorum(2) == 2);
  CHECK(quorum(3) == 2);
  CHECK(quorum(4) == 3);
  CHECK(quorum(5) == 3);
}

TEST_CASE("settings the command gives itself are not appended a second time") {
  auto in = inputs(Distribution::Elasticsearch, 8, 15);
  in.userKeys = {"node.name", "http.port", "transport.port", "transport.tcp.port"};
  CHECK(assembleStart(in).args == Args{"-Ecluster.name=logstash", "-Enetwork.publish_host=10.0.0.1",
                                       "-Ediscovery.seed_providers=file"});
  in.userKeys = {"cluster.name", "network.publish_host"};
  CHECK(assembleStart(in).args == Args{"-Enode.name=es-1", "-Ehttp.port=9200",
                                       "-Etransport.port=9300", "-Ediscovery.seed_providers=file"});
  // The twin: without user keys every setting is there.
  in.userKeys.clear();
  CHECK(assembleStart(in).args.size() == 6);
}

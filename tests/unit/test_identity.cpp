#include <catch2/catch.hpp>

#include "identity.hpp"

using namespace esetcd;

TEST_CASE("the publish address is the first usable one, IPv4 first") {
  std::vector<LocalAddress> all = {
      {"lo", "127.0.0.1", true, false, true},     {"eth0", "fe80::1", false, true, true},
      {"eth0", "fd00::5", false, true, true},     {"eth1", "10.0.0.9", false, false, false},
      {"eth0", "172.18.0.2", false, false, true},
  };
  CHECK(choosePublishAddress(all) == "172.18.0.2");
  all.pop_back();
  CHECK(choosePublishAddress(all) == "fd00::5");
  CHECK(choosePublishAddress({{"lo", "127.0.0.1", true, false, true}}).empty());
}

TEST_CASE("node name templates expand") {
  CHECK(expandNodeName("es-{hostname}", "web1", "10.0.0.1") == "es-web1");
  CHECK(expandNodeName("{ip}-{ip}", "h", "10.0.0.1") == "10.0.0.1-10.0.0.1");
  CHECK(expandNodeName("plain", "h", "i") == "plain");
}

#include <catch2/catch.hpp>

#include <string>

#include "host.hpp"
#include "peers.hpp"
#include "seed_file.hpp"

using namespace esetcd;

namespace {

const std::string kDir = "/services/elasticsearch";

std::optional<std::string> host(const std::string& text) {
  auto valid = validHost(text);
  if (valid) return valid.value();
  CHECK(valid.error().kind == ErrorKind::Malformed);
  CHECK_FALSE(valid.error().message.empty());
  return std::nullopt;
}

}  // namespace

TEST_CASE("hosts: IPv4, IPv6 and RFC 1123 names are accepted, in canonical form") {
  struct Case {
    std::string text;
    std::string canonical;
  };
  for (const Case& c : std::vector<Case>{
           {"10.0.0.2", "10.0.0.2"},
           {"255.255.255.255", "255.255.255.255"},
           {"fd00::5", "fd00::5"},
           {"[fd00::5]", "fd00::5"},
           {"::1", "::1"},
           {"::ffff:10.0.0.1", "::ffff:10.0.0.1"},
           {"es-1", "es-1"},
           {"es-1.example.com", "es-1.example.com"},
           {"9node.example", "9node.example"},
           {"a", "a"},
           {std::string(63, 'a') + ".example", std::string(63, 'a') + ".example"},
       }) {
    INFO(c.text);
    auto valid = host(c.text);
    REQUIRE(valid);
    CHECK(*valid == c.canonical);
  }
}

TEST_CASE("hosts: everything else is refused, never repaired") {
  for (const std::string& text : std::vector<std::string>{
           "",
           "10.0.0.2\nevil.example:9300\n#x",  // a forged seed line
           "10.0.0.3\r",
           "[10.0.0.2",
           "10.0.0.2]",
           "[10.0.0.2]",  // brackets hold IPv6 only
           "[10.0.0.9:9400]",
           "10.0.0.9:9400",
           "10.0.0.256",  // an all-numeric last label reads as a bad address
           "10.0.0",
           "010.0.0.1",
           "fd00::5%eth0",  // zone index
           "-es.example",
           "es-.example",
           "es..example",
           "es.example.",
           "es_1.example",
           "es 1",
           "es,1",
           "a/b",
           std::string(64, 'a') + ".example",
           std::string(254, 'a'),
           std::string("10.0.0.2\0x", 10),
           std::string("[::\0\0\0)]", 8),  // found by fuzzing
           "caf\xc3\xa9.example",          // UTF-8: IDNs must come as punycode
           "\xff\xfe",
       }) {
    INFO(text);
    CHECK_FALSE(host(text));
  }
}

TEST_CASE("seed lines: host:port with bracketed IPv6 only") {
  CHECK(validHostPort("10.0.0.2:9300"));
  CHECK(validHostPort("[fd00::5]:9300"));
  CHECK(validHostPort("es-1.example:1"));
  CHECK(validHostPort("es-1:65535"));
  CHECK_FALSE(validHostPort("fd00::5:9300"));  // ambiguous without brackets
  CHECK_FALSE(validHostPort("[10.0.0.2]:9300"));
  CHECK_FALSE(validHostPort("10.0.0.2"));
  CHECK_FALSE(validHostPort("10.0.0.2:"));
  CHECK_FALSE(validHostPort("10.0.0.2:0"));
  CHECK_FALSE(validHostPort("10.0.0.2:65536"));
  CHECK_FALSE(validHostPort("10.0.0.2:93x0"));
  CHECK_FALSE(validHostPort("10.0.0.3\r:9300"));
  CHECK_FALSE(validHostPort("evil example:9300"));
}

TEST_CASE("registrations whose key is not a valid host never reach the seed list") {
  // The keys an audit wrote into a real etcd: each one used to become a line of
  // unicast_hosts.txt as it was.
  const std::string value = R"({"transport_port": 9300})";
  std::vector<KeyValue> kvs = {
      {kDir + "/10.0.0.2\nevil.example:9300\n#x", value},
      {kDir + "/10.0.0.3\r", value},
      {kDir + "/[10.0.0.2", value},
      {kDir + "/\xff\xfe", value},
      {kDir + "/[10.0.0.9:9400]", value},
      {kDir + "/10.0.0.4", value},
  };
  std::vector<std::string> warnings;
  auto peers = parsePeers(kDir, kvs, warnings);
  REQUIRE(peers.size() == 1);
  CHECK(peers[0].host == "10.0.0.4");
  REQUIRE(warnings.size() == 5);
  for (const auto& w : warnings) {
    INFO(w);
    CHECK(w.find('\n') == std::string::npos);  // one log line each, nothing forged
    CHECK(w.find('\r') == std::string::npos);
    CHECK(w.find("is not an I") != std::string::npos);
  }
  CHECK(warnings[0].find("10.0.0.2\\x0aevil.example") != std::string::npos);

  Identity self;
  self.publishHost = "10.0.0.1";
  std::string text = seedFileText(seedHosts(peers, self));
  CHECK(text.find("evil") == std::string::npos);
  CHECK(parseSeedFileText(text) == std::vector<std::string>{"10.0.0.4:9300"});
}

TEST_CASE("a cached seed file with forged lines reads back without them") {
  CHECK(parseSeedFileText("# c\n10.0.0.2:9300\nevil example:9300\n10.0.0.3\r:9300\n[fd00::5]:9300\n"
                          "[10.0.0.9:9400]:9300\n") ==
        std::vector<std::string>{"10.0.0.2:9300", "[fd00::5]:9300"});
}

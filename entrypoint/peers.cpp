#include "peers.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "host.hpp"
#include "text.hpp"

namespace esetcd {
namespace {

using nlohmann::json;

// Accepts 9300 and "9300": hand-written records differ. `fallback` when the field is absent.
Result<int> readPort(const json& doc, const char* field, int fallback) {
  auto it = doc.find(field);
  if (it == doc.end()) return fallback;
  long value = -1;
  if (it->is_number_integer()) {
    value = it->get<long>();
  } else if (it->is_string()) {
    const std::string& s = it->get_ref<const std::string&>();
    if (!s.empty() && s.size() <= 5 && std::all_of(s.begin(), s.end(), ::isdigit))
      value = std::stol(s);
  }
  if (value < 1 || value > 65535)
    return Error{ErrorKind::Malformed, std::string(field) + " is not a port: " + it->dump()};
  return static_cast<int>(value);
}

std::string readString(const json& doc, const char* field) {
  auto it = doc.find(field);
  return it != doc.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

Result<Peer> parsePeer(const std::string& dir, const KeyValue& kv) {
  auto malformed = [](std::string why) { return Error{ErrorKind::Malformed, std::move(why)}; };
  std::string prefix = dir + "/";
  if (kv.key.rfind(prefix, 0) != 0) return malformed("is not below " + dir);
  Peer peer;
  peer.key = kv.key;
  auto host = validHost(kv.key.substr(prefix.size()));
  if (!host) return malformed("its last segment " + host.error().message);
  peer.host = *host;
  json doc = json::parse(kv.value, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return malformed("value is not a JSON object");
  // The seed always wrote both ports; a record with neither is someone else's data.
  if (!doc.contains("transport_port") && !doc.contains("http_port"))
    return malformed("value has neither transport_port nor http_port");
  auto transport = readPort(doc, "transport_port", 9300);
  if (!transport) return transport.error();
  auto http = readPort(doc, "http_port", 9200);
  if (!http) return http.error();
  peer.transportPort = *transport;
  peer.httpPort = *http;
  peer.nodeName = readString(doc, "node_name");
  peer.clusterName = readString(doc, "cluster_name");
  if (auto it = doc.find("master_eligible"); it != doc.end() && it->is_boolean()) {
    peer.masterEligible = it->get<bool>();
  } else if (auto roles = doc.find("roles"); roles != doc.end() && roles->is_array()) {
    peer.masterEligible = std::any_of(roles->begin(), roles->end(), [](const json& role) {
      return role == "master" || role == "cluster_manager";
    });
  }
  return peer;
}

std::vector<Peer> parsePeers(const std::string& dir, const std::vector<KeyValue>& kvs,
                             std::vector<std::string>& warnings) {
  std::vector<Peer> peers;
  for (const auto& kv : kvs) {
    if (auto peer = parsePeer(dir, kv))
      peers.push_back(*peer);
    else
      warnings.push_back("skipping registration " + printableText(kv.key) + ": " +
                         peer.error().message);
  }
  return peers;
}

std::string hostPort(const std::string& host, int port) {
  bool ipv6 = host.find(':') != std::string::npos;
  return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::vector<std::string> seedHosts(const std::vector<Peer>& peers, const Identity& self) {
  std::string own = hostPort(self.publishHost, self.transportPort);
  std::set<std::string> unique;
  for (const auto& peer : peers) {
    std::string address = hostPort(peer.host, peer.transportPort);
    if (address != own) unique.insert(address);
  }
  return {unique.begin(), unique.end()};
}

std::optional<Peer> nodeNameConflict(const std::vector<Peer>& peers, const Identity& self) {
  for (const auto& peer : peers) {
    bool sameName = !peer.nodeName.empty() && peer.nodeName == self.nodeName;
    bool sameAddress = peer.host == self.publishHost && peer.transportPort == self.transportPort;
    if (sameName && !sameAddress) return peer;
  }
  return std::nullopt;
}

std::string registrationValue(const Identity& self, const Flavor& flavor,
                              const std::string& clusterName) {
  json doc = {
      {"http_port", self.httpPort},
      {"transport_port", self.transportPort},
      {"host", self.publishHost},
      {"node_name", self.nodeName},
      {"distribution",
       flavor.distribution == Distribution::OpenSearch ? "opensearch" : "elasticsearch"},
      {"version", toString(flavor).substr(toString(flavor).find(' ') + 1)},
  };
  if (!clusterName.empty()) doc["cluster_name"] = clusterName;
  if (self.roles) doc["roles"] = *self.roles;
  doc["master_eligible"] = self.masterEligible;
  // Every text was validated at start; should one slip through, a replacement character beats
  // an exception in PID 1.
  return doc.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string registrationKey(const std::string& dir, const Identity& self) {
  return dir + "/" + self.publishHost;
}

}  // namespace esetcd

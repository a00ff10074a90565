// Peers: what a registration under the prefix says, and the seed host list built from them.
// Understands both the 2014 sidecar's records ({"http_port": 9200, "transport_port": 9300}) and
// ours, which add the node name, version and cluster name. All pure.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "etcd_store.hpp"
#include "flavor.hpp"
#include "identity.hpp"

namespace esetcd {

struct Peer {
  std::string key;
  std::string host;
  int httpPort = 9200;
  int transportPort = 9300;
  std::string nodeName;     // empty for records written by the seed's sidecar
  std::string clusterName;  // likewise
  // "master_eligible", else master/cluster_manager in "roles", else true (older records).
  bool masterEligible = true;
};

// Parses one registration: the host is the last key segment below `dir`, the ports come from
// the JSON value. A Malformed error saying why when the entry is not a registration.
Result<Peer> parsePeer(const std::string& dir, const KeyValue& kv);

// Parses every entry; the malformed ones are skipped and described in `warnings`.
std::vector<Peer> parsePeers(const std::string& dir, const std::vector<KeyValue>& kvs,
                             std::vector<std::string>& warnings);

// "10.0.0.5:9300", "[fd00::5]:9300".
std::string hostPort(const std::string& host, int port);

// The seed hosts: every peer's transport address except our own, sorted, without duplicates.
std::vector<std::string> seedHosts(const std::vector<Peer>& peers, const Identity& self);

// A live registration that uses our node name at another address, if any.
std::optional<Peer> nodeNameConflict(const std::vector<Peer>& peers, const Identity& self);

// The JSON value we register; a superset of the seed's record: "roles" when node.roles is set,
// "master_eligible" always.
std::string registrationValue(const Identity& self, const Flavor& flavor,
                              const std::string& clusterName);

// The registration key of this node: dir + "/" + publish host.
std::string registrationKey(const std::string& dir, const Identity& self);

}  // namespace esetcd

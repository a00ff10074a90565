// Identity helpers: this machine's host name and the address peers should use, and the node
// name template. The choosing is pure; only hostName() and localAddresses() touch the system.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace esetcd {

// Who this node is, as peers see it.
struct Identity {
  std::string nodeName;
  std::string publishHost;  // IP or host name, IPv6 without brackets
  int httpPort = 9200;
  int transportPort = 9300;  // the port peers connect to (the published one)
  // node.roles as set (roles.hpp); nullopt: not set, every default role.
  std::optional<std::vector<std::string>> roles;
  bool masterEligible = true;
};

struct LocalAddress {
  std::string interfaceName;
  std::string address;  // textual IP
  bool loopback = false;
  bool ipv6 = false;
  bool up = true;
};

// The first usable address: up, not loopback, IPv4 before IPv6, link-local IPv6 never; empty
// when there is none.
std::string choosePublishAddress(const std::vector<LocalAddress>& addresses);

// Replaces {hostname} and {ip} in the template.
std::string expandNodeName(const std::string& nameTemplate, const std::string& hostname,
                           const std::string& ip);

std::string hostName();
std::vector<LocalAddress> localAddresses();

}  // namespace esetcd

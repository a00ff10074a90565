#include "identity.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <unistd.h>

#include <climits>

namespace esetcd {
namespace {

void replaceAll(std::string& text, const std::string& from, const std::string& to) {
  for (size_t pos = text.find(from); pos != std::string::npos; pos = text.find(from, pos)) {
    text.replace(pos, from.size(), to);
    pos += to.size();
  }
}

}  // namespace

std::string choosePublishAddress(const std::vector<LocalAddress>& addresses) {
  for (bool wantV6 : {false, true}) {
    for (const auto& a : addresses) {
      if (!a.up || a.loopback || a.ipv6 != wantV6) continue;
      if (a.ipv6 && a.address.rfind("fe80", 0) == 0) continue;  // link-local needs a scope id
      return a.address;
    }
  }
  return "";
}

std::string expandNodeName(const std::string& nameTemplate, const std::string& hostname,
                           const std::string& ip) {
  std::string name = nameTemplate;
  replaceAll(name, "{hostname}", hostname);
  replaceAll(name, "{ip}", ip);
  return name;
}

std::string hostName() {
  char buffer[HOST_NAME_MAX + 1] = {};
  if (gethostname(buffer, sizeof buffer - 1) != 0) return "localhost";
  return buffer;
}

// getifaddrs rather than Poco::Net::NetworkInterface: it is one call, needs no NSS and keeps
// the static binary free of interface-enumeration threads.
std::vector<LocalAddress> localAddresses() {
  std::vector<LocalAddress> out;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return out;
  for (ifaddrs* it = list; it; it = it->ifa_next) {
    if (!it->ifa_addr) continue;
    int family = it->ifa_addr->sa_family;
    if (family != AF_INET && family != AF_INET6) continue;
    char text[INET6_ADDRSTRLEN] = {};
    const void* raw = family == AF_INET
                          ? static_cast<const void*>(
                                &reinterpret_cast<const sockaddr_in*>(it->ifa_addr)->sin_addr)
                          : static_cast<const void*>(
                                &reinterpret_cast<const sockaddr_in6*>(it->ifa_addr)->sin6_addr);
    if (!inet_ntop(family, raw, text, sizeof text)) continue;
    LocalAddress a;
    a.interfaceName = it->ifa_name ? it->ifa_name : "";
    a.address = text;
    a.loopback = (it->ifa_flags & IFF_LOOPBACK) != 0;
    a.up = (it->ifa_flags & IFF_UP) != 0;
    a.ipv6 = family == AF_INET6;
    out.push_back(a);
  }
  freeifaddrs(list);
  return out;
}

}  // namespace esetcd

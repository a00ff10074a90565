#include "assembly.hpp"

#include "seed_file.hpp"

namespace esetcd {
namespace {

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ",") + item;
  return out;
}

}  // namespace

int quorum(int masterEligible) {
  return masterEligible / 2 + 1;
}

AssembledStart assembleStart(const StartInputs& in) {
  AssembledStart plan;
  const Flavor& f = in.flavor;
  auto add = [&](const std::string& key, const std::string& value) {
    if (!in.userKeys.count(key)) plan.args.push_back(settingArg(f, key, value));
  };
  add("node.name", in.self.nodeName);
  if (!in.clusterName.empty()) add("cluster.name", in.clusterName);
  add("network.publish_host", in.self.publishHost);
  add("http.port", std::to_string(in.self.httpPort));
  add(transportPortKey(f), std::to_string(in.transportBindPort));
  if (in.self.transportPort != in.transportBindPort)
    add("transport.publish_port", std::to_string(in.self.transportPort));

  if (usesSeedFile(f)) {
    // Re-read on every discovery round, so peers that register later are found without a
    // restart (docs/design.md, "Seed hosts").
    add("discovery.seed_providers", "file");
    plan.usesSeedFile = true;
    plan.seedFileText = seedFileText(in.seeds);
  } else {
    // 1.x multicasts by default, which never works across Docker hosts (the seed turned it off).
    if (f.distribution == Distribution::Elasticsearch && f.version.major == 1)
      add("discovery.zen.ping.multicast.enabled", "false");
    if (!in.seeds.empty()) add("discovery.zen.ping.unicast.hosts", join(in.seeds));
    if (in.minimumMasterNodes > 0)
      add("discovery.zen.minimum_master_nodes", std::to_string(in.minimumMasterNodes));
  }
  std::string mastersKey = initialMastersKey(f);
  if (!in.initialMasters.empty() && !mastersKey.empty()) add(mastersKey, join(in.initialMasters));
  return plan;
}

}  // namespace esetcd

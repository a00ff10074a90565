#include "command.hpp"

#include <algorithm>
#include <cctype>

#include "host.hpp"
#include "text.hpp"

namespace esetcd {
namespace {

std::string baseName(const std::string& path) {
  return path.substr(path.find_last_of('/') + 1);
}

bool isNodeProgram(const std::string& word) {
  std::string base = baseName(word);
  return base == "eswrapper" || base == "elasticsearch" || base == "opensearch";
}

bool isStartScript(const std::string& word) {
  std::string base = baseName(word);
  return base == "docker-entrypoint.sh" || base == "opensearch-docker-entrypoint.sh";
}

// Every argument is an option; the value of a bare "-E" (Elasticsearch takes "-E key=value"
// as well as "-Ekey=value") counts as part of it.
bool allOptions(std::vector<std::string>::const_iterator first,
                std::vector<std::string>::const_iterator last) {
  for (auto it = first; it != last; ++it) {
    if (it->empty() || (*it)[0] != '-') return false;
    if (*it == "-E" && it + 1 != last) ++it;
  }
  return true;
}

bool parsePort(const std::string& text, int& out) {
  if (text.empty() || text.size() > 5) return false;
  if (!std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); }))
    return false;
  int port = std::stoi(text);
  if (port < 1 || port > 65535) return false;
  out = port;
  return true;
}

// "key=value" into the setting; false when there is no '=' or no key.
bool splitSetting(const std::string& text, const std::string& arg, CommandLineSetting& out) {
  size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0) return false;
  out = {text.substr(0, eq), text.substr(eq + 1), arg};
  return true;
}

bool startsWith(const std::string& text, const std::string& prefix) {
  return text.rfind(prefix, 0) == 0;
}

}  // namespace

CommandClass classifyCommand(const std::vector<std::string>& command) {
  CommandClass out;
  if (command.empty()) {
    out = {true, true, "no command: the image's start command"};
    return out;
  }
  const std::string& program = command[0];
  if (allOptions(command.begin(), command.end())) {
    out = {true, true, "options only (" + program + " ...): given to the image's start command"};
    return out;
  }
  if (isNodeProgram(program)) {
    out = {true, false, program + " starts the node"};
    return out;
  }
  if (isStartScript(program)) {
    // The official scripts start the node for these and exec anything else unchanged.
    if (command.size() == 1 || allOptions(command.begin() + 1, command.end())) {
      out = {true, false, program + " is the image's start script"};
    } else if (isNodeProgram(command[1])) {
      out = {true, false, program + " " + command[1] + " starts the node"};
    } else {
      out = {false, false, program + " runs " + command[1] + ", which does not start the node"};
    }
    return out;
  }
  out = {false, false, program + " does not start the node"};
  return out;
}

std::vector<CommandLineSetting> commandLineSettings(const std::vector<std::string>& command) {
  std::vector<CommandLineSetting> out;
  CommandLineSetting setting;
  for (size_t i = 0; i < command.size(); ++i) {
    const std::string& arg = command[i];
    if (arg == "-E" && i + 1 < command.size()) {
      if (splitSetting(command[i + 1], arg + " " + command[i + 1], setting)) out.push_back(setting);
      ++i;
    } else if (startsWith(arg, "-Des.")) {
      if (splitSetting(arg.substr(5), arg, setting)) out.push_back(setting);
    } else if (startsWith(arg, "-E")) {
      if (splitSetting(arg.substr(2), arg, setting)) out.push_back(setting);
    } else if (startsWith(arg, "--") && splitSetting(arg.substr(2), arg, setting) &&
               setting.key.find('.') != std::string::npos) {
      out.push_back(setting);  // 1.x: --node.name=x; options of the start script have no dots
    }
  }
  return out;
}

MergedSettings mergeCommandSettings(const std::vector<std::string>& command,
                                    const NodeSettings& ours, bool appendingDiscovery) {
  MergedSettings out;
  out.settings = ours;
  NodeSettings& s = out.settings;
  // The published transport port follows the bound one unless it was set apart.
  bool publishFollowsBind = ours.self.transportPort == ours.transportBindPort;
  bool publishGiven = false;
  auto fail = [&](const CommandLineSetting& u, const std::string& why) {
    out.errors.push_back("argument \"" + printableText(u.arg) + "\" of the command: " + why);
  };
  for (const auto& u : commandLineSettings(command)) {
    const std::string& key = u.key;
    int port = 0;
    std::string problem = textProblem(u.value);
    if (!problem.empty() && (key == "node.name" || key == "cluster.name" ||
                             key == "network.publish_host" || key == "node.roles")) {
      // Registered in etcd as JSON: checked like our own settings.
      fail(u, key + " " + problem);
      continue;
    }
    if (key == "node.name") {
      if (u.value.empty()) fail(u, "node.name must not be empty");
      s.self.nodeName = u.value;
    } else if (key == "cluster.name") {
      s.clusterName = u.value;
    } else if (key == "network.publish_host") {
      if (auto host = validHost(u.value))
        s.self.publishHost = *host;
      else
        fail(u, "network.publish_host must be one IP address or DNS name (it is registered): " +
                    printableText(u.value) + " " + host.error().message);
    } else if (key == "http.port") {
      if (!parsePort(u.value, port))
        fail(u, "http.port must be one port number, not a range: it is registered and probed");
      s.self.httpPort = port;
    } else if (key == "transport.port" || key == "transport.tcp.port") {
      if (!parsePort(u.value, port))
        fail(u, key + " must be one port number, not a range: it is registered");
      s.transportBindPort = port;
      if (publishFollowsBind && !publishGiven) s.self.transportPort = port;
      out.userKeys.insert({"transport.port", "transport.tcp.port"});
    } else if (key == "transport.publish_port") {
      if (!parsePort(u.value, port)) fail(u, "transport.publish_port must be one port number");
      s.self.transportPort = port;
      publishGiven = true;
    } else if (key == "discovery.type" && u.value == "single-node") {
      s.singleNode = true;
    } else if (key == "discovery.type" && u.value == "multi-node") {
      continue;  // the default, and what etcd discovery is
    } else if (appendingDiscovery && startsWith(key, "discovery.")) {
      fail(u, key +
                  " contradicts discovery through etcd, which sets the seed hosts itself; remove "
                  "it, or set DISCOVERY=off");
    } else if (appendingDiscovery && (key == "cluster.initial_master_nodes" ||
                                      key == "cluster.initial_cluster_manager_nodes")) {
      fail(u, key +
                  " contradicts discovery through etcd, which decides the initial masters once "
                  "per cluster; remove it, or set DISCOVERY=off");
    } else {
      continue;
    }
    out.userKeys.insert(key);
    out.adopted.push_back(key + "=" + u.value);
  }
  return out;
}

DiscoveryChoice chooseDiscovery(DiscoveryMode mode, const CommandClass& command) {
  switch (mode) {
    case DiscoveryMode::On:
      return {true, "discovery on (DISCOVERY=on): " + command.reason};
    case DiscoveryMode::Off:
      return {false,
              "discovery off (DISCOVERY=off): supervising the command only; etcd is never "
              "contacted"};
    case DiscoveryMode::Auto:
      break;
  }
  if (command.startsNode) return {true, "discovery on (DISCOVERY=auto): " + command.reason};
  return {false, "discovery off (DISCOVERY=auto): " + command.reason +
                     "; supervising it only: no etcd, no registration, no seed file "
                     "(DISCOVERY=on to discover anyway)"};
}

}  // namespace esetcd

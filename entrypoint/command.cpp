#include "command.hpp"

#include <algorithm>

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

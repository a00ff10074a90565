#include "node_api.hpp"

#include "etcd_codec.hpp"
#include "text.hpp"

namespace esetcd {
namespace {

// Drops a " # comment" that is not inside quotes.
std::string withoutComment(const std::string& text) {
  char quote = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char ch = text[i];
    if (quote != 0) {
      if (ch == quote) quote = 0;
    } else if (ch == '"' || ch == '\'') {
      quote = ch;
    } else if (ch == '#' && (i == 0 || text[i - 1] == ' ' || text[i - 1] == '\t')) {
      return text.substr(0, i);
    }
  }
  return text;
}

std::string unquote(const std::string& text) {
  if (text.size() >= 2 && (text[0] == '"' || text[0] == '\'') && text.back() == text[0])
    return text.substr(1, text.size() - 2);
  return text;
}

// The position of the ':' that ends a mapping key, or npos.
size_t keyEnd(const std::string& content) {
  char quote = 0;
  for (size_t i = 0; i < content.size(); ++i) {
    char ch = content[i];
    if (quote != 0) {
      if (ch == quote) quote = 0;
    } else if (ch == '"' || ch == '\'') {
      quote = ch;
    } else if (ch == ':' && (i + 1 == content.size() || content[i + 1] == ' ')) {
      return i;
    }
  }
  return std::string::npos;
}

bool isTrue(const std::optional<std::string>& value) {
  return value && (*value == "true" || *value == "TRUE" || *value == "True");
}

bool isFalse(const std::optional<std::string>& value) {
  return value && (*value == "false" || *value == "FALSE" || *value == "False");
}

}  // namespace

// A flow sequence of scalars, "[a, 'b']", as "a,b"; nullopt for anything else (nested
// collections, a comma inside quotes).
std::optional<std::string> flowList(const std::string& value) {
  if (value.size() < 2 || value.front() != '[' || value.back() != ']') return std::nullopt;
  std::string inner = value.substr(1, value.size() - 2);
  if (inner.find_first_of("[]{}") != std::string::npos) return std::nullopt;
  std::string joined;
  size_t start = 0;
  bool any = false;
  while (start <= inner.size()) {
    size_t comma = inner.find(',', start);
    if (comma == std::string::npos) comma = inner.size();
    std::string item = unquote(trim(inner.substr(start, comma - start)));
    start = comma + 1;
    if (item.empty()) continue;
    if (item.find(',') != std::string::npos) return std::nullopt;
    joined += (any ? "," : "") + item;
    any = true;
  }
  return joined;
}

std::map<std::string, std::string> flattenYaml(const std::string& text) {
  std::map<std::string, std::string> out;
  struct Level {
    size_t indent;
    std::string key;
  };
  std::vector<Level> parents;
  // The key whose value is a block sequence being read ("key:" then "- item" lines).
  std::string listKey;
  size_t listIndent = 0;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    start = end + 1;
    const size_t indent = line.find_first_not_of(' ');
    std::string content = trim(withoutComment(line));
    if (indent == std::string::npos || content.empty() || content.rfind("...", 0) == 0) continue;
    if (content[0] == '-') {
      // An item of a block sequence: kept when it is a scalar under the key just read.
      std::string item = unquote(trim(content.substr(1)));
      bool scalar = content.size() == 1 || content[1] == ' ';
      if (listKey.empty() || indent < listIndent || !scalar || item.empty() ||
          keyEnd(item) != std::string::npos || item[0] == '[' || item[0] == '{') {
        if (!listKey.empty() && indent >= listIndent) out.erase(listKey);  // not a plain list
        listKey.clear();
        continue;
      }
      std::string& joined = out[listKey];
      joined += (joined.empty() ? "" : ",") + item;
      continue;
    }
    size_t colon = keyEnd(content);
    if (colon == std::string::npos) continue;
    listKey.clear();
    while (!parents.empty() && parents.back().indent >= indent) parents.pop_back();
    std::string key = unquote(trim(content.substr(0, colon)));
    if (key.empty()) continue;  // ": value" is no setting (found by fuzzing)
    std::string value = trim(content.substr(colon + 1));
    std::string full;
    for (const auto& p : parents) full += p.key + ".";
    full += key;
    if (value.empty()) {
      parents.push_back({indent, key});
      listKey = full;
      listIndent = indent;
      continue;
    }
    if (value[0] == '[') {
      if (auto list = flowList(value)) out[full] = *list;
      continue;
    }
    if (value[0] == '{' || value[0] == '|' || value[0] == '>') continue;
    out[full] = unquote(value);
  }
  return out;
}

std::optional<std::string> nodeSetting(const NodeSettingSources& sources, const std::string& name) {
  const std::string flag = "-E" + name + "=";
  std::optional<std::string> fromCommand;
  for (const auto& arg : sources.command)
    if (arg.rfind(flag, 0) == 0) fromCommand = arg.substr(flag.size());
  if (fromCommand) return fromCommand;
  if (auto it = sources.env.find(name); it != sources.env.end()) return it->second;
  if (auto it = sources.configFile.find(name); it != sources.configFile.end()) return it->second;
  return std::nullopt;
}

bool nodeServesHttps(const NodeSettingSources& sources, Distribution distribution) {
  if (distribution == Distribution::OpenSearch) {
    return !isTrue(nodeSetting(sources, "plugins.security.disabled")) &&
           isTrue(nodeSetting(sources, "plugins.security.ssl.http.enabled"));
  }
  return !isFalse(nodeSetting(sources, "xpack.security.enabled")) &&
         isTrue(nodeSetting(sources, "xpack.security.http.ssl.enabled"));
}

NodeApi resolveNodeApi(const Config& c, Distribution distribution, bool https,
                       bool defaultCaPresent, int httpPort) {
  NodeApi api;
  api.baseUrl = c.healthUrl.empty() ? (https ? "https" : "http") + std::string("://127.0.0.1:") +
                                          std::to_string(httpPort != 0 ? httpPort : c.httpPort)
                                    : c.healthUrl;
  api.tls = c.healthTls;
  if (api.tls.caFile.empty() && defaultCaPresent)
    api.tls.caFile = c.esPathConf + "/certs/http_ca.crt";
  if (!c.healthApiKey.empty()) {
    api.authorization = "ApiKey " + c.healthApiKey;
    api.principal = "an API key";
    return api;
  }
  // The built-in superuser of each distribution, whose password the official images take.
  const bool open = distribution == Distribution::OpenSearch;
  std::string user = c.healthUsername.empty() ? (open ? "admin" : "elastic") : c.healthUsername;
  std::string password = c.healthPassword;
  if (password.empty()) password = open ? c.opensearchAdminPassword : c.elasticPassword;
  if (password.empty()) return api;
  api.authorization = "Basic " + codec::base64Encode(user + ":" + password);
  api.principal = "user \"" + user + "\"";
  return api;
}

std::string describeNodeApi(const NodeApi& api) {
  std::string text = api.baseUrl;
  if (api.baseUrl.rfind("https:", 0) == 0) {
    text += ", CA " + (api.tls.caFile.empty() ? std::string("system bundle") : api.tls.caFile);
    if (api.tls.verify == TlsVerify::Certificate) text += " (host name not checked)";
    if (api.tls.verify == TlsVerify::None) text += " (certificate not checked)";
    if (!api.tls.certFile.empty()) text += ", client certificate " + api.tls.certFile;
  }
  text += api.principal.empty() ? ", no credentials" : ", as " + api.principal;
  return text;
}

HttpResponse nodeGet(const NodeApi& api, const std::string& path, std::chrono::milliseconds timeout,
                     const std::atomic<bool>* abort) {
  HttpRequest request;
  request.url = api.baseUrl + path;
  request.timeout = timeout;
  if (!api.authorization.empty()) request.headers.push_back("Authorization: " + api.authorization);
  return httpPerform(request, api.tls, abort);
}

}  // namespace esetcd

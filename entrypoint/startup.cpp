#include "startup.hpp"

#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <random>

#include "backoff.hpp"
#include "bootstrap.hpp"
#include "http.hpp"
#include "identity.hpp"
#include "log.hpp"
#include "roles.hpp"
#include "seed_file.hpp"
#include "text.hpp"

namespace esetcd {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::duration_cast;

std::vector<std::string> listDirectory(const std::string& dir) {
  std::vector<std::string> names;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) names.emplace_back(e->d_name);
    closedir(d);
  }
  return names;
}

// What is wrong with the home when something must be found in it, or "": named by the setting
// that gave it, or, when none did, by the homes that were looked for.
std::string homeProblem(const Config& c) {
  if (c.esHomeFrom.empty()) {
    if (pathExists(c.esHome)) return "";
    return "ES_HOME (--es-home) is not set and " + c.layoutReason +
           ": set ES_HOME to the node's installation directory";
  }
  if (pathExists(c.esHome)) return "";
  return c.esHomeFrom + " = \"" + c.esHome + "\": no such directory";
}

std::string resolveFlavor(const Config& c, Flavor& flavor) {
  auto detected = detectFlavor(listDirectory(c.esHome + "/lib"), c.distribution);
  if (c.version.empty()) {
    if (std::string why = homeProblem(c); !why.empty())
      return why + " (ES_VERSION is not set, so the version is read from its lib/)";
    if (!detected) {
      return "ES_VERSION is not set and " + (c.esHomeFrom.empty() ? "ES_HOME" : c.esHomeFrom) +
             " = \"" + c.esHome +
             "\" has no lib/elasticsearch-<version>.jar or lib/opensearch-<version>.jar; set "
             "ES_VERSION";
    }
    flavor = *detected;
    return "";
  }
  auto version = parseVersion(c.version);
  if (!version) return "ES_VERSION (--es-version) = \"" + c.version + "\": must look like 8.15.0";
  flavor.version = *version;
  bool open =
      c.distribution == "opensearch" ||
      (c.distribution == "auto" && detected && detected->distribution == Distribution::OpenSearch);
  flavor.distribution = open ? Distribution::OpenSearch : Distribution::Elasticsearch;
  return "";
}

// The image's own start command: the official start script when there is one (it applies the
// image's env conventions, *_FILE secrets, the keystore, OpenSearch's security switches), else
// the node's own start script.
std::vector<std::string> defaultCommand(const Config& c, const Flavor& flavor) {
  std::vector<std::string> argv = imageStartCommand(c.esHome, isExecutable);
  if (!argv.empty()) return argv;
  return {c.esHome + "/" + startScript(flavor)};
}

// Whether the command is the node's bin/ script in the home: the default start command (or
// options only) in an image without a start script of its own.
bool needsHomeToStart(const Config& c, const CommandClass& command) {
  return command.appendToDefault && imageStartCommand(c.esHome, isExecutable).empty();
}

// The command as given, or the image's start command followed by the options given.
std::vector<std::string> commandFor(const Config& c, const CommandClass& command,
                                    const Flavor& flavor) {
  if (!command.appendToDefault) return c.command;
  std::vector<std::string> argv = defaultCommand(c, flavor);
  argv.insert(argv.end(), c.command.begin(), c.command.end());
  return argv;
}

// The node's own settings file, flattened; empty when it cannot be read (then only -E and the
// env forms count).
std::map<std::string, std::string> nodeConfigFile(const Config& c, const Flavor& flavor) {
  bool open = flavor.distribution == Distribution::OpenSearch;
  bool ok = false;
  std::string text =
      readWholeFile(c.esPathConf + (open ? "/opensearch.yml" : "/elasticsearch.yml"), ok);
  return ok ? flattenYaml(text) : std::map<std::string, std::string>();
}

NodeApi resolveProbe(const Config& c, const NodeSetup& setup, const NodeSettingSources& sources) {
  bool https = nodeServesHttps(sources, setup.flavor.distribution);
  bool defaultCa = ::access((c.esPathConf + "/certs/http_ca.crt").c_str(), R_OK) == 0;
  // -Ehttp.port on the command line wins over ES_HTTP_PORT.
  return resolveNodeApi(c, setup.flavor.distribution, https, defaultCa, setup.self.httpPort);
}

}  // namespace

std::vector<std::string> supervisedCommand(const Config& c, const CommandClass& command,
                                           std::vector<std::string>& errors) {
  Flavor flavor;
  // The flavor only names the start script, and only when the image has no start script of its
  // own: a tool run in some other image must not need an Elasticsearch installation.
  if (needsHomeToStart(c, command)) {
    std::string why = resolveFlavor(c, flavor);
    if (why.empty()) why = homeProblem(c);
    if (!why.empty()) errors.push_back(why);
  }
  return commandFor(c, command, flavor);
}

std::vector<std::string> resolveNodeSetup(const Config& c, const CommandClass& command,
                                          NodeSetup& setup) {
  std::vector<std::string> errors;
  std::string why = resolveFlavor(c, setup.flavor);
  if (why.empty() && needsHomeToStart(c, command)) why = homeProblem(c);
  if (!why.empty()) errors.push_back(why);
  std::string host = c.publishHost.empty() ? choosePublishAddress(localAddresses()) : c.publishHost;
  setup.self.publishHost = host;
  setup.self.nodeName = expandNodeName(c.nodeNameTemplate, hostName(), host);
  setup.self.httpPort = c.httpPort;
  setup.self.transportPort = c.transportPublishPort;
  setup.command = commandFor(c, command, setup.flavor);
  setup.passSettings = c.passSettings == PassSettings::Always ||
                       (c.passSettings == PassSettings::Auto && command.startsNode);
  NodeSettings ours{setup.self, c.clusterName, c.transportPort, c.singleNode};
  MergedSettings merged = mergeCommandSettings(setup.command, ours, setup.passSettings);
  errors.insert(errors.end(), merged.errors.begin(), merged.errors.end());
  for (const auto& setting : merged.adopted)
    logInfo("the command sets " + setting + ": that value is used, and not appended again");
  setup.self = merged.settings.self;
  setup.clusterName = merged.settings.clusterName;
  setup.transportBindPort = merged.settings.transportBindPort;
  setup.singleNode = merged.settings.singleNode;
  setup.userKeys = merged.userKeys;
  if (setup.self.publishHost.empty())
    errors.push_back("ES_PUBLISH_HOST (--es-publish-host) is not set and no address was detected");
  if (usesSeedFile(setup.flavor)) setup.seedFile = c.esPathConf + "/unicast_hosts.txt";
  setup.cacheFile = c.stateDir + "/.es-etcd-entrypoint-peers";
  setup.freshData = isFreshDataDir(listDirectory(c.esPathData));
  NodeSettingSources sources{setup.command, c.envNodeSettings, nodeConfigFile(c, setup.flavor)};
  setup.roles = nodeRoles(sources);
  for (const auto& role : setup.roles.roles.value_or(std::vector<std::string>{})) {
    std::string problem = textProblem(role);
    if (!problem.empty())
      errors.push_back("node.roles from " + printableText(setup.roles.source) + ": " + problem);
  }
  if (std::string problem = textProblem(setup.self.nodeName); !problem.empty()) {
    // {hostname} comes from the system, not from the setting.
    errors.push_back("ES_NODE_NAME (--es-node-name) = \"" + c.nodeNameTemplate +
                     "\": the node name it gives " + problem);
  }
  setup.self.roles = setup.roles.roles;
  setup.self.masterEligible = setup.roles.masterEligible;
  setup.nodeApi = resolveProbe(c, setup, sources);
  return errors;
}

namespace {

StartGuard* gStartGuard = nullptr;

// beforeTheStartWaits's work, not run yet.
std::function<void()>& waitWork() {
  static std::function<void()> work;
  return work;
}

void runWaitWork() {
  if (auto work = std::move(waitWork())) {
    waitWork() = nullptr;
    work();
  }
}

EndpointMemory processEndpointMemory() {
  static const EndpointMemory memory = std::make_shared<std::atomic<size_t>>(0);
  return memory;
}

Deadline startDeadline() {
  static const Deadline deadline = std::make_shared<std::atomic<Clock::rep>>(0);
  return deadline;
}

}  // namespace

void useStartGuard(StartGuard* guard) {
  gStartGuard = guard;
  if (guard == nullptr) return httpWatchOnThisThread({});
  HttpThreadWatch watch;
  watch.fd = guard->fd();
  watch.onReadable = [guard] { guard->takeSignals(); };
  watch.onSlow = runWaitWork;
  watch.slowAfter = kSlowStartRequest;
  httpWatchOnThisThread(std::move(watch));
}

void beforeTheStartWaits(std::function<void()> work) {
  waitWork() = std::move(work);
}

int sleepUnlessStopped(std::chrono::milliseconds d) {
  runWaitWork();
  if (gStartGuard != nullptr) return gStartGuard->sleep(d);
  return waitForStopSignal(d);
}

EtcdOptions etcdOptions(const Config& c, const std::atomic<bool>* abort) {
  EtcdOptions o;
  o.endpoints = c.etcdEndpoints;
  o.tls = c.tls;
  o.timeout = c.etcdTimeout;
  o.username = c.etcdUsername;
  o.password = c.etcdPassword;
  o.abort = abort != nullptr ? abort : gStartGuard != nullptr ? gStartGuard->abortFlag() : nullptr;
  o.lastAnswered = processEndpointMemory();
  o.deadline = startDeadline();
  return o;
}

std::string currentEtcdEndpoint(const std::vector<std::string>& endpoints) {
  if (endpoints.empty()) return "";
  return endpoints[processEndpointMemory()->load() % endpoints.size()];
}

// Reads the peers, retrying with backoff for ETCD_START_TIMEOUT; never blocks longer.
namespace {

// Enough seeds for any cluster, and a bounded start: a node needs a few reachable peers, not
// all of them (the monitor's later listings are complete).
constexpr size_t kStartListLimit = 1000;

// One listing of the registrations; with ETCD_API=auto the listing itself tells the API apart
// (a v2-only etcd answers the v3 path with 404), so start-up costs one request, not two.
Result<PeerSnapshot> listOnce(const Config& c, std::unique_ptr<Store>& store) {
  bool guessing = !store && c.etcdApi == "auto";
  if (!store) {
    auto made = makeStore(guessing ? "v3" : c.etcdApi, etcdOptions(c, nullptr));
    if (!made) return made.error();
    store = std::move(made.value());
  }
  auto snapshot = readPeers(*store, c.prefix, "", kStartListLimit);
  if (guessing && !snapshot && snapshot.error().kind == ErrorKind::Status &&
      snapshot.error().code == 404) {
    logInfo("etcd has no v3 gateway: using the v2 keys API");
    store = std::move(makeStore("v2", etcdOptions(c, nullptr)).value());
    snapshot = readPeers(*store, c.prefix, "", kStartListLimit);
  }
  if (!snapshot && guessing) store.reset();  // decide the API again on the next attempt
  return snapshot;
}

}  // namespace

StartRead readPeersAtStart(const Config& c) {
  StartRead out;
  std::mt19937 random(static_cast<unsigned>(getpid()));
  std::uniform_real_distribution<double> jitter(0.0, 1.0);
  auto deadline = Clock::now() + c.etcdStartTimeout;
  // The bound holds for every request, not only between attempts; the later ones (bootstrap
  // wait, registration) have none.
  if (c.etcdStartTimeout.count() > 0) startDeadline()->store(deadline.time_since_epoch().count());
  struct Clear {
    ~Clear() { startDeadline()->store(0); }
  } clear;
  for (int attempt = 0;; ++attempt) {
    auto snapshot = listOnce(c, out.store);
    if (snapshot) {
      out.snapshot = snapshot.value();
      return out;
    }
    if (snapshot.error().kind == ErrorKind::Aborted) {
      out.stopSignal = gStartGuard != nullptr ? gStartGuard->stopSignal() : 0;
      if (out.stopSignal) return out;
    }
    if (snapshot.error().kind == ErrorKind::Auth) {
      out.refused = snapshot.error();
      return out;
    }
    std::string failure = snapshot.error().message;
    auto left = duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      logEvent(LogLevel::Warn, "etcd-unreachable",
               "etcd did not answer within ETCD_START_TIMEOUT: " + failure,
               {{"event.reason", failure}, {"error.type", toString(snapshot.error().kind)}});
      return out;
    }
    auto delay = std::min(left, backoffDelay(attempt, std::chrono::milliseconds(200),
                                             std::chrono::milliseconds(5000), jitter(random)));
    logEvent(LogLevel::Warn, "etcd-unreachable",
             "cannot read peers from etcd (attempt " + std::to_string(attempt + 1) +
                 "): " + failure + "; retrying in " + std::to_string(delay.count()) + "ms",
             {{"event.reason", failure}, {"error.type", toString(snapshot.error().kind)}});
    out.stopSignal = sleepUnlessStopped(delay);
    if (out.stopSignal) return out;
  }
}

Result<size_t> countV2Registrations(const Config& c) {
  auto store = makeStore("v2", etcdOptions(c, nullptr));
  if (!store) return store.error();
  auto snapshot = readPeers(*store.value(), c.prefix, "", kStartListLimit);
  if (snapshot) return snapshot->peers.size();
  const Error& error = snapshot.error();
  if (error.kind == ErrorKind::Status && error.code == 404) return size_t{0};
  return error;
}

std::vector<std::string> startSeeds(const std::optional<PeerSnapshot>& snapshot,
                                    const NodeSetup& setup) {
  if (snapshot) return seedHosts(snapshot->peers, setup.self);
  bool ok = false;
  std::string cached = readWholeFile(setup.cacheFile, ok);
  if (ok) {
    auto seeds = parseSeedFileText(cached);
    logWarn("starting with the " + std::to_string(seeds.size()) + " cached peers from " +
            setup.cacheFile);
    return seeds;
  }
  logWarn("starting with no peers: etcd unreachable and no cached peer list");
  return {};
}

}  // namespace esetcd

#include "app.hpp"

#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <iostream>
#include <random>
#include <thread>

#include "assembly.hpp"
#include "backoff.hpp"
#include "config.hpp"
#include "etcd.hpp"
#include "exit_codes.hpp"
#include "identity.hpp"
#include "lazy_store.hpp"
#include "log.hpp"
#include "monitor.hpp"
#include "seed_file.hpp"
#include "supervisor.hpp"

extern char** environ;

namespace esetcd {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::duration_cast;

// Everything decided before the child starts.
struct Plan {
  Flavor flavor;
  Identity self;
  std::vector<std::string> command;
  bool passSettings = false;
  std::string seedFile;  // empty: this version takes seeds on the command line only
  std::string cacheFile;
};

std::vector<std::string> listDirectory(const std::string& dir) {
  std::vector<std::string> names;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) names.emplace_back(e->d_name);
    closedir(d);
  }
  return names;
}

bool isExecutable(const std::string& path) {
  return access(path.c_str(), X_OK) == 0;
}

std::string resolveFlavor(const Config& c, Flavor& flavor) {
  auto detected = detectFlavor(listDirectory(c.esHome + "/lib"), c.distribution);
  if (c.version.empty()) {
    if (!detected) {
      return "ES_VERSION is not set and ES_HOME (--es-home) = \"" + c.esHome +
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

// The image's own start command: the official entrypoint script when there is one (it applies
// the image's env conventions, *_FILE secrets and the keystore), else the start script.
std::vector<std::string> defaultCommand(const Config& c, const Flavor& flavor) {
  const std::string official = "/usr/local/bin/docker-entrypoint.sh";
  if (isExecutable(official)) return {official, "eswrapper"};
  return {c.esHome + "/" + startScript(flavor)};
}

std::vector<std::string> resolvePlan(const Config& c, Plan& plan) {
  std::vector<std::string> errors;
  std::string why = resolveFlavor(c, plan.flavor);
  if (!why.empty()) errors.push_back(why);
  std::string host = c.publishHost.empty() ? choosePublishAddress(localAddresses()) : c.publishHost;
  if (host.empty())
    errors.push_back("ES_PUBLISH_HOST (--es-publish-host) is not set and no address was detected");
  plan.self.publishHost = host;
  plan.self.nodeName = expandNodeName(c.nodeNameTemplate, hostName(), host);
  plan.self.httpPort = c.httpPort;
  plan.self.transportPort = c.transportPublishPort;
  plan.command = c.command.empty() ? defaultCommand(c, plan.flavor) : c.command;
  plan.passSettings = c.passSettings == PassSettings::Always ||
                      (c.passSettings == PassSettings::Auto &&
                       (c.command.empty() || isStartCommand(plan.command[0])));
  if (usesSeedFile(plan.flavor)) plan.seedFile = c.esPathConf + "/unicast_hosts.txt";
  plan.cacheFile = c.stateDir + "/.es-etcd-entrypoint-peers";
  return errors;
}

int usageError(const std::vector<std::string>& errors) {
  for (const auto& e : errors) std::cerr << "es-etcd-entrypoint: error: " << e << "\n";
  std::cerr << "es-etcd-entrypoint: nothing was started; see --help\n";
  return exit_code::kUsage;
}

// Sleeps up to `d` unless a stop signal arrives; returns that signal, or 0. Signals are blocked,
// so one sent during start-up waits here instead of being lost.
int sleepUnlessStopped(std::chrono::milliseconds d) {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : {SIGTERM, SIGINT, SIGQUIT}) sigaddset(&set, sig);
  timespec ts{static_cast<time_t>(d.count() / 1000), static_cast<long>(d.count() % 1000) * 1000000};
  int sig = sigtimedwait(&set, nullptr, &ts);
  return sig > 0 ? sig : 0;
}

EtcdOptions etcdOptions(const Config& c, const std::atomic<bool>* abort) {
  EtcdOptions o;
  o.endpoints = c.etcdEndpoints;
  o.tls = c.tls;
  o.timeout = c.etcdTimeout;
  o.username = c.etcdUsername;
  o.password = c.etcdPassword;
  o.abort = abort;
  return o;
}

struct StartRead {
  std::unique_ptr<Store> store;  // null when etcd never answered
  std::optional<PeerSnapshot> snapshot;
  int stopSignal = 0;
};

// Reads the peers, retrying with backoff for ETCD_START_TIMEOUT; never blocks longer.
StartRead readPeersAtStart(const Config& c) {
  StartRead out;
  std::mt19937 random(static_cast<unsigned>(getpid()));
  std::uniform_real_distribution<double> jitter(0.0, 1.0);
  auto deadline = Clock::now() + c.etcdStartTimeout;
  for (int attempt = 0;; ++attempt) {
    std::string failure;
    if (!out.store) {
      auto store = makeStore(c.etcdApi, etcdOptions(c, nullptr));
      if (store)
        out.store = std::move(store.value());
      else
        failure = store.error().message;
    }
    if (out.store) {
      auto snapshot = readPeers(*out.store, c.prefix);
      if (snapshot) {
        out.snapshot = snapshot.value();
        return out;
      }
      failure = snapshot.error().message;
    }
    auto left = duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      logWarn("etcd did not answer within ETCD_START_TIMEOUT: " + failure);
      return out;
    }
    auto delay = std::min(left, backoffDelay(attempt, std::chrono::milliseconds(200),
                                             std::chrono::milliseconds(5000), jitter(random)));
    logWarn("cannot read peers from etcd (attempt " + std::to_string(attempt + 1) +
            "): " + failure + "; retrying in " + std::to_string(delay.count()) + "ms");
    out.stopSignal = sleepUnlessStopped(delay);
    if (out.stopSignal) return out;
  }
}

std::vector<std::string> startSeeds(const StartRead& read, const Plan& plan) {
  if (read.snapshot) return seedHosts(read.snapshot->peers, plan.self);
  bool ok = false;
  std::string cached = readWholeFile(plan.cacheFile, ok);
  if (ok) {
    auto seeds = parseSeedFileText(cached);
    logWarn("starting with the " + std::to_string(seeds.size()) + " cached peers from " +
            plan.cacheFile);
    return seeds;
  }
  logWarn("starting with no peers: etcd unreachable and no cached peer list");
  return {};
}

std::vector<std::string> childEnvironment(const Config& c) {
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string entry(*e);
    std::string name = entry.substr(0, entry.find('='));
    bool absorbed =
        std::find(c.absorbedEnv.begin(), c.absorbedEnv.end(), name) != c.absorbedEnv.end();
    if (!absorbed) env.push_back(entry);
  }
  return env;
}

std::string joinWords(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

// The signal loop: forwards signals, deregisters before stopping, enforces the grace period,
// and returns the child's mapped status.
int supervise(Supervisor& sup, Registrar& registrar, StopFlag& stop, const Config& c) {
  bool stopping = false;
  bool killed = false;
  auto deadline = Clock::time_point::max();
  for (;;) {
    auto wait = std::chrono::milliseconds(10000);
    if (stopping && !killed)
      wait = std::max(
          std::chrono::milliseconds(1),
          std::min(wait, duration_cast<std::chrono::milliseconds>(deadline - Clock::now())));
    SupervisorEvent ev = sup.wait(wait);
    if (ev.type == SupervisorEvent::Type::ChildExited) {
      stop.raise();
      registrar.stop();
      int code = exitCodeForWaitStatus(ev.status);
      logInfo("Elasticsearch exited; exiting with status " + std::to_string(code));
      return code;
    }
    if (ev.type == SupervisorEvent::Type::Signal) {
      if ((ev.signal == SIGTERM || ev.signal == SIGINT) && !stopping) {
        logInfo(std::string("received ") + strsignal(ev.signal) +
                ": deregistering, then stopping Elasticsearch");
        stopping = true;
        stop.raise();
        registrar.stop();
        deadline = Clock::now() + c.stopGrace;
      }
      sup.forward(ev.signal);
    }
    if (stopping && !killed && Clock::now() >= deadline) {
      logWarn("Elasticsearch did not stop within STOP_GRACE; sending SIGKILL");
      sup.killGroup();
      killed = true;
    }
  }
}

MonitorSettings monitorSettings(const Config& c, const Plan& plan) {
  MonitorSettings ms;
  ms.prefix = c.prefix;
  ms.self = plan.self;
  ms.healthUrl = c.healthUrl;
  ms.interval = c.healthInterval;
  ms.healthTimeout = c.healthTimeout;
  ms.followPeers = !plan.seedFile.empty();
  ms.seedFile = plan.seedFile;
  ms.cacheFile = plan.cacheFile;
  return ms;
}

// What the background thread uses. Separate etcd connections: the signal loop's deregistration
// must never wait behind a watch, and the stop flag aborts the watch but not the deregistration.
struct Background {
  Background(const Config& c, const Plan& plan, const std::string& api)
      : registrarStore(api, etcdOptions(c, nullptr)),
        watchStore(api, etcdOptions(c, stop.atomic())),
        registrar(registrarStore, registrationKey(c.prefix, plan.self),
                  registrationValue(plan.self, plan.flavor, c.clusterName), c.ttlSeconds,
                  c.healthFailures),
        monitor(monitorSettings(c, plan), watchStore, registrar, stop) {}

  StopFlag stop;
  LazyStore registrarStore;
  LazyStore watchStore;
  Registrar registrar;
  Monitor monitor;
};

int runChild(const Config& c, const Plan& plan, const StartRead& read, const StartPlan& start) {
  SpawnSpec spec;
  spec.argv = plan.command;
  if (plan.passSettings) spec.argv.insert(spec.argv.end(), start.args.begin(), start.args.end());
  spec.env = childEnvironment(c);
  auto child = spawnChild(spec);
  if (!child) {
    logError("cannot start " + spec.argv[0] + ": " + child.error().message);
    return exitCodeForExecError(static_cast<int>(child.error().code));
  }
  logInfo("started " + joinWords(spec.argv) + " as pid " + std::to_string(child.value()));

  // Keep the API found at start; "auto" again only when etcd never answered.
  std::string api = read.store ? read.store->api() : c.etcdApi;
  // Deliberately never freed: the monitor thread may still be inside a request when the child
  // exits, and main ends the process with _exit without joining it.
  auto* bg = new Background(c, plan, api);
  int64_t revision = read.snapshot ? read.snapshot->revision : 0;
  std::thread([bg, revision] { bg->monitor.run(revision); }).detach();
  Supervisor sup(child.value());
  int code = supervise(sup, bg->registrar, bg->stop, c);
  return code;
}

}  // namespace

int runApp(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  ConfigOutcome parsed = parseConfig(args, currentEnvironment(), readWholeFile);
  if (!parsed.errors.empty()) return usageError(parsed.errors);
  const Config& c = parsed.config;
  if (c.showHelp) {
    std::cout << helpText();
    return 0;
  }
  if (c.showVersion) {
    std::cout << "es-etcd-entrypoint " << ESETCD_VERSION << "\n";
    return 0;
  }
  logInit(c.logLevel);
  Plan plan;
  auto errors = resolvePlan(c, plan);
  if (!errors.empty()) return usageError(errors);
  logInfo("node " + plan.self.nodeName + " at " +
          hostPort(plan.self.publishHost, plan.self.transportPort) + ", " + toString(plan.flavor) +
          ", etcd " + joinWords(c.etcdEndpoints) + " prefix " + c.prefix);

  becomeSubreaperIfNeeded();
  httpGlobalInit();
  StartRead read = readPeersAtStart(c);
  if (read.stopSignal) {
    logInfo(std::string("received ") + strsignal(read.stopSignal) + " before start; exiting");
    return exit_code::kSignalBase + read.stopSignal;
  }
  if (read.snapshot) {
    logInfo("read " + std::to_string(read.snapshot->peers.size()) + " registrations from etcd (" +
            read.store->api() + ")");
    if (auto other = nodeNameConflict(read.snapshot->peers, plan.self)) {
      logError("node name " + plan.self.nodeName + " is registered by a live node at " +
               hostPort(other->host, other->transportPort) + " (" + other->key +
               "); set a unique ES_NODE_NAME. A stale registration expires within ETCD_TTL.");
      return exit_code::kNodeNameTaken;
    }
  }
  StartInputs in;
  in.self = plan.self;
  in.flavor = plan.flavor;
  in.clusterName = c.clusterName;
  in.transportBindPort = c.transportPort;
  in.seeds = startSeeds(read, plan);
  StartPlan start = assembleStart(in);
  logInfo("seed hosts [" + joinWords(in.seeds) + "]");
  if (start.usesSeedFile) {
    std::string error;
    if (writeFileIfChanged(plan.seedFile, start.seedFileText, error) == WriteOutcome::Failed)
      return usageError({"ES_PATH_CONF (--es-path-conf) = \"" + c.esPathConf + "\": " + error});
  }
  if (read.snapshot) publishSeeds(in.seeds, "", plan.cacheFile);
  return runChild(c, plan, read, start);
}

}  // namespace esetcd

#include "app.hpp"

#include <signal.h>

#include <cstdio>
#include <cstring>
#include <functional>
#include <thread>
#include <utility>

#include "assembly.hpp"
#include "bootstrap.hpp"
#include "command.hpp"
#include "dry_run.hpp"
#include "etcd_lazy_store.hpp"
#include "exit_codes.hpp"
#include "health_check.hpp"
#include "http.hpp"
#include "log.hpp"
#include "metrics.hpp"
#include "monitor.hpp"
#include "peer_listing.hpp"
#include "registrar.hpp"
#include "seed_file.hpp"
#include "startup.hpp"
#include "status.hpp"
#include "status_server.hpp"
#include "supervisor.hpp"
#include "text.hpp"

extern char** environ;

namespace esetcd {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::duration_cast;
using std::chrono::milliseconds;

// When runApp began: start_seconds counts from here to the spawn.
Clock::time_point gStarted = Clock::now();

int usageError(const std::vector<std::string>& errors) {
  for (const auto& e : errors) std::fprintf(stderr, "es-etcd-entrypoint: error: %s\n", e.c_str());
  std::fputs("es-etcd-entrypoint: nothing was started; see --help\n", stderr);
  return exit_code::kUsage;
}

std::string joinWords(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

std::string describeRoles(const NodeRoles& roles) {
  std::string text = "roles: ";
  if (!roles.roles)
    text += "not set (every default role)";
  else
    text += roles.roles->empty() ? "[] (coordinating only)" : "[" + joinWords(*roles.roles) + "]";
  if (!roles.source.empty()) text += " from " + roles.source;
  return text + (roles.masterEligible ? ", master-eligible" : ", not master-eligible");
}

MonitorSettings monitorSettings(const Config& c, const NodeSetup& setup) {
  MonitorSettings ms;
  ms.prefix = c.prefix;
  ms.self = setup.self;
  ms.nodeApi = setup.nodeApi;
  ms.interval = c.healthInterval;
  ms.healthTimeout = c.healthTimeout;
  ms.followPeers = !setup.seedFile.empty();
  ms.seedFile = setup.seedFile;
  ms.cacheFile = setup.cacheFile;
  ms.announceDir = StateKeys(c.statePrefix).announceDir;
  if (!initialMastersKey(setup.flavor).empty())
    ms.clusterUuidKey = StateKeys(c.statePrefix).clusterUuid;
  return ms;
}

// What outlives start-up: this node's registration and announcement, and the monitor that keeps
// them and the seeds current. Separate etcd connections: the watch's (aborted by the stop flag),
// the registrar's (which a refresh stuck in etcd may hold), and the stop's own, made when it is
// needed, bounded by STOP_DEREGISTER_TIMEOUT and aborted when that has passed.
struct Background {
  Background(const Config& c, const NodeSetup& setup, const std::string& api)
      : deregisterBudget(c.stopDeregisterTimeout),
        deregisterOptions(etcdOptions(c, nullptr)),
        registrarStore(api, etcdOptions(c, nullptr)),
        watchStore(api, etcdOptions(c, stop.atomic())),
        registrar(registrarStore, registrationKey(c.prefix, setup.self),
                  registrationValue(setup.self, setup.flavor, setup.clusterName), c.ttlSeconds,
                  c.healthFailures, RecordKind::Registration, &statusBoard()),
        announcer(registrarStore,
                  StateKeys(c.statePrefix).announceDir + "/" + setup.self.publishHost,
                  announcementValue(registrationValue(setup.self, setup.flavor, setup.clusterName),
                                    setup.freshData),
                  c.ttlSeconds, 1, RecordKind::Announcement),
        monitor(monitorSettings(c, setup), watchStore, registrar, &announcer, stop) {}

  // Deregistration first, then the announcement: peers stop seeding from us at once. Returns
  // within deregisterBudget whatever etcd does; the leases expire by themselves otherwise.
  void stopAll() {
    stop.raise();
    if (!registrar.registered() && !announcer.registered()) {
      registrar.stop();  // nothing to delete: no request
      announcer.stop();
      return;
    }
    const auto deadline = Clock::now() + deregisterBudget;
    deregisterOptions.abort = nullptr;
    deregisterOptions.timeout = deregisterBudget;
    deregisterOptions.deadline =
        std::make_shared<std::atomic<Clock::rep>>(deadline.time_since_epoch().count());
    auto store = makeStore(registrarStore.api(), deregisterOptions);
    if (!store) {  // the API was never decided: nothing was written
      registrar.stop();
      announcer.stop();
      return;
    }
    registrar.stop(**store);
    announcer.stop(**store);
  }

  std::chrono::milliseconds deregisterBudget;
  EtcdOptions deregisterOptions;  // the stop's connection: its own deadline, no abort flag
  StopFlag stop;
  LazyStore registrarStore;
  LazyStore watchStore;
  Registrar registrar;
  Registrar announcer;
  Monitor monitor;
};

// The Background, made when it is first needed: by the announcement of a start that waits for
// its peers, or once the command runs. A node that joins a formed cluster does not build it (its
// stores, registrars and monitor) before its command starts.
class LazyBackground {
 public:
  LazyBackground(const Config& c, const NodeSetup& setup, std::string api)
      : c_(c), setup_(setup), api_(std::move(api)) {}
  Background& get() {
    // Deliberately never freed: the monitor thread may still be inside a request when the child
    // exits, and main ends the process with _exit without joining it.
    if (made_ == nullptr) made_ = new Background(c_, setup_, api_);
    return *made_;
  }
  // Background::stopAll, when there is something to stop: nothing was announced without it.
  void stopAll() {
    if (made_ != nullptr) made_->stopAll();
  }

 private:
  const Config& c_;
  const NodeSetup& setup_;
  std::string api_;
  Background* made_ = nullptr;
};

// The log's words for this node's bootstrap role.
std::string bootstrapWords(const BootstrapOutcome& out, const NodeSetup& setup) {
  if (out.role == BootstrapRole::Initial)
    return "first formation: " + initialMastersKey(setup.flavor) + "=" +
           joinWords(out.initialMasters);
  if (!setup.self.masterEligible)
    return "not master-eligible: never a candidate of the first bootstrap; joining";
  return setup.freshData ? "the cluster exists or is bootstrapped by others: joining"
                         : "data directory holds node state: joining, never bootstrapping";
}

// One event (bootstrap-role) and /status's bootstrap part.
void reportBootstrap(const std::string& role, const std::string& words,
                     const std::vector<std::string>& masters, const Flavor& flavor) {
  std::vector<LogField> fields = {{"bootstrap.role", role}};
  if (!masters.empty()) fields.emplace_back(initialMastersKey(flavor), masters);
  logEvent(LogLevel::Info, "bootstrap-role", words, fields);
  statusBoard().update([&](StatusSnapshot& s) {
    s.bootstrapRole = role;
    s.bootstrapDecision = words;
    s.initialMasters = masters;
  });
}

// Announces this node and, when it is a fresh node of a cluster not bootstrapped yet, waits
// until the initial master set is decided.
BootstrapOutcome announceAndBootstrap(const Config& c, const NodeSetup& setup, Store& store,
                                      Background& bg) {
  bg.announcer.onProbe(true, "");
  if (initialMastersKey(setup.flavor).empty() || setup.singleNode) {
    reportBootstrap("none",
                    setup.singleNode ? "discovery.type=single-node: no bootstrap"
                                     : "before 7.0: no bootstrap setting (minimum_master_nodes)",
                    {}, setup.flavor);
    return {};
  }
  BootstrapContext ctx{store,
                       StateKeys(c.statePrefix),
                       c.prefix,
                       {},
                       c.bootstrapExpect,
                       {},
                       {},
                       setup.self,
                       c.bootstrapStaleAfter,
                       std::chrono::steady_clock::now};
  ctx.facts.freshData = setup.freshData;
  ctx.facts.masterEligible = setup.self.masterEligible;
  ctx.facts.nodeName = setup.self.nodeName;
  auto lastRefresh = Clock::now();
  ctx.keepAlive = [&] {
    if (Clock::now() - lastRefresh < std::chrono::seconds(2)) return;
    bg.announcer.onProbe(true, "");
    lastRefresh = Clock::now();
  };
  // The bootstrap sleeps only while it waits for peers or for a decision to be replaced.
  ctx.sleep = [](std::chrono::milliseconds d) {
    statusBoard().update([](StatusSnapshot& s) { s.phase = Phase::BootstrapWait; });
    return sleepUnlessStopped(d);
  };
  BootstrapOutcome out = coordinateBootstrap(ctx);
  statusBoard().update([](StatusSnapshot& s) { s.phase = Phase::Starting; });
  if (out.stopSignal || out.nameTaken) return out;
  reportBootstrap(out.role == BootstrapRole::Initial ? "initial" : "join",
                  bootstrapWords(out, setup), out.initialMasters, setup.flavor);
  return out;
}

// Our environment without the variables named in `drop`.
std::vector<std::string> childEnvironment(const std::vector<std::string>& drop) {
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string entry(*e);
    std::string name = entry.substr(0, entry.find('='));
    if (std::find(drop.begin(), drop.end(), name) == drop.end()) env.push_back(entry);
  }
  return env;
}

// How long our own set-up after the spawn waits (the /status listener and its threads, the
// durable peer cache, the stores and the monitor thread): done at once, on 2 cores, it delayed
// the command's first instruction by about 0.1 ms; none of it is needed sooner (the node is not up
// for seconds, and a stop or an exit before it needs none of it).
constexpr std::chrono::milliseconds kOwnSetupDelay{20};

// The signal loop (supervisor.hpp) with this node's stop: deregistration first, within
// STOP_DEREGISTER_TIMEOUT, then the signal; `bg` is null without discovery. `afterStart`: our
// set-up after the spawn, run kOwnSetupDelay later unless the command exited or a stop came.
int supervise(Supervisor& sup, LazyBackground* bg, const Config& c,
              std::function<void()> afterStart = nullptr) {
  StopPlan setup;
  setup.grace = c.stopGrace;
  setup.deregisterTimeout = c.stopDeregisterTimeout;
  setup.afterStart = std::move(afterStart);
  setup.afterStartDelay = kOwnSetupDelay;
  auto stopping = [] {
    statusBoard().update([](StatusSnapshot& s) { s.phase = Phase::Stopping; });
  };
  if (bg)
    setup.deregister = [bg, stopping] {
      stopping();
      bg->stopAll();
    };
  int code = superviseChild(sup, setup);
  stopping();
  metrics().set(metric::kChildExitCode, code);
  logEvent(LogLevel::Info, "exited",
           "the command exited; exiting with status " + std::to_string(code),
           {{"process.exit_code", std::to_string(code)}});
  return code;
}

// The status board's first content.
void startStatus(const Config& c, const NodeSetup& setup) {
  statusBoard().update([&](StatusSnapshot& s) {
    s.version = ESETCD_VERSION;
    s.command = setup.command;
    s.key = registrationKey(c.prefix, setup.self);
    s.ttlSeconds = c.ttlSeconds;
    s.seedFile = setup.seedFile;
    s.etcdApi = c.etcdApi;
    s.settings = c.shownSettings;
  });
  statusBoard().setEndpointSource(
      [endpoints = c.etcdEndpoints] { return withoutUserinfo(currentEtcdEndpoint(endpoints)); });
}

// The STATUS_ADDR listener (unless it is off), opened and served when the command has started,
// or earlier when the start waits (beforeTheStartWaits: an etcd retry, the bootstrap wait, an etcd
// request slower than 100 ms): its socket and threads would otherwise add a tenth of a millisecond
// to every quick start. A listener that cannot bind or serve is logged and left out: the node
// starts all the same.
void serveStatus(const Config& c, const std::string& publishHost) {
  if (!c.statusAddr.enabled) return;
  const bool byDefault = c.statusAddr.host.empty();
  const std::string host = byDefault ? publishHost : c.statusAddr.host;
  // Never freed: its threads serve until the process _exits.
  auto* server = new StatusServer;
  auto listening = server->listen(host, c.statusAddr.port, byDefault);
  Result<Unit> served = listening ? server->serve() : Result<Unit>(listening.error());
  if (!served) {
    logEvent(LogLevel::Error, "status-listen-failed",
             served.error().message + "; going on without /status and /metrics",
             {{"event.reason", served.error().message}});
    return;
  }
  logEvent(LogLevel::Info, "status-listening",
           "serving /status and /metrics on http://" + *listening,
           {{"url.full", "http://" + *listening + "/status"}});
}

// The spawn on /status (phase running, the command and its pid) and start_seconds.
void reportSpawn(const std::vector<std::string>& argv, int pid) {
  std::chrono::duration<double> took = Clock::now() - gStarted;
  metrics().set(metric::kStartSeconds, took.count());
  statusBoard().update([&argv, pid](StatusSnapshot& s) {
    s.phase = Phase::Running;
    s.command = argv;
    s.pid = pid;
  });
}

int spawnAndSupervise(const Config& c, const NodeSetup& setup, const AssembledStart& start,
                      LazyBackground& lazy, int64_t revision,
                      const std::vector<std::string>& seedsToCache,
                      const std::function<void()>& serveStatusOnce) {
  SpawnSpec spec;
  spec.argv = setup.command;
  if (setup.passSettings) spec.argv.insert(spec.argv.end(), start.args.begin(), start.args.end());
  std::vector<std::string> drop = c.absorbedEnv;
  drop.insert(drop.end(), c.secretEnv.begin(), c.secretEnv.end());
  spec.env = childEnvironment(drop);
  auto child = spawnChild(spec);
  if (!child) {
    logError("cannot start " + spec.argv[0] + ": " + child.error().message);
    lazy.stopAll();
    return exitCodeForExecError(static_cast<int>(child.error().code));
  }
  logInfo("started " + joinWords(spec.argv) + " as pid " + std::to_string(child.value()));
  reportSpawn(spec.argv, child.value());
  Supervisor sup(child.value());
  // After the exec, not before: the cache is written durably (fsync) and nothing waits for it.
  auto afterStart = [&serveStatusOnce, &seedsToCache, &setup, &lazy, revision] {
    serveStatusOnce();
    if (!seedsToCache.empty()) publishSeeds(seedsToCache, "", setup.cacheFile);
    Background* bg = &lazy.get();
    std::thread([bg, revision] { bg->monitor.run(revision); }).detach();
  };
  return supervise(sup, &lazy, c, afterStart);
}

// No discovery: PID 1 and nothing else, as tini — no etcd request, no announcement, no seed
// file, no probe. The official image's env forms stay for the command; our secrets do not.
int superviseOnly(const Config& c, const CommandClass& command) {
  std::vector<std::string> errors;
  SpawnSpec spec;
  spec.argv = supervisedCommand(c, command, errors);
  if (!errors.empty()) return usageError(errors);
  spec.env = childEnvironment(c.secretEnv);
  becomeSubreaperIfNeeded();
  auto child = spawnChild(spec);
  if (!child) {
    logError("cannot start " + spec.argv[0] + ": " + child.error().message);
    return exitCodeForExecError(static_cast<int>(child.error().code));
  }
  logInfo("started " + joinWords(spec.argv) + " as pid " + std::to_string(child.value()));
  Supervisor sup(child.value());
  return supervise(sup, nullptr, c);
}

// etcd refused our credentials or their permissions at start: nothing has been written or
// started, and no retry cures it, so say what to fix and stop (a unit's restart policy, or an
// orchestrator, shows the exit code instead of a node that runs unregistered for ever).
int etcdRefused(const Error& error) {
  logError("etcd refused this node: " + error.message + "; nothing was started");
  return exit_code::kEtcdAuth;
}

// Exit 3: `other` holds our node name at another address. `what`: "registered by a live node",
// "announced by a starting node".
int nameTaken(const NodeSetup& setup, const Peer& other, const std::string& what) {
  std::string kind = what.rfind("registered", 0) == 0 ? "registration" : "announcement";
  logError("node name " + setup.self.nodeName + " is " + what + " at " +
           hostPort(other.host, other.transportPort) + " (" + other.key +
           "); set a unique ES_NODE_NAME. A stale " + kind + " expires within ETCD_TTL.");
  return exit_code::kNodeNameTaken;
}

std::optional<int> checkNodeName(const StartRead& read, const NodeSetup& setup) {
  if (!read.snapshot) return std::nullopt;
  auto other = nodeNameConflict(read.snapshot->peers, setup.self);
  if (!other) return std::nullopt;
  return nameTaken(setup, *other, "registered by a live node");
}

// Before this node announces itself: a starting node elsewhere that announced our name first
// keeps it (two fresh nodes with one name would otherwise both wait for ever: names are what the
// bootstrap counts). An etcd failure here is not fatal: the wait re-checks.
std::optional<int> checkAnnouncedName(Store& store, const Config& c, const NodeSetup& setup) {
  std::string dir = StateKeys(c.statePrefix).announceDir;
  auto announced = store.list(dir);
  if (!announced) return std::nullopt;
  auto other = announcedNameConflict(announced->kvs, dir, setup.self);
  if (!other) return std::nullopt;
  return nameTaken(setup, *other, "announced by a starting node");
}

// ETCD_API=auto read no registration in v3. The v2 keyspace is separate: a fleet whose nodes
// register there (the 2014 sidecar's `etcdctl set`) is invisible to v3, and this node would
// announce itself and bootstrap a second cluster beside it. Exit 2 rather than wait: such a
// fleet never moves to v3 by itself, so the wait would last for ever, and the fix is a setting.
std::optional<int> checkV2Fleet(const Config& c) {
  auto count = countV2Registrations(c);
  if (!count) {
    logWarn("cannot tell whether a fleet registers in etcd's v2 keyspace under " + c.prefix + ": " +
            count.error().message + "; going on with v3");
    return std::nullopt;
  }
  if (*count == 0) return std::nullopt;
  logError("etcd holds no v3 registration under " + c.prefix + ", but its v2 keyspace holds " +
           std::to_string(*count) +
           " (a fleet that registers through the v2 keys API, such as the 2014 sidecar); "
           "starting would form a second cluster beside it. Set ETCD_API=v2 to join that fleet "
           "(docs/migrating.md); nothing was started");
  return exit_code::kUsage;
}

// What the start-up steps below share: the resolved setup, the first listing and whether etcd
// answered it, and the start guard that turns a stop signal into an exit before the spawn.
struct Starting {
  explicit Starting(const Config& config) : c(config) {}
  const Config& c;
  NodeSetup setup;
  StartGuard* guard = nullptr;
  StartRead read;
  bool etcdAnswered = false;  // the first listing came back
  bool clusterLive = false;   // ... with a live registration: a formed cluster to join
};

// 128+N after a stop signal N during the start, logged; nothing when none arrived.
std::optional<int> stoppedByStartSignal(const Starting& s) {
  const int sig = s.guard->stopSignal();
  if (sig == 0) return std::nullopt;
  logInfo(std::string("received SIG") + sigabbrev_np(sig) +
          " before the command started; exiting, nothing started");
  return exit_code::kSignalBase + sig;
}

void logNodeSetup(const Config& c, const NodeSetup& setup) {
  logInfo("node " + setup.self.nodeName + " at " +
          hostPort(setup.self.publishHost, setup.self.transportPort) + ", " +
          toString(setup.flavor) +
          (setup.freshData ? ", empty data directory" : ", existing data") + ", etcd " +
          withoutUserinfo(joinWords(c.etcdEndpoints)) + " prefix " + c.prefix);
  logInfo("health probe " + describeNodeApi(setup.nodeApi));
  logInfo(describeRoles(setup.roles));
}

// From the first etcd request to the spawn: a stop signal aborts the request in flight and ends
// the start, and orphans are reaped. Never freed, like `bg`: connections keep its flag.
StartGuard* guardTheStart() {
  auto* guard = new StartGuard;
  useStartGuard(guard);
  return guard;
}

// The one listing before the start, and every reason it gives to stop there: a stop signal,
// credentials etcd refuses, our name taken by a live node, a v2 fleet under ETCD_API=auto, our
// name announced by another starting node.
std::optional<int> readEtcd(Starting& s) {
  const Config& c = s.c;
  s.read = readPeersAtStart(c);
  if (auto code = stoppedByStartSignal(s)) return code;
  if (s.read.refused) return etcdRefused(*s.read.refused);
  if (s.read.snapshot) {
    logInfo("read " + std::to_string(s.read.snapshot->peers.size()) + " registrations from etcd (" +
            s.read.store->api() + ")" +
            (s.read.snapshot->truncated ? ", the first ones only: the node name check covers those"
                                        : ""));
  }
  if (auto code = checkNodeName(s.read, s.setup)) return code;
  s.etcdAnswered = s.read.snapshot.has_value();
  s.clusterLive = s.etcdAnswered && !s.read.snapshot->peers.empty();
  if (!s.etcdAnswered || s.clusterLive) return std::nullopt;
  if (c.etcdApi == "auto" && std::string(s.read.store->api()) == "v3") {
    auto code = checkV2Fleet(c);
    if (auto signalled = stoppedByStartSignal(s)) return signalled;
    if (code) return code;
  }
  auto code = checkAnnouncedName(*s.read.store, c, s.setup);
  if (auto signalled = stoppedByStartSignal(s)) return signalled;
  return code;
}

// What the command line and the seed file are made of, before the bootstrap adds its part.
StartInputs startInputs(const Starting& s) {
  StartInputs in;
  in.self = s.setup.self;
  in.flavor = s.setup.flavor;
  in.clusterName = s.setup.clusterName;
  in.transportBindPort = s.setup.transportBindPort;
  in.userKeys = s.setup.userKeys;
  if (initialMastersKey(s.setup.flavor).empty())
    in.minimumMasterNodes = quorum(s.c.bootstrapExpect);
  return in;
}

// A live registration means a formed cluster: join it with what the one listing gave (the common
// case costs a single etcd request before the exec). Otherwise, when etcd answered, announce this
// node so that starting peers find each other, and settle the first bootstrap when it is due;
// when it did not, start at once with the cached peers (ETCD_START_TIMEOUT is the whole wait).
std::optional<int> settleBootstrap(Starting& s, LazyBackground& bg, StartInputs& in) {
  const Config& c = s.c;
  if (s.etcdAnswered && !s.clusterLive) {
    BootstrapOutcome boot = announceAndBootstrap(c, s.setup, *s.read.store, bg.get());
    if (boot.stopSignal || s.guard->stopSignal()) {
      bg.stopAll();
      if (auto code = stoppedByStartSignal(s)) return code;
      return exit_code::kSignalBase + boot.stopSignal;
    }
    if (boot.nameTaken) {
      bg.stopAll();
      return nameTaken(s.setup, *boot.nameTaken, "announced by a starting node");
    }
    in.initialMasters = boot.initialMasters;
    auto withStarting = readPeers(*s.read.store, c.prefix, StateKeys(c.statePrefix).announceDir);
    if (withStarting) s.read.snapshot = withStarting.value();
  } else if (s.clusterLive) {
    reportBootstrap("join", "nodes are registered: joining their cluster", {}, s.setup.flavor);
  } else if (!s.etcdAnswered && !initialMastersKey(s.setup.flavor).empty() && s.setup.freshData &&
             !s.setup.singleNode) {
    logWarn(
        "etcd unreachable: starting without cluster.initial_master_nodes; a brand-new "
        "cluster cannot form until nodes restart with etcd reachable");
    reportBootstrap("join", "etcd unreachable: no bootstrap", {}, s.setup.flavor);
  }
  in.seeds = startSeeds(s.read.snapshot, s.setup);
  logInfo("seed hosts [" + joinWords(in.seeds) + "]");
  metrics().set(metric::kPeers, static_cast<double>(in.seeds.size()));
  statusBoard().update([&](StatusSnapshot& board) {
    board.peers = in.seeds;
    if (s.read.snapshot) board.watchRevision = s.read.snapshot->revision;
    if (s.read.store) board.etcdApi = s.read.store->api();
  });
  return std::nullopt;
}

std::optional<int> writeSeedFile(const Starting& s, const AssembledStart& start,
                                 LazyBackground& bg) {
  if (!start.usesSeedFile) return std::nullopt;
  auto written = writeFileIfChanged(s.setup.seedFile, start.seedFileText, false);
  if (written) {
    if (*written == WriteOutcome::Written) noteSeedFileWritten();
    return std::nullopt;
  }
  bg.stopAll();
  return usageError(
      {"ES_PATH_CONF (--es-path-conf) = \"" + s.c.esPathConf + "\": " + written.error().message});
}

// The Supervisor owns waitpid from here; signals now wait for it (and reach the command). A stop
// signal that came in before the guard let go still ends the start.
std::optional<int> endStartGuard(const Starting& s, LazyBackground& bg) {
  s.guard->stop();
  useStartGuard(nullptr);
  auto code = stoppedByStartSignal(s);
  if (code) bg.stopAll();
  return code;
}

// The program's outline: which kind of start, the node's setup, etcd, the bootstrap, the command
// line and seed file, the spawn, then supervision until the command exits.
int run(const Config& c) {
  CommandClass command = classifyCommand(c.command);
  DiscoveryChoice choice = chooseDiscovery(c.discovery, command);
  logInfo(choice.line);
  // The installation matters to a start of the node only: a shell or a tool runs in any image.
  if (choice.discover || command.appendToDefault)
    logInfo("layout: home " + c.esHome + " (" + c.layoutReason + "), config " + c.esPathConf);
  if (!choice.discover) return superviseOnly(c, command);

  Starting s(c);
  auto errors = resolveNodeSetup(c, command, s.setup);
  if (!errors.empty()) return usageError(errors);
  logNodeSetup(c, s.setup);
  becomeSubreaperIfNeeded();
  httpGlobalInit();
  startStatus(c, s.setup);
  bool statusServed = false;
  const std::function<void()> serveStatusOnce = [&c, &s, &statusServed] {
    if (!std::exchange(statusServed, true)) serveStatus(c, s.setup.self.publishHost);
  };
  beforeTheStartWaits(serveStatusOnce);
  // Whichever way run() returns, the work must not outlive what it refers to.
  struct DropWaitWork {
    ~DropWaitWork() { beforeTheStartWaits(nullptr); }
  } dropWaitWork;
  s.guard = guardTheStart();
  if (auto code = readEtcd(s)) return *code;

  LazyBackground bg(c, s.setup, s.read.store ? s.read.store->api() : c.etcdApi);
  StartInputs in = startInputs(s);
  if (auto code = settleBootstrap(s, bg, in)) return *code;
  AssembledStart start = assembleStart(in);
  if (auto code = writeSeedFile(s, start, bg)) return *code;
  if (auto code = endStartGuard(s, bg)) return *code;

  std::vector<std::string> cache = s.etcdAnswered ? in.seeds : std::vector<std::string>();
  beforeTheStartWaits(nullptr);  // the start is over: the spawn serves /status itself
  return spawnAndSupervise(c, s.setup, start, bg, s.etcdAnswered ? s.read.snapshot->revision : 0,
                           cache, serveStatusOnce);
}

}  // namespace

// es-etcd-entrypoint reset-bootstrap: deletes a first-bootstrap decision that can no longer be
// carried out (docs/entrypoint.md, "Recovering a failed first bootstrap").
int resetBootstrapCommand(const Config& c) {
  httpGlobalInit();
  StartRead read = readPeersAtStart(c);
  if (read.stopSignal) return exit_code::kSignalBase + read.stopSignal;
  if (read.refused) return etcdRefused(*read.refused);
  if (!read.store) {
    logError("reset-bootstrap: etcd did not answer; nothing was changed");
    return exit_code::kRefused;
  }
  std::string message;
  ResetResult result = resetBootstrap(*read.store, StateKeys(c.statePrefix), c.prefix, message);
  if (result == ResetResult::Refused) {
    logError("reset-bootstrap " + message);
    return exit_code::kRefused;
  }
  logInfo("reset-bootstrap: " + message);
  return 0;
}

int runApp(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  ConfigOutcome parsed = parseConfig(args, currentEnvironment(), readWholeFile, pathExists);
  if (!parsed.errors.empty()) return usageError(parsed.errors);
  const Config& c = parsed.config;
  if (c.showHelp) {
    std::fputs(helpText().c_str(), stdout);
    return 0;
  }
  if (c.showVersion) {
    std::fputs("es-etcd-entrypoint " ESETCD_VERSION "\n", stdout);
    return 0;
  }
  logInit(c.logLevel, c.logFormat);
  if (c.showPlan) return planCommand(c);
  if (c.command == std::vector<std::string>{"reset-bootstrap"}) return resetBootstrapCommand(c);
  if (c.command == std::vector<std::string>{"health"}) return healthCommand(c);
  return run(c);
}

}  // namespace esetcd

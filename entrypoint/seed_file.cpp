#include "seed_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "host.hpp"
#include "log.hpp"
#include "metrics.hpp"
#include "status.hpp"

namespace esetcd {
namespace {

bool sameContent(const std::string& path, const std::string& content) {
  bool ok = false;
  std::string existing = readWholeFile(path, ok);
  return ok && existing == content;
}

// A System error with errno's number and text.
Error systemError(const std::string& what) {
  const int err = errno;
  return Error{ErrorKind::System, what + ": " + std::strerror(err), err};
}

}  // namespace

std::string readWholeFile(const std::string& path, bool& ok) {
  std::string text;
  ok = false;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return text;
  char buffer[8192];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ok = n == 0;
      break;
    }
    text.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return text;
}

Result<WriteOutcome> writeFileIfChanged(const std::string& path, const std::string& content,
                                        bool durable) {
  if (sameContent(path, content)) return WriteOutcome::Unchanged;
  std::string temp = path + ".tmp." + std::to_string(getpid());
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return systemError("cannot create " + temp);
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    done += static_cast<size_t>(n);
  }
  std::optional<Error> failed;
  if (done != content.size() || (durable && ::fsync(fd) != 0))
    failed = systemError("cannot write " + temp);
  ::close(fd);
  if (!failed && ::rename(temp.c_str(), path.c_str()) != 0)
    failed = systemError("cannot rename " + temp + " to " + path);
  if (failed) {
    ::unlink(temp.c_str());
    return *failed;
  }
  return WriteOutcome::Written;
}

std::string seedFileText(const std::vector<std::string>& seeds) {
  std::string text = "# Written by es-etcd-entrypoint from etcd; replaced when peers change.\n";
  for (const auto& seed : seeds) text += seed + "\n";
  return text;
}

std::vector<std::string> parseSeedFileText(const std::string& text) {
  std::vector<std::string> seeds;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    start = end + 1;
    if (!line.empty() && line[0] != '#' && validHostPort(line)) seeds.push_back(line);
  }
  return seeds;
}

void noteSeedFileWritten() {
  metrics().add(metric::kSeedFileWrites);
  statusBoard().update([](StatusSnapshot& s) { s.seedFileChangedMs = wallClockMs(); });
}

void publishSeeds(const std::vector<std::string>& seeds, const std::string& seedFile,
                  const std::string& cacheFile) {
  std::string text = seedFileText(seeds);
  std::string list;
  for (const auto& s : seeds) list += (list.empty() ? "" : ",") + s;
  metrics().set(metric::kPeers, static_cast<double>(seeds.size()));
  statusBoard().update([&seeds](StatusSnapshot& s) { s.peers = seeds; });
  if (!seedFile.empty()) {
    auto written = writeFileIfChanged(seedFile, text, false);
    if (!written)
      logEvent(LogLevel::Error, "seed-hosts-failed",
               "cannot update seed hosts: " + written.error().message,
               {{"file.path", seedFile}, {"event.reason", written.error().message}});
    else if (*written == WriteOutcome::Written) {
      noteSeedFileWritten();
      logEvent(LogLevel::Info, "seed-hosts-changed", "seed hosts now [" + list + "] in " + seedFile,
               {{"peers", seeds}, {"file.path", seedFile}});
    }
  }
  if (cacheFile.empty()) return;
  if (auto cached = writeFileIfChanged(cacheFile, text); !cached)
    logWarn("cannot cache the peer list: " + cached.error().message);
}

}  // namespace esetcd

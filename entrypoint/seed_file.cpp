#include "seed_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace esetcd {
namespace {

bool sameContent(const std::string& path, const std::string& content) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream existing;
  existing << in.rdbuf();
  return existing.str() == content;
}

std::string errnoText(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

}  // namespace

WriteOutcome writeFileIfChanged(const std::string& path, const std::string& content,
                                std::string& error, bool durable) {
  if (sameContent(path, content)) return WriteOutcome::Unchanged;
  std::string temp = path + ".tmp." + std::to_string(getpid());
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    error = errnoText("cannot create " + temp);
    return WriteOutcome::Failed;
  }
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    done += static_cast<size_t>(n);
  }
  bool ok = done == content.size() && (!durable || ::fsync(fd) == 0);
  if (!ok) error = errnoText("cannot write " + temp);
  ::close(fd);
  if (ok && ::rename(temp.c_str(), path.c_str()) != 0) {
    error = errnoText("cannot rename " + temp + " to " + path);
    ok = false;
  }
  if (!ok) {
    ::unlink(temp.c_str());
    return WriteOutcome::Failed;
  }
  return WriteOutcome::Written;
}

}  // namespace esetcd

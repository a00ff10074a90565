/* The supervised "program" of the start-to-exec benchmark.
 *
 * Its first action is to read CLOCK_MONOTONIC, which is one clock for every process on the
 * machine, and write it (nanoseconds) to the file named by argv[1]. benchtool reads the same
 * clock just before it forks the wrapper under test, so the difference is exactly "launched the
 * wrapper -> the child is running", without the wrapper's own shutdown after the child exits.
 *
 * Built with -static so that its own start (no dynamic loader) adds only a few microseconds,
 * the same for every wrapper. Any further arguments (the seed pipeline passes its unicast hosts)
 * are ignored. */
#include <fcntl.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  if (argc < 2) return 2;
  int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return 3;
  dprintf(fd, "%lld\n", (long long)now.tv_sec * 1000000000LL + now.tv_nsec);
  close(fd);
  return 0;
}

/* syscalls: the system calls that move bytes between the kernel and a buffer, given
 * heap buffers that are cold (never touched: absent from RUM's cache) or evicted
 * (written, then pushed out of a small cache). An ordinary program: under rum-run
 * its malloc is RUM's, and every check below must still hold. Prints one line per
 * check (the same plainly and under rum-run); exits 1 on the first failure.
 *
 *   syscalls [MB]        MB: size of each buffer (default 16; use 4x the cache)
 *   syscalls --bench     time read() into a heap buffer vs a local one
 *   syscalls --where S.. for each size S: "S grid" when malloc(S) lies in RUM's arena
 *                        (a mapping of 64 GiB or more), else "S local"; then the same
 *                        for a 100-byte block realloc'ed to 1 MiB */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static size_t nbytes;

static void fail(const char *what) {
  printf("FAIL %s (errno %d: %s)\n", what, errno, strerror(errno));
  exit(1);
}

static uint8_t pattern(size_t i, unsigned seed) { return (uint8_t)((i * 2654435761u + seed) >> 13); }

static void fill(uint8_t *p, size_t n, unsigned seed) {
  for (size_t i = 0; i < n; i++) p[i] = pattern(i, seed);
}

static int check(const uint8_t *p, size_t n, unsigned seed) {
  for (size_t i = 0; i < n; i++)
    if (p[i] != pattern(i, seed)) return -1;
  return 0;
}

/* Push earlier buffers out of a small cache: touch another nbytes. */
static void evict_others(void) {
  uint8_t *junk = malloc(nbytes);
  if (junk == NULL) fail("malloc junk");
  memset(junk, 0x5a, nbytes);
  free(junk);
}

static char path[] = "/tmp/rum-syscalls-XXXXXX";

static int make_file(unsigned seed) {
  int fd = mkstemp(path);
  if (fd < 0) fail("mkstemp");
  unlink(path);
  uint8_t *local = mmap(NULL, nbytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  fill(local, nbytes, seed);
  if (pwrite(fd, local, nbytes, 0) != (ssize_t)nbytes) fail("pwrite local");
  munmap(local, nbytes);
  strcpy(path, "/tmp/rum-syscalls-XXXXXX");
  return fd;
}

static void read_into_cold(void) {
  int fd = make_file(1);
  uint8_t *cold = malloc(nbytes); /* never touched before read() fills it */
  size_t done = 0;
  while (done < nbytes) {
    ssize_t n = read(fd, cold + done, nbytes - done);
    if (n <= 0) fail("read into cold heap pages");
    done += (size_t)n;
  }
  if (check(cold, nbytes, 1) != 0) fail("bytes read into cold pages");
  /* pread and readv into evicted pages. */
  evict_others();
  if (pread(fd, cold, nbytes, 0) != (ssize_t)nbytes || check(cold, nbytes, 1) != 0) fail("pread into evicted pages");
  memset(cold, 0, nbytes);
  evict_others();
  struct iovec iov[2] = {{cold, nbytes / 3}, {cold + nbytes / 3, nbytes - nbytes / 3}};
  lseek(fd, 0, SEEK_SET);
  if (readv(fd, iov, 2) != (ssize_t)nbytes || check(cold, nbytes, 1) != 0) fail("readv into evicted pages");
  /* A struct stat in a cold heap block. */
  struct stat *st = malloc(sizeof(*st) + nbytes / 2);
  evict_others();
  if (fstat(fd, st) != 0 || st->st_size != (off_t)nbytes) fail("fstat into a heap struct");
  free(st);
  free(cold);
  close(fd);
  printf("ok read, pread, readv, fstat into cold and evicted heap pages\n");
}

static void write_from_evicted(void) {
  uint8_t *buf = malloc(nbytes);
  fill(buf, nbytes, 2);
  evict_others();
  int fd = make_file(0);
  if (pwrite(fd, buf, nbytes, 0) != (ssize_t)nbytes) fail("pwrite from evicted pages");
  evict_others();
  lseek(fd, 0, SEEK_SET);
  if (write(fd, buf, nbytes) != (ssize_t)nbytes) fail("write from evicted pages");
  struct iovec iov[2] = {{buf, nbytes / 2}, {buf + nbytes / 2, nbytes / 2}};
  evict_others();
  if (pwritev(fd, iov, 2, (off_t)nbytes) != (ssize_t)nbytes) fail("pwritev from evicted pages");
  uint8_t *local = mmap(NULL, 2 * nbytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (pread(fd, local, 2 * nbytes, 0) != (ssize_t)(2 * nbytes)) fail("pread back");
  if (check(local, nbytes, 2) != 0 || check(local + nbytes, nbytes, 2) != 0) fail("bytes written from evicted pages");
  munmap(local, 2 * nbytes);
  /* stdio: fwrite and fread of more than its buffer go straight to the kernel. */
  FILE *f = tmpfile();
  if (f == NULL || fwrite(buf, 1, nbytes, f) != nbytes) fail("fwrite from evicted pages");
  rewind(f);
  memset(buf, 0, nbytes);
  evict_others();
  if (fread(buf, 1, nbytes, f) != nbytes || check(buf, nbytes, 2) != 0) fail("fread into evicted pages");
  fclose(f);
  free(buf);
  close(fd);
  printf("ok write, pwrite, pwritev, fwrite, fread from and into evicted heap pages\n");
}

struct sender {
  int fd;
  size_t n;
};

static void *send_all(void *arg) {
  struct sender *s = arg;
  uint8_t *b = malloc(s->n); /* a heap buffer of the sender thread too */
  fill(b, s->n, 3);
  size_t done = 0;
  while (done < s->n) {
    ssize_t n = send(s->fd, b + done, s->n - done, 0);
    if (n <= 0) fail("send from heap pages");
    done += (size_t)n;
  }
  free(b);
  return NULL;
}

static void recv_into_cold(void) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) fail("socketpair");
  struct sender s = {sv[1], nbytes};
  pthread_t t;
  pthread_create(&t, NULL, send_all, &s);
  uint8_t *cold = malloc(nbytes);
  size_t done = 0;
  while (done < nbytes) {
    ssize_t n;
    if (done % 2 == 0) {
      n = recv(sv[0], cold + done, nbytes - done, 0);
    } else {
      struct iovec iov = {cold + done, nbytes - done};
      struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
      n = recvmsg(sv[0], &m, 0);
    }
    if (n <= 0) fail("recv into cold heap pages");
    done += (size_t)n;
  }
  pthread_join(t, NULL);
  if (check(cold, nbytes, 3) != 0) fail("bytes received into cold pages");
  /* Datagrams: each recvfrom gets exactly one, whole. */
  int dg[2];
  if (socketpair(AF_UNIX, SOCK_DGRAM, 0, dg) != 0) fail("socketpair dgram");
  for (int i = 0; i < 8; i++) {
    size_t len = 1000 + (size_t)i * 7000;
    if (sendto(dg[1], cold + (size_t)i * 65536, len, 0, NULL, 0) != (ssize_t)len) fail("sendto from heap pages");
  }
  evict_others();
  uint8_t *dst = malloc(nbytes);
  for (int i = 0; i < 8; i++) {
    size_t len = 1000 + (size_t)i * 7000;
    if (recvfrom(dg[0], dst + (size_t)i * 65536, 65536, 0, NULL, NULL) != (ssize_t)len) fail("recvfrom: datagram size");
    if (memcmp(dst + (size_t)i * 65536, cold + (size_t)i * 65536, len) != 0) fail("recvfrom: datagram bytes");
  }
  free(dst);
  free(cold);
  close(sv[0]);
  close(sv[1]);
  close(dg[0]);
  close(dg[1]);
  printf("ok recv, recvmsg, sendto, recvfrom into cold and evicted heap pages\n");
}

static double seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* read() of n bytes from /dev/zero into buf, iterations times: ns per call. */
static double time_reads(int fd, uint8_t *buf, size_t n, int iterations) {
  double t0 = seconds();
  for (int i = 0; i < iterations; i++)
    if (read(fd, buf, n) != (ssize_t)n) fail("read /dev/zero");
  return (seconds() - t0) * 1e9 / iterations;
}

static int bench(void) {
  int fd = open("/dev/zero", O_RDONLY);
  uint8_t *local = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  uint8_t *heap = malloc(1 << 20);
  memset(local, 1, 1 << 20);
  memset(heap, 1, 1 << 20);
  static const size_t sizes[] = {64, 4096, 65536, 1 << 20};
  for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
    int it = sizes[i] >= 65536 ? 2000 : 100000;
    double l = time_reads(fd, local, sizes[i], it), h = time_reads(fd, heap, sizes[i], it);
    printf("{\"scenario\":\"syscall_read\",\"bytes\":%zu,\"local_ns\":%.0f,\"heap_ns\":%.0f,\"ratio\":%.2f}\n", sizes[i], l,
           h, h / l);
  }
  return 0;
}

/* Whether p lies in RUM's arena: a run of adjacent mappings (its regions split it
 * into several) of at least 64 GiB in all, per /proc/self/maps. */
static const char *where(const void *p) {
  static unsigned long lo[4096], hi[4096];
  FILE *f = fopen("/proc/self/maps", "r");
  char line[512];
  int n = 0, at = -1;
  while (f != NULL && n < 4096 && fgets(line, sizeof(line), f) != NULL) {
    if (sscanf(line, "%lx-%lx", &lo[n], &hi[n]) != 2) continue;
    if ((uintptr_t)p >= lo[n] && (uintptr_t)p < hi[n]) at = n;
    n++;
  }
  if (f != NULL) fclose(f);
  if (at < 0) return "local";
  int a = at, b = at;
  while (a > 0 && hi[a - 1] == lo[a]) a--;
  while (b + 1 < n && lo[b + 1] == hi[b]) b++;
  return hi[b] - lo[a] >= (64ul << 30) ? "grid" : "local";
}

static int where_sizes(int argc, char **argv) {
  for (int i = 2; i < argc; i++) {
    size_t n = (size_t)atol(argv[i]);
    void *p = malloc(n);
    printf("%zu %s\n", n, where(p));
  }
  void *p = malloc(100);
  printf("realloc-before %s\n", where(p));
  p = realloc(p, 1 << 20);
  printf("realloc-after %s\n", where(p));
  free(p);
  return 0;
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "--bench") == 0) return bench();
  if (argc > 1 && strcmp(argv[1], "--where") == 0) return where_sizes(argc, argv);
  nbytes = (size_t)(argc > 1 ? atoi(argv[1]) : 16) << 20;
  read_into_cold();
  write_from_evicted();
  recv_into_cold();
  printf("ok all\n");
  return 0;
}

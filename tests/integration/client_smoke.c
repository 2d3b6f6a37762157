/* librum against real memory nodes, through the public API only (rum.h).
 *
 *   client_smoke basic          alloc / write / sync / read back, realloc, calloc, stats
 *   client_smoke big MIB        a MIB-MiB region through a small cache (RUM_CACHE_MB)
 *   client_smoke threads        4 threads faulting the same pages at once
 *   client_smoke lease          stopped past the lease: regions lost, calls fail clearly
 *   client_smoke resize         shrink to one chunk and grow back (leased and named): the
 *                               nodes that lost their chunks are reused, none leaks a region
 *   client_smoke node-gone      a page whose node was killed: the toucher is stopped with a
 *                               message naming the region, the page and the node
 *   client_smoke named-create NAME / named-check NAME / named-free NAME
 *                               a named region kept across processes
 *
 * Exits 0 when every check holds; prints what failed otherwise. RUM_MACHINES names the
 * cluster (tests/integration/with_cluster.sh sets it). */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <rum/rum.h>
#include <rum/rum_admin.h>

static int failures;

#define CHECK(cond)                                                   \
  do {                                                                \
    if (!(cond)) {                                                    \
      fprintf(stderr, "client_smoke: %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      failures++;                                                     \
    }                                                                 \
  } while (0)

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void print_stats(const char *what) {
  struct rum_stats s;
  if (rum_stats(&s) != 0) return;
  printf("%s: faults %llu (read %llu write %llu hits %llu zero %llu) evictions %llu writebacks %llu "
         "readahead %llu rpcs %llu retries %llu in %llu MiB out %llu MiB cache %llu/%llu regions %llu\n",
         what, (unsigned long long)s.faults, (unsigned long long)s.read_faults,
         (unsigned long long)s.write_faults, (unsigned long long)s.hits, (unsigned long long)s.zero_fills,
         (unsigned long long)s.evictions, (unsigned long long)s.writebacks, (unsigned long long)s.readahead,
         (unsigned long long)s.rpcs, (unsigned long long)s.retries, (unsigned long long)(s.bytes_in >> 20),
         (unsigned long long)(s.bytes_out >> 20), (unsigned long long)s.cache_pages,
         (unsigned long long)s.cache_capacity, (unsigned long long)s.regions);
}

static void basic(void) {
  /* Small objects, packed. */
  uint64_t *small[1000];
  for (int i = 0; i < 1000; i++) {
    small[i] = rum_alloc(16);
    CHECK(small[i] != NULL);
    small[i][0] = (uint64_t)i * 7;
    small[i][1] = ~(uint64_t)i;
  }
  /* A large region spread over the nodes. */
  size_t big = 8u << 20;
  uint8_t *b = rum_alloc(big);
  CHECK(b != NULL);
  for (size_t i = 0; i < big; i += 97) b[i] = (uint8_t)(i * 31);
  CHECK(rum_sync() == 0);
  CHECK(rum_refresh(b, big) == 0); /* drop the cache: the next reads come from the nodes */
  for (size_t i = 0; i < big; i += 97) {
    if (b[i] != (uint8_t)(i * 31)) {
      CHECK(b[i] == (uint8_t)(i * 31));
      break;
    }
  }
  for (int i = 0; i < 1000; i++) CHECK(small[i][0] == (uint64_t)i * 7 && small[i][1] == ~(uint64_t)i);
  CHECK(rum_usable_size(b) >= big);
  /* realloc: in place, then moved with the copy done by the nodes. */
  uint8_t *g = rum_realloc(b, 2 * big);
  CHECK(g == b);
  uint8_t *m = rum_realloc(g, 8 * big);
  CHECK(m != NULL && m != g);
  for (size_t i = 0; m != NULL && i < big; i += 97) {
    if (m[i] != (uint8_t)(i * 31)) {
      CHECK(m[i] == (uint8_t)(i * 31));
      break;
    }
  }
  rum_free(m);
  /* calloc overflow and zeroing. */
  errno = 0;
  CHECK(rum_calloc(SIZE_MAX / 2, 4) == NULL && errno == ENOMEM);
  uint32_t *z = rum_calloc(1000, sizeof(uint32_t));
  CHECK(z != NULL);
  for (int i = 0; z != NULL && i < 1000; i++) CHECK(z[i] == 0);
  rum_free(z);
  for (int i = 0; i < 1000; i++) rum_free(small[i]);
  /* rum_alloc_on: a pinned region on node 1. */
  char *on = rum_alloc_on(1, 100000);
  CHECK(on != NULL);
  if (on != NULL) {
    strcpy(on + 99000, "pinned");
    CHECK(rum_flush(on, 100000) == 0);
    CHECK(rum_refresh(on, 100000) == 0);
    CHECK(strcmp(on + 99000, "pinned") == 0);
    rum_free(on);
  }
  errno = 0;
  CHECK(rum_alloc_on(999, 10) == NULL && errno == EINVAL);
  print_stats("basic");
}

static void big_region(size_t mib) {
  size_t bytes = mib << 20;
  uint64_t *w = rum_alloc(bytes);
  CHECK(w != NULL);
  if (w == NULL) return;
  size_t words = bytes / 8;
  double t0 = now_s();
  for (size_t i = 0; i < words; i += 8) w[i] = i * 0x9e3779b97f4a7c15ull;
  double t1 = now_s();
  size_t bad = 0;
  for (size_t i = 0; i < words; i += 8)
    if (w[i] != i * 0x9e3779b97f4a7c15ull) bad++;
  double t2 = now_s();
  CHECK(bad == 0);
  printf("big: %zu MiB written in %.2f s (%.0f MiB/s), read back in %.2f s (%.0f MiB/s), %zu bad words\n",
         mib, t1 - t0, (double)mib / (t1 - t0), t2 - t1, (double)mib / (t2 - t1), bad);
  print_stats("big");
  rum_free(w);
}

struct targ {
  uint64_t *base;
  int index;
  pthread_barrier_t *barrier;
  int bad;
};

static void *thread_main(void *p) {
  struct targ *a = p;
  pthread_barrier_wait(a->barrier);
  for (size_t page = 0; page < 1024; page++) {
    volatile uint64_t *w = a->base + page * 512;
    if (w[100] != page) a->bad++;
    w[8 + a->index] = page * 10 + (uint64_t)a->index;
  }
  return NULL;
}

static void threads(void) {
  uint64_t *base = rum_alloc(1024 * 4096);
  CHECK(base != NULL);
  if (base == NULL) return;
  for (size_t page = 0; page < 1024; page++) base[page * 512 + 100] = page;
  CHECK(rum_sync() == 0 && rum_refresh(base, 1024 * 4096) == 0);
  pthread_barrier_t barrier;
  pthread_barrier_init(&barrier, NULL, 4);
  pthread_t th[4];
  struct targ args[4];
  for (int i = 0; i < 4; i++) {
    args[i] = (struct targ){base, i, &barrier, 0};
    pthread_create(&th[i], NULL, thread_main, &args[i]);
  }
  for (int i = 0; i < 4; i++) {
    pthread_join(th[i], NULL);
    CHECK(args[i].bad == 0);
  }
  CHECK(rum_sync() == 0 && rum_refresh(base, 1024 * 4096) == 0);
  for (size_t page = 0; page < 1024; page++)
    for (int t = 0; t < 4; t++) CHECK(base[page * 512 + 8 + t] == page * 10 + (uint64_t)t);
  print_stats("threads");
  rum_free(base);
}

/* Stop this process past its lease (a helper process wakes it): the nodes reclaim
 * its regions, and the client must then refuse to use them instead of serving
 * someone else's or zero memory. Needs rumd --lease-ms well under a second. */
static void lease(void) {
  char *p = rum_alloc(1 << 20);
  CHECK(p != NULL);
  if (p == NULL) return;
  strcpy(p, "before");
  CHECK(rum_sync() == 0);
  pid_t me = getpid();
  pid_t waker = fork();
  if (waker == 0) {
    usleep(1500 * 1000);
    kill(me, SIGCONT);
    _exit(0);
  }
  kill(me, SIGSTOP);
  waitpid(waker, NULL, 0);
  int rc = 0;
  for (int i = 0; i < 100 && rc != RUM_ELEASE; i++) {
    usleep(20 * 1000);
    rc = rum_flush(p, 1 << 20);
  }
  CHECK(rc == RUM_ELEASE);
  errno = 0;
  CHECK(rum_realloc(p, 4 << 20) == NULL && errno == EIO);
  print_stats("lease");
}

/* Regions held by all nodes together (rum_admin), or -1. */
static long long regions_held(void) {
  struct rum_admin *a;
  char err[256];
  if (rum_admin_open(NULL, &a, err, sizeof err) != 0) return -1;
  long long total = 0;
  for (int i = 0; i < rum_admin_node_count(a); i++) {
    uint32_t id;
    struct rum_node_status st;
    if (rum_admin_node_id(a, i, &id) != 0 || rum_admin_stat(a, id, 2000, &st) != 0) {
      total = -1;
      break;
    }
    total += (long long)st.regions;
  }
  rum_admin_close(a);
  return total;
}

/* A region striped over the nodes shrinks to one chunk (its other nodes keep the
 * registration) and grows back: the grow must reuse those nodes, the bytes kept must
 * be there, the new ones zero, and freeing must leave no region on any node. */
static void shrink_grow(const char *name) {
  /* 40 MiB: a leased block that big is a region of its own (smaller ones are carved
   * out of the heap's regions). */
  size_t big = 40u << 20, small = 200u << 10;
  uint8_t *p = name != NULL ? rum_alloc_named(name, big) : rum_alloc(big);
  CHECK(p != NULL);
  if (p == NULL) return;
  for (size_t page = 0; page < big / 4096; page++) p[page * 4096 + 7] = (uint8_t)(page + 1);
  CHECK(rum_sync() == 0);
  uint8_t *q = rum_realloc(p, small);
  CHECK(q == p);
  uint8_t *g = q != NULL ? rum_realloc(q, big) : NULL;
  CHECK(g == p);
  if (g == NULL) {
    rum_free(q);
    return;
  }
  CHECK(rum_refresh(g, big) == 0);
  for (size_t page = 0; page < small / 4096; page++) CHECK(g[page * 4096 + 7] == (uint8_t)(page + 1));
  CHECK(g[100 * 4096 + 7] == 0 && g[big - 1] == 0);
  memset(g + small, 0x3c, big - small);
  CHECK(rum_sync() == 0 && rum_refresh(g, big) == 0);
  CHECK(g[big - 1] == 0x3c && g[small] == 0x3c);
  if (name != NULL) {
    CHECK(rum_detach(g) == 0);
    size_t size = 0;
    g = rum_attach(name, &size);
    CHECK(g != NULL && size == big);
    if (g == NULL) return;
    CHECK(g[big - 1] == 0x3c && g[7] == 1);
  }
  rum_free(g);
}

static void resize(void) {
  long long before = regions_held();
  CHECK(before >= 0);
  shrink_grow(NULL);
  shrink_grow("it.shrink-grow");
  long long after = regions_held();
  printf("resize: regions on the nodes %lld before, %lld after\n", before, after);
  CHECK(after == before);
  print_stats("resize");
}

/* The child of node_gone: its own client (a fork after rum_init would not inherit the
 * uffd registration), a region pinned on node 2 full of 0xa5, written back and dropped
 * from the cache, then node 2 killed and one byte of page 5 read. That read must never
 * return: the fault cannot be served, and the client must stop the program with a
 * message rather than hand out zeros. Exit 3 (read 0) or 4 (read something) if it did. */
enum { GONE_NODE = 2, GONE_PAGE = 5, GONE_PAGES = 16 };

static _Noreturn void node_gone_child(pid_t node_pid) {
  if (rum_init(NULL) != 0) _exit(10);
  size_t len = (size_t)GONE_PAGES * 4096;
  volatile uint8_t *p = rum_alloc_on(GONE_NODE, len);
  if (p == NULL) _exit(11);
  memset((void *)p, 0xa5, len);
  if (rum_sync() != 0 || rum_refresh((void *)p, len) != 0) _exit(12);
  if (kill(node_pid, SIGKILL) != 0) _exit(13);
  fprintf(stderr, "node-gone: node %d (pid %d) killed; touching page %d\n", GONE_NODE, (int)node_pid,
          GONE_PAGE);
  uint8_t v = p[GONE_PAGE * 4096 + 17];
  fprintf(stderr, "node-gone: the read returned %#x\n", v);
  _exit(v == 0 ? 3 : 4);
}

static pid_t read_pid_file(const char *dir, int node) {
  char path[512];
  snprintf(path, sizeof path, "%s/node-%d.pid", dir, node);
  FILE *f = fopen(path, "r");
  if (f == NULL) return -1;
  int pid = -1;
  if (fscanf(f, "%d", &pid) != 1) pid = -1;
  fclose(f);
  return (pid_t)pid;
}

static void node_gone(void) {
  const char *dir = getenv("RUM_CLUSTER_DIR");
  pid_t node_pid = dir != NULL ? read_pid_file(dir, GONE_NODE) : -1;
  CHECK(node_pid > 0);
  if (node_pid <= 0) return;
  int fds[2];
  CHECK(pipe(fds) == 0);
  double t0 = now_s();
  pid_t child = fork();
  if (child == 0) {
    close(fds[0]);
    dup2(fds[1], STDERR_FILENO);
    node_gone_child(node_pid);
  }
  close(fds[1]);
  char msg[8192];
  size_t got = 0;
  for (;;) {
    ssize_t n = read(fds[0], msg + got, sizeof msg - 1 - got);
    if (n <= 0) break;
    got += (size_t)n;
    if (got == sizeof msg - 1) break;
  }
  msg[got] = '\0';
  close(fds[0]);
  int status = 0;
  CHECK(waitpid(child, &status, 0) == child);
  double took = now_s() - t0;
  printf("node-gone: child %s %d after %.1f s; its stderr:\n%s", WIFSIGNALED(status) ? "killed by signal" : "exited",
         WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status), took, msg);
  CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT); /* stopped, never returned */
  CHECK(!(WIFEXITED(status) && WEXITSTATUS(status) == 3));   /* above all: no zeros */
  char want[128];
  snprintf(want, sizeof want, " page %d node %d: ", GONE_PAGE, GONE_NODE);
  const char *fatal = strstr(msg, "rum: fatal: cannot fetch page: region 0x");
  CHECK(fatal != NULL);
  CHECK(fatal != NULL && strstr(fatal, want) != NULL);
  CHECK(fatal != NULL && strstr(fatal, rum_strerror(RUM_ETIMEDOUT)) != NULL);
  CHECK(took < 30);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: client_smoke basic|big MIB|threads|named-create NAME|named-check NAME|named-free NAME\n");
    return 2;
  }
  if (strcmp(argv[1], "node-gone") == 0) {
    node_gone(); /* its child has the client */
    if (failures != 0) fprintf(stderr, "client_smoke node-gone: %d check(s) failed\n", failures);
    return failures == 0 ? 0 : 1;
  }
  int rc = rum_init(NULL);
  if (rc != 0) {
    fprintf(stderr, "client_smoke: rum_init: %s\n", rum_strerror(rc));
    return 1;
  }
  const char *what = argv[1];
  if (strcmp(what, "basic") == 0) {
    basic();
  } else if (strcmp(what, "big") == 0 && argc > 2) {
    big_region((size_t)strtoul(argv[2], NULL, 10));
  } else if (strcmp(what, "threads") == 0) {
    threads();
  } else if (strcmp(what, "lease") == 0) {
    lease();
  } else if (strcmp(what, "resize") == 0) {
    resize();
  } else if (strcmp(what, "named-create") == 0 && argc > 2) {
    char *p = rum_alloc_named(argv[2], 1 << 20);
    CHECK(p != NULL);
    if (p != NULL) {
      snprintf(p + 500000, 64, "hello from %s", argv[2]);
      errno = 0;
      CHECK(rum_alloc_named(argv[2], 10) == NULL && errno == EEXIST);
      CHECK(rum_detach(p) == 0);
    }
  } else if (strcmp(what, "named-check") == 0 && argc > 2) {
    size_t size = 0;
    char *p = rum_attach(argv[2], &size);
    CHECK(p != NULL && size == 1 << 20);
    char want[64];
    snprintf(want, sizeof want, "hello from %s", argv[2]);
    if (p != NULL) CHECK(strcmp(p + 500000, want) == 0);
  } else if (strcmp(what, "named-free") == 0 && argc > 2) {
    char *p = rum_attach(argv[2], NULL);
    CHECK(p != NULL);
    rum_free(p);
    errno = 0;
    CHECK(rum_attach(argv[2], NULL) == NULL && errno == ENOENT);
  } else {
    fprintf(stderr, "client_smoke: unknown scenario '%s'\n", what);
    return 2;
  }
  rc = rum_shutdown();
  CHECK(rc == 0);
  if (failures != 0) fprintf(stderr, "client_smoke %s: %d check(s) failed\n", what, failures);
  return failures == 0 ? 0 : 1;
}

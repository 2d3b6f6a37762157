/* rum-bench alloc: the same allocation traces against glibc malloc and against librum
 * in one run, ops/s and the ratio (goal: librum >= 0.7x glibc on every trace while
 * the data fits the cache).
 *
 * Traces (each thread runs its own copy; every block gets its first bytes written, as
 * a program would, so both allocators pay for the pages they hand out):
 *   larson   server churn: 1000 slots per thread, a random slot freed and refilled
 *            with 16 B..4 KiB, over and over;
 *   small    many small objects: 200 000 of 16..64 B allocated, then all freed;
 *   mix      sizes log-uniform from 16 B to 1 MiB, 256 slots per thread;
 *   realloc  a buffer grown by 1/8 at a time from 64 B to 256 MiB, its new bytes
 *            written (a string builder), then freed.
 * with 1 and 2 threads. The librum side needs a cluster ($RUM_MACHINES) and a cache
 * that holds the data (--cache-mb, default 1024). */
#include <getopt.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rum/rum.h>

#include "bench.h"
#include "util/clock.h"

struct allocator {
  const char *name;
  void *(*alloc)(size_t);
  void *(*realloc)(void *, size_t);
  void (*free)(void *);
};

static const struct allocator glibc = {"glibc", malloc, realloc, free};
static const struct allocator rum = {"rum", rum_alloc, rum_realloc, rum_free};

struct trace_args {
  const struct allocator *a;
  uint64_t ops;    /* per thread */
  uint64_t seed;
  uint64_t done;   /* allocator calls made */
  bool failed;
};

static uint64_t next_rand(uint64_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

static void *touch(void *p, size_t size) {
  if (p != NULL) {
    ((volatile uint8_t *)p)[0] = (uint8_t)size;
    ((volatile uint8_t *)p)[size - 1] = 1;
  }
  return p;
}

static void *trace_larson(void *arg) {
  struct trace_args *t = arg;
  enum { SLOTS = 1000 };
  void *slot[SLOTS] = {0};
  uint64_t s = t->seed;
  for (uint64_t i = 0; i < t->ops; i++) {
    unsigned k = (unsigned)(next_rand(&s) % SLOTS);
    t->a->free(slot[k]);
    size_t size = 16 + next_rand(&s) % 4081;
    slot[k] = touch(t->a->alloc(size), size);
    if (slot[k] == NULL) t->failed = true;
  }
  for (int k = 0; k < SLOTS; k++) t->a->free(slot[k]);
  t->done = t->ops * 2;
  return NULL;
}

static void *trace_small(void *arg) {
  struct trace_args *t = arg;
  enum { N = 200000 };
  void **p = malloc(N * sizeof(*p));
  uint64_t s = t->seed;
  t->done = 0;
  for (uint64_t round = 0; t->done < t->ops; round++) {
    for (int i = 0; i < N; i++) {
      size_t size = 16 + next_rand(&s) % 49;
      p[i] = touch(t->a->alloc(size), size);
      if (p[i] == NULL) t->failed = true;
    }
    for (int i = 0; i < N; i++) t->a->free(p[i]);
    t->done += 2 * N;
  }
  free(p);
  return NULL;
}

static void *trace_mix(void *arg) {
  struct trace_args *t = arg;
  enum { SLOTS = 256 };
  void *slot[SLOTS] = {0};
  uint64_t s = t->seed;
  for (uint64_t i = 0; i < t->ops; i++) {
    unsigned k = (unsigned)(next_rand(&s) % SLOTS);
    t->a->free(slot[k]);
    unsigned bits = 4 + (unsigned)(next_rand(&s) % 17); /* 2^4 .. 2^20 */
    size_t size = ((size_t)1 << bits) + next_rand(&s) % ((size_t)1 << bits);
    if (size > (1u << 20)) size = 1u << 20;
    slot[k] = touch(t->a->alloc(size), size);
    if (slot[k] == NULL) t->failed = true;
  }
  for (int k = 0; k < SLOTS; k++) t->a->free(slot[k]);
  t->done = t->ops * 2;
  return NULL;
}

static void *trace_realloc(void *arg) {
  struct trace_args *t = arg;
  t->done = 0;
  for (uint64_t round = 0; round < t->ops; round++) {
    size_t size = 64;
    uint8_t *b = t->a->alloc(size);
    if (b == NULL) {
      t->failed = true;
      return NULL;
    }
    memset(b, 1, size);
    while (size < (256u << 20)) {
      size_t grown = size + size / 8;
      uint8_t *n = t->a->realloc(b, grown);
      if (n == NULL) {
        t->failed = true;
        break;
      }
      memset(n + size, (int)(grown & 0xff), grown - size);
      b = n;
      size = grown;
      t->done++;
    }
    t->a->free(b);
    t->done += 2;
  }
  return NULL;
}

struct trace {
  const char *name;
  void *(*run)(void *);
  uint64_t ops; /* per thread, at --scale 1 */
};

static const struct trace traces[] = {
    {"larson", trace_larson, 2000000},
    {"small", trace_small, 2000000},
    {"mix", trace_mix, 200000},
    {"realloc", trace_realloc, 2},
};

/* Run trace tr on a with nthreads; returns calls per second (0 on failure). */
static double run_trace(const struct trace *tr, const struct allocator *a, unsigned nthreads, double scale) {
  pthread_t th[8];
  struct trace_args args[8];
  uint64_t ops = (uint64_t)(tr->ops * scale) > 0 ? (uint64_t)(tr->ops * scale) : 1;
  uint64_t t0 = rum__now_ns();
  for (unsigned i = 0; i < nthreads; i++) {
    args[i] = (struct trace_args){.a = a, .ops = ops, .seed = 0x9e3779b97f4a7c15ull * (i + 1)};
    pthread_create(&th[i], NULL, tr->run, &args[i]);
  }
  uint64_t calls = 0;
  bool failed = false;
  for (unsigned i = 0; i < nthreads; i++) {
    pthread_join(th[i], NULL);
    calls += args[i].done;
    failed |= args[i].failed;
  }
  double secs = (double)(rum__now_ns() - t0) / 1e9;
  if (failed) {
    fprintf(stderr, "rum-bench alloc: %s on %s failed (out of memory?)\n", tr->name, a->name);
    return 0;
  }
  return (double)calls / secs;
}

static void usage(FILE *out) {
  fprintf(out, "usage: rum-bench alloc [--machines FILE] [--cache-mb N] [--threads LIST] [--traces LIST] "
               "[--scale X] [--repeat N]\n"
               "  traces: larson,small,mix,realloc (default all); threads: 1,2 (default)\n"
               "  --scale multiplies the operations of every trace; --repeat runs each pair N times "
               "(alternating) and keeps the best of each\n");
}

static bool listed(const char *list, const char *name) {
  size_t n = strlen(name);
  for (const char *p = list; (p = strstr(p, name)) != NULL; p += n)
    if ((p == list || p[-1] == ',') && (p[n] == '\0' || p[n] == ',')) return true;
  return false;
}

int bench_alloc(int argc, char **argv) {
  const char *machines = NULL, *threads = "1,2", *which = "larson,small,mix,realloc";
  unsigned cache_mb = 1024, repeat = 1;
  double scale = 1.0;
  static const struct option opts[] = {
      {"machines", required_argument, 0, 'm'}, {"cache-mb", required_argument, 0, 'c'},
      {"threads", required_argument, 0, 't'},  {"traces", required_argument, 0, 'r'},
      {"scale", required_argument, 0, 's'},    {"repeat", required_argument, 0, 'n'},
      {"help", no_argument, 0, 'h'},           {0, 0, 0, 0},
  };
  int c;
  while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    switch (c) {
    case 'm': machines = optarg; break;
    case 'c': cache_mb = (unsigned)strtoul(optarg, NULL, 10); break;
    case 't': threads = optarg; break;
    case 'r': which = optarg; break;
    case 's': scale = strtod(optarg, NULL); break;
    case 'n': repeat = (unsigned)strtoul(optarg, NULL, 10); break;
    case 'h': usage(stdout); return 0;
    default: usage(stderr); return 2;
    }
  }
  if (optind != argc || scale <= 0 || repeat == 0 || cache_mb == 0) {
    usage(stderr);
    return 2;
  }
  char env[32];
  snprintf(env, sizeof env, "%u", cache_mb);
  setenv("RUM_CACHE_MB", env, 1);
  int rc = rum_init(machines);
  if (rc != 0) {
    fprintf(stderr, "rum-bench alloc: rum_init: %s (start a cluster: bench/run.sh alloc)\n", rum_strerror(rc));
    return 1;
  }
  int status = 0;
  for (size_t i = 0; i < sizeof traces / sizeof traces[0]; i++) {
    if (!listed(which, traces[i].name)) continue;
    for (unsigned nt = 1; nt <= 8; nt++) {
      char name[4];
      snprintf(name, sizeof name, "%u", nt);
      if (!listed(threads, name)) continue;
      double best_glibc = 0, best_rum = 0;
      struct rum_stats s0, s1;
      rum_stats(&s0);
      for (unsigned r = 0; r < repeat; r++) {
        fprintf(stderr, "alloc: %s, %u thread(s), run %u/%u\n", traces[i].name, nt, r + 1, repeat);
        double g = run_trace(&traces[i], &glibc, nt, scale), m = run_trace(&traces[i], &rum, nt, scale);
        if (g > best_glibc) best_glibc = g;
        if (m > best_rum) best_rum = m;
      }
      rum_stats(&s1);
      if (best_glibc == 0 || best_rum == 0) status = 1;
      /* What librum did for it, over all repetitions: page faults taken and RPCs. */
      printf("{\"scenario\":\"alloc\",\"trace\":\"%s\",\"threads\":%u,\"cache_mb\":%u,\"glibc_ops_s\":%.0f,"
             "\"rum_ops_s\":%.0f,\"ratio\":%.3f,\"rum_faults\":%llu,\"rum_rpcs\":%llu}\n",
             traces[i].name, nt, cache_mb, best_glibc, best_rum, best_glibc > 0 ? best_rum / best_glibc : 0.0,
             (unsigned long long)(s1.faults - s0.faults), (unsigned long long)(s1.rpcs - s0.rpcs));
      fflush(stdout);
    }
  }
  rum_shutdown();
  return status;
}

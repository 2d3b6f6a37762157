/* mem_test: exercises every function of rum.h against a running cluster and checks
 * every byte. One line per phase (PASS/FAIL, seconds, what was done), then a summary.
 * Exit status: 0 all phases passed, 1 some failed, 2 usage error, 77 the fault
 * backend asked for ($RUM_FAULT) is not available on this machine. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mem_test.h"

struct mt_phase {
  const char *name;
  void (*run)(struct mt_ctx *c);
  bool in_default;
  const char *help;
};

/* In run order. init and shutdown are not listed: they always run (except that
 * persist-write leaves the shutdown to exit, which is what it tests). */
static const struct mt_phase phases[] = {
    {"strerror", mt_phase_strerror, true, "rum_strerror for every code and unknown codes"},
    {"alloc", mt_phase_alloc, true, "random sizes 1 B..max: alloc, fill, verify, free"},
    {"calloc", mt_phase_calloc, true, "zeroed memory, n*size overflow"},
    {"realloc", mt_phase_realloc, true, "grow/shrink keep contents, NULL and 0 cases"},
    {"reuse", mt_phase_reuse, true, "free and allocate again: no stale bytes"},
    {"usable_size", mt_phase_usable_size, true, "usable size >= asked and really usable"},
    {"alloc_on", mt_phase_alloc_on, true, "regions on each node; unknown node ids"},
    {"sync", mt_phase_sync, true, "rum_sync and rum_flush write back"},
    {"refresh", mt_phase_refresh, true, "rum_refresh re-reads, also after another process wrote"},
    {"prefetch", mt_phase_prefetch, true, "rum_prefetch hints keep data intact"},
    {"stats", mt_phase_stats, true, "rum_stats counters move as expected"},
    {"named", mt_phase_named, true, "named regions: create, EEXIST, attach, detach, free"},
    {"big", mt_phase_big, true, "20x the cache in one region, every byte"},
    {"threads", mt_phase_threads, true, "threads allocating and sharing pages at once"},
    {"stress", mt_phase_stress, true, "threads: random alloc/realloc/free 1 B..max vs shadow copies"},
    {"reinit", mt_phase_reinit, true, "shutdown and init again; named data survives"},
    {"persist-write", mt_phase_persist_write, false, "write a named region, exit without sync"},
    {"persist-verify", mt_phase_persist_verify, false, "attach the persist region, verify, free"},
    {"rewrite-child", mt_phase_rewrite_child, false, "(internal, run by the refresh phase)"},
};
enum { NPHASES = sizeof phases / sizeof phases[0] };

static void usage(FILE *f) {
  fprintf(f,
          "usage: mem_test [options]\n"
          "  --seed S        PRNG seed (default: from the clock; always printed)\n"
          "  --quick         smaller sizes, for CI\n"
          "  --phase LIST    run only these phases (comma-separated)\n"
          "  --threads N     threads in the threads and stress phases (default 4)\n"
          "  --cache-mb M    client cache size; sets RUM_CACHE_MB (default: $RUM_CACHE_MB)\n"
          "  --nodes N       node ids are 1..N (default: first column of the machines file)\n"
          "  --machines F    machines file for rum_init (default: $RUM_MACHINES)\n"
          "  --name NAME     named region of the persist phases (default mem_test.persist)\n"
          "  --keep          persist-verify leaves the region in place\n"
          "  --list          list the phases\n"
          "exit: 0 pass, 1 fail, 2 usage, 77 fault backend unavailable\n");
}

static bool parse_u64(const char *s, uint64_t *out) {
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 0);
  if (errno != 0 || end == s || *end != '\0' || s[0] == '-') return false;
  *out = v;
  return true;
}

static bool phase_known(const char *name, size_t len) {
  for (unsigned i = 0; i < NPHASES; i++)
    if (strlen(phases[i].name) == len && strncmp(phases[i].name, name, len) == 0) return true;
  return false;
}

bool mt_phase_selected(const struct mt_ctx *c, const char *name, bool in_default) {
  const char *list = c->opt->phases;
  if (list == NULL) return in_default;
  size_t n = strlen(name);
  for (const char *p = list; *p != '\0';) {
    const char *comma = strchr(p, ',');
    size_t len = comma ? (size_t)(comma - p) : strlen(p);
    if (len == n && strncmp(p, name, n) == 0) return true;
    p += len + (comma ? 1 : 0);
  }
  return false;
}

/* Returns 0, or MT_EXIT_USAGE after printing why. --help exits here. */
static int parse_options(int argc, char **argv, struct mt_options *o) {
  static const struct option longopts[] = {
      {"seed", required_argument, NULL, 's'},   {"quick", no_argument, NULL, 'q'},
      {"phase", required_argument, NULL, 'p'},  {"threads", required_argument, NULL, 't'},
      {"cache-mb", required_argument, NULL, 'c'}, {"nodes", required_argument, NULL, 'n'},
      {"machines", required_argument, NULL, 'm'}, {"name", required_argument, NULL, 'N'},
      {"keep", no_argument, NULL, 'k'},         {"list", no_argument, NULL, 'l'},
      {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
  };
  bool seeded = false;
  uint64_t v;
  int ch;
  while ((ch = getopt_long(argc, argv, "s:qp:t:c:n:m:N:klh", longopts, NULL)) != -1) {
    switch (ch) {
      case 's':
        if (!parse_u64(optarg, &o->seed)) goto bad;
        seeded = true;
        break;
      case 'q': o->quick = true; break;
      case 'p': o->phases = optarg; break;
      case 't':
        if (!parse_u64(optarg, &v) || v < 1 || v > 256) goto bad;
        o->threads = (unsigned)v;
        break;
      case 'c':
        if (!parse_u64(optarg, &v) || v < 1 || v > (1u << 20)) goto bad;
        o->cache_mb = (size_t)v;
        break;
      case 'n':
        if (!parse_u64(optarg, &v) || v < 1 || v > MT_MAX_NODES) goto bad;
        o->nodes = (unsigned)v;
        break;
      case 'm': o->machines = optarg; break;
      case 'N': o->name = optarg; break;
      case 'k': o->keep = true; break;
      case 'l':
        for (unsigned i = 0; i < NPHASES; i++)
          printf("%-15s %s%s\n", phases[i].name, phases[i].help, phases[i].in_default ? "" : " [not default]");
        exit(MT_EXIT_PASS);
      case 'h': usage(stdout); exit(MT_EXIT_PASS);
      default: usage(stderr); return MT_EXIT_USAGE;
    }
  }
  if (optind != argc) {
    fprintf(stderr, "mem_test: unexpected argument '%s'\n", argv[optind]);
    usage(stderr);
    return MT_EXIT_USAGE;
  }
  if (o->phases != NULL) {
    for (const char *p = o->phases; *p != '\0';) {
      const char *comma = strchr(p, ',');
      size_t len = comma ? (size_t)(comma - p) : strlen(p);
      if (!phase_known(p, len)) {
        fprintf(stderr, "mem_test: unknown phase '%.*s' (--list shows them)\n", (int)len, p);
        return MT_EXIT_USAGE;
      }
      p += len + (comma ? 1 : 0);
    }
  }
  if (!seeded) o->seed = mt_mix64((uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32)) % 1000000007u;
  return 0;
bad:
  for (const struct option *lo = longopts; lo->name != NULL; lo++)
    if (lo->val == ch) fprintf(stderr, "mem_test: bad value '%s' for --%s\n", optarg, lo->name);
  usage(stderr);
  return MT_EXIT_USAGE;
}

/* Node ids: 1..--nodes, else the first column of the machines file. Apps may not use
 * the library's parser, so this is a minimal reading of the same format: comments
 * after '#', settings (name=value) and a header line are skipped. */
static void load_node_ids(struct mt_ctx *c) {
  if (c->opt->nodes != 0) {
    for (unsigned i = 0; i < c->opt->nodes; i++) c->node_ids[i] = (int)i + 1;
    c->nnodes = c->opt->nodes;
    return;
  }
  const char *path = c->opt->machines ? c->opt->machines : getenv("RUM_MACHINES");
  if (path == NULL || *path == '\0') path = "machines.csv";
  FILE *f = fopen(path, "r");
  if (f == NULL) return;
  char line[512];
  while (fgets(line, sizeof line, f) != NULL && c->nnodes < MT_MAX_NODES) {
    char *hash = strchr(line, '#');
    if (hash) *hash = '\0';
    char *p = line;
    while (*p == ' ' || *p == '\t') p++;
    unsigned r;
    if (sscanf(p, "replication = %u", &r) == 1 || sscanf(p, "replication=%u", &r) == 1) c->replication = r;
    char *comma = strchr(p, ',');
    if (comma == NULL || memchr(p, '=', (size_t)(comma - p)) != NULL) continue;
    char *end;
    long id = strtol(p, &end, 10);
    while (end < comma && (*end == ' ' || *end == '\t')) end++;
    if (end != comma || end == p || id < 0 || id > 65535) continue; /* header or junk */
    c->node_ids[c->nnodes++] = (int)id;
  }
  fclose(f);
}

static void phase_init(struct mt_ctx *c) {
  struct rum_stats s;
  MT_CHECK_RC(c, rum_stats(&s), RUM_ENOTINIT);
  char bad[64];
  snprintf(bad, sizeof bad, "/tmp/mem_test.%ld.bad.csv", (long)getpid());
  FILE *f = fopen(bad, "w");
  if (f != NULL) {
    fputs("1,not-an-address,not-a-port\n", f);
    fclose(f);
    MT_CHECK_RC(c, rum_init(bad), RUM_ECONFIG);
    unlink(bad);
  }
  int rc = rum_init("/nonexistent/mem_test/machines.csv");
  MT_CHECK(c, rc < 0, "rum_init(missing file) = %d, want a negative code", rc);
  if (rc == 0) rum_shutdown();

  rc = rum_init(c->opt->machines);
  if (rc == RUM_ENOTSUP) {
    const char *fault = getenv("RUM_FAULT");
    printf("SKIP init: rum_init: %s (RUM_FAULT=%s)\n", rum_strerror(rc), fault ? fault : "");
    c->skip = true;
    return;
  }
  if (rc != 0) {
    mt_fail(c, __FILE__, __LINE__, "rum_init(%s): %d (%s); is RUM_MACHINES set and the cluster up?",
            c->opt->machines ? c->opt->machines : "NULL", rc, rum_strerror(rc));
    return;
  }
  MT_CHECK_RC(c, rum_init(c->opt->machines), RUM_EBUSY);
  MT_CHECK_RC(c, rum_stats(NULL), RUM_EINVAL);
  if (!mt_stats(c, &s)) return;
  MT_CHECK(c, s.cache_capacity > 0, "cache_capacity is 0");
  MT_CHECK(c, s.regions == 0 && s.faults == 0, "fresh stats: regions %" PRIu64 " faults %" PRIu64,
           s.regions, s.faults);
  size_t lib_bytes = (size_t)s.cache_capacity * MT_PAGE;
  if (c->cache_bytes == 0) c->cache_bytes = lib_bytes;
  else if (lib_bytes != c->cache_bytes)
    mt_note(c, "library cache %zu KiB, expected %zu KiB", lib_bytes >> 10, c->cache_bytes >> 10);
  if (c->cache_bytes < 64 * 1024) c->cache_bytes = 64 * 1024;
  load_node_ids(c);
  mt_detail(c, "cache %zu KiB (%" PRIu64 " pages), %u node ids, seed %" PRIu64, c->cache_bytes >> 10,
            s.cache_capacity, c->nnodes, c->seed);
}

static void phase_shutdown(struct mt_ctx *c) {
  MT_CHECK_RC(c, rum_shutdown(), 0);
  MT_CHECK_RC(c, rum_shutdown(), 0); /* documented as harmless */
  struct rum_stats s;
  MT_CHECK_RC(c, rum_stats(&s), RUM_ENOTINIT);
}

/* Runs one phase with its PASS/FAIL line; returns whether it passed. */
static bool run_phase(struct mt_ctx *c, const char *name, void (*fn)(struct mt_ctx *)) {
  c->phase = name;
  atomic_store(&c->failures, 0);
  c->detail[0] = '\0';
  double t0 = mt_now();
  fn(c);
  double dt = mt_now() - t0;
  if (c->skip) return true;
  unsigned nfail = atomic_load(&c->failures);
  char tail[48] = "";
  if (nfail) snprintf(tail, sizeof tail, "%s(%u failed checks)", c->detail[0] ? " " : "", nfail);
  printf("%s %-15s %8.3f s  %s%s\n", nfail ? "FAIL" : "PASS", name, dt, c->detail, tail);
  fflush(stdout);
  return nfail == 0;
}

int main(int argc, char **argv) {
  struct mt_options opt = {.threads = 4, .name = "mem_test.persist"};
  int rc = parse_options(argc, argv, &opt);
  if (rc != 0) return rc;
  setvbuf(stdout, NULL, _IOLBF, 0);

  static struct mt_ctx ctx; /* static: large, and shared with the phase threads */
  struct mt_ctx *c = &ctx;
  c->opt = &opt;
  c->seed = opt.seed;
  c->max_size = opt.quick ? 8 * MT_MIB : 64 * MT_MIB;
  static char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  c->exe = n > 0 ? (exe[n] = '\0', exe) : argv[0];
  if (opt.cache_mb != 0) {
    char v[32];
    snprintf(v, sizeof v, "%zu", opt.cache_mb);
    setenv("RUM_CACHE_MB", v, 1);
    c->cache_bytes = opt.cache_mb * MT_MIB;
  } else if (getenv("RUM_CACHE_MB") != NULL) {
    uint64_t mb;
    if (parse_u64(getenv("RUM_CACHE_MB"), &mb) && mb > 0) c->cache_bytes = (size_t)mb * MT_MIB;
  }
  printf("mem_test: seed %" PRIu64 "%s, fault %s, cache_mb %s\n", opt.seed, opt.quick ? " (quick)" : "",
         getenv("RUM_FAULT") ? getenv("RUM_FAULT") : "auto",
         getenv("RUM_CACHE_MB") ? getenv("RUM_CACHE_MB") : "default");

  double t0 = mt_now();
  unsigned ran = 0, passed = 0;
  bool ok = run_phase(c, "init", phase_init);
  if (c->skip) return MT_EXIT_SKIP;
  ran++;
  passed += ok;
  bool exit_without_shutdown = false;
  if (ok) {
    for (unsigned i = 0; i < NPHASES; i++) {
      if (!mt_phase_selected(c, phases[i].name, phases[i].in_default)) continue;
      ran++;
      passed += run_phase(c, phases[i].name, phases[i].run);
      if (phases[i].run == mt_phase_persist_write) exit_without_shutdown = true;
    }
    if (!exit_without_shutdown) {
      ran++;
      passed += run_phase(c, "shutdown", phase_shutdown);
    }
  }
  printf("mem_test: %u phases, %u passed, %u failed, seed %" PRIu64 ", %.1f s: %s\n", ran, passed,
         ran - passed, opt.seed, mt_now() - t0, passed == ran ? "PASS" : "FAIL");
  /* persist-write returns without rum_sync() or rum_shutdown(): the write-back at
   * exit is what it tests. */
  return passed == ran ? MT_EXIT_PASS : MT_EXIT_FAIL;
}

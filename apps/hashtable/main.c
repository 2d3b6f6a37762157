/* hashtable: a chained hash table in RUM memory, driven by a seeded random sequence
 * of inserts, lookups and deletes and checked against a plain-memory reference after
 * every operation, after every resize (whole table) and at the end.
 *
 * The sequence alternates insert-heavy and delete-heavy epochs (switching at 60% and
 * 10% of the key space in use) so that the table both grows and shrinks. Exit status: 0 pass, 1 fail, 2 usage, 77 the fault backend
 * asked for ($RUM_FAULT) is not available. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rum/rum.h>

#include "check.h"
#include "ht.h"

enum { EXIT_SKIP = 77 };

struct options {
  uint64_t ops, seed;
  uint32_t keys, vmax;
  uint64_t verify_every;     /* 0 = only after resizes and at the end */
  enum ht_alloc_mode alloc;
  const char *machines;
};

struct counts {
  uint64_t epochs, puts, inserted, replaced, gets, hits, misses, dels, deleted, absent;
};

/* splitmix64: the one source of randomness, so a seed replays exactly. */
static uint64_t rng_next(uint64_t *s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void usage(FILE *f) {
  fprintf(f, "usage: hashtable [--ops N] [--keys K] [--seed S] [--vmax V] [--alloc rum|slab]\n"
             "                 [--verify-every N] [--machines FILE]\n"
             "  --ops N           operations (default 200000)\n"
             "  --keys K          distinct keys (default 20000)\n"
             "  --seed S          PRNG seed (default: from the clock; always printed)\n"
             "  --vmax V          largest value in bytes (default 200)\n"
             "  --alloc MODE      rum: one rum_alloc per entry; slab: entries from RUM slabs (default)\n"
             "  --verify-every N  also check the whole table every N operations\n"
             "exit: 0 pass, 1 fail, 2 usage, 77 fault backend unavailable\n");
}

static bool parse_u64(const char *s, uint64_t max, uint64_t *out) {
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 0);
  if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v > max) return false;
  *out = v;
  return true;
}

static int parse_options(int argc, char **argv, struct options *o) {
  static const struct option longopts[] = {
      {"ops", required_argument, NULL, 'o'},   {"keys", required_argument, NULL, 'k'},
      {"seed", required_argument, NULL, 's'},  {"vmax", required_argument, NULL, 'v'},
      {"alloc", required_argument, NULL, 'a'}, {"verify-every", required_argument, NULL, 'e'},
      {"machines", required_argument, NULL, 'm'}, {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  *o = (struct options){.ops = 200000, .keys = 20000, .vmax = 200, .alloc = HT_ALLOC_SLAB};
  bool seeded = false;
  uint64_t v;
  int ch;
  while ((ch = getopt_long(argc, argv, "o:k:s:v:a:e:m:h", longopts, NULL)) != -1) {
    switch (ch) {
      case 'o': if (!parse_u64(optarg, UINT64_MAX, &o->ops)) goto bad; break;
      case 'k': if (!parse_u64(optarg, 1u << 28, &v) || v == 0) goto bad; o->keys = (uint32_t)v; break;
      case 's': if (!parse_u64(optarg, UINT64_MAX, &o->seed)) goto bad; seeded = true; break;
      case 'v': if (!parse_u64(optarg, 1u << 20, &v)) goto bad; o->vmax = (uint32_t)v; break;
      case 'e': if (!parse_u64(optarg, UINT64_MAX, &o->verify_every)) goto bad; break;
      case 'm': o->machines = optarg; break;
      case 'a':
        if (strcmp(optarg, "rum") == 0) o->alloc = HT_ALLOC_RUM;
        else if (strcmp(optarg, "slab") == 0) o->alloc = HT_ALLOC_SLAB;
        else goto bad;
        break;
      case 'h': usage(stdout); exit(0);
      default: usage(stderr); return 2;
    }
  }
  if (optind != argc) {
    fprintf(stderr, "hashtable: unexpected argument '%s'\n", argv[optind]);
    usage(stderr);
    return 2;
  }
  if (!seeded) o->seed = ((uint64_t)time(NULL) ^ ((uint64_t)getpid() << 20)) % 1000000007u;
  return 0;
bad:
  for (const struct option *lo = longopts; lo->name != NULL; lo++)
    if (lo->val == ch) fprintf(stderr, "hashtable: bad value '%s' for --%s\n", optarg, lo->name);
  usage(stderr);
  return 2;
}

/* One operation on key id, applied to both tables and compared. */
static void do_op(struct ht *h, struct checker *c, struct counts *n, uint64_t *rng, int kind,
                  uint32_t id, uint32_t vmax, unsigned char *vbuf) {
  unsigned char key[HT_KEY_MAX];
  uint32_t klen = key_encode(id, key);
  bool present = c->ref[id].present;
  if (kind == 0) {
    uint32_t vlen = (uint32_t)(rng_next(rng) % ((uint64_t)vmax + 1));
    for (uint32_t i = 0; i < vlen; i += 8) {
      uint64_t w = rng_next(rng);
      memcpy(vbuf + i, &w, vlen - i < 8 ? vlen - i : 8);
    }
    int rc = ht_put(h, key, klen, vbuf, vlen);
    n->puts++;
    if (rc < 0) {
      check_fail(c, "put key %u (vlen %u): %d, out of memory (errno %d)", id, vlen, rc, errno);
      return;
    }
    if (rc != (present ? 0 : 1))
      check_fail(c, "put key %u: returned %d, but the key was %s", id, rc, present ? "present" : "absent");
    rc ? n->inserted++ : n->replaced++;
    if (!checker_put(c, id, vbuf, vlen)) {
      fprintf(stderr, "hashtable: out of local memory for the reference\n");
      exit(1);
    }
  } else if (kind == 1) {
    const struct ht_entry *e = ht_get(h, key, klen);
    n->gets++;
    e ? n->hits++ : n->misses++;
    check_lookup(c, id, e);
  } else {
    int rc = ht_del(h, key, klen);
    n->dels++;
    if (rc != (present ? 1 : 0))
      check_fail(c, "del key %u: returned %d, but the key was %s", id, rc, present ? "present" : "absent");
    rc ? n->deleted++ : n->absent++;
    checker_del(c, id);
  }
  if (h->t->count != c->count)
    check_fail(c, "after %s of key %u: table count %llu, reference %llu",
               kind == 0 ? "put" : kind == 1 ? "get" : "del", id, (unsigned long long)h->t->count,
               (unsigned long long)c->count);
}

static void run_ops(const struct options *o, struct ht *h, struct checker *c, struct counts *n) {
  uint64_t rng = o->seed;
  unsigned char *vbuf = malloc((size_t)o->vmax + 8);
  if (vbuf == NULL) exit(1);
  uint64_t grows = 0, shrinks = 0;
  bool growing = true;
  for (uint64_t i = 0; i < o->ops && c->failures < 1000; i++) {
    /* Fill to 60% of the key space, drain to 10%, repeat: the table must grow and
     * shrink, whatever --keys and --ops are. */
    if (growing && c->count * 10 >= (uint64_t)o->keys * 6) {
      growing = false;
      n->epochs++;
    } else if (!growing && c->count * 10 <= o->keys) {
      growing = true;
      n->epochs++;
    }
    unsigned r = (unsigned)(rng_next(&rng) % 100);
    int kind = growing ? (r < 75 ? 0 : r < 90 ? 1 : 2) : (r < 3 ? 0 : r < 15 ? 1 : 2);
    uint32_t id = (uint32_t)(rng_next(&rng) % o->keys);
    do_op(h, c, n, &rng, kind, id, o->vmax, vbuf);
    if (h->t->grows != grows || h->t->shrinks != shrinks) {
      char when[96];
      snprintf(when, sizeof when, "after %s to %llu buckets (op %llu)", h->t->grows != grows ? "grow" : "shrink",
               (unsigned long long)h->t->nbuckets, (unsigned long long)i);
      check_table(c, h, when);
      grows = h->t->grows;
      shrinks = h->t->shrinks;
    }
    if (o->verify_every != 0 && (i + 1) % o->verify_every == 0) check_table(c, h, "periodic check");
  }
  free(vbuf);
}

int main(int argc, char **argv) {
  struct options o;
  int rc = parse_options(argc, argv, &o);
  if (rc != 0) return rc;
  setvbuf(stdout, NULL, _IOLBF, 0);
  printf("hashtable: seed %" PRIu64 ", ops %" PRIu64 ", keys %u, vmax %u, alloc %s, fault %s\n", o.seed, o.ops,
         o.keys, o.vmax, o.alloc == HT_ALLOC_RUM ? "rum" : "slab",
         getenv("RUM_FAULT") ? getenv("RUM_FAULT") : "auto");
  rc = rum_init(o.machines);
  if (rc == RUM_ENOTSUP) {
    printf("hashtable: SKIP: rum_init: %s\n", rum_strerror(rc));
    return EXIT_SKIP;
  }
  if (rc != 0) {
    fprintf(stderr, "hashtable: rum_init: %s; is RUM_MACHINES set and the cluster up?\n", rum_strerror(rc));
    return 1;
  }
  struct checker c;
  if (checker_init(&c, o.keys) != 0) {
    fprintf(stderr, "hashtable: out of local memory for %u keys\n", o.keys);
    return 1;
  }
  struct ht h;
  int rum_errno = 0;
  if (ht_create(&h, o.alloc, o.seed ^ 0x5bd1e995u, &rum_errno) != 0) {
    fprintf(stderr, "hashtable: cannot create the table in RUM memory: %s\n", strerror(rum_errno));
    return 1;
  }
  struct counts n = {0};
  double t0 = now();
  run_ops(&o, &h, &c, &n);
  double dt = now() - t0;
  check_table(&c, &h, "at the end");

  const struct ht_table *t = h.t;
  printf("hashtable: puts %" PRIu64 " (inserted %" PRIu64 ", replaced %" PRIu64 "), gets %" PRIu64
         " (hits %" PRIu64 ", misses %" PRIu64 "), dels %" PRIu64 " (deleted %" PRIu64 ", absent %" PRIu64 ")\n",
         n.puts, n.inserted, n.replaced, n.gets, n.hits, n.misses, n.dels, n.deleted, n.absent);
  printf("hashtable: %" PRIu64 " grows, %" PRIu64 " shrinks, %" PRIu64 " failed resizes, %" PRIu64
         " entries moved, %" PRIu64 " whole-table checks, %" PRIu64 " fill/drain switches\n",
         t->grows, t->shrinks, t->resize_failures, t->moved, c.full_verifies, n.epochs);
  printf("hashtable: final count %" PRIu64 ", buckets %" PRIu64 ", load %.3f, longest chain %" PRIu64
         ", mean chain %.2f, arena %" PRIu64 " bytes in %u slabs\n",
         t->count, t->nbuckets, (double)t->count / (double)t->nbuckets, c.longest_chain, c.mean_chain,
         t->arena.bytes, t->arena.nslabs);
  if (t->grows == 0 || t->shrinks == 0)
    printf("hashtable: note: the sequence did not both grow and shrink the table (more --ops?)\n");
  ht_destroy(&h);
  struct rum_stats s;
  if (rum_stats(&s) == 0) {
    printf("hashtable: rum: faults %" PRIu64 ", evictions %" PRIu64 ", writebacks %" PRIu64 ", rpcs %" PRIu64
           ", retries %" PRIu64 ", regions left %" PRIu64 "\n",
           s.faults, s.evictions, s.writebacks, s.rpcs, s.retries, s.regions);
    /* Not a failure: librum may keep emptied slab regions for reuse. */
    if (s.regions != 0) printf("hashtable: note: %" PRIu64 " regions still counted after destroying the table\n", s.regions);
  }
  rc = rum_shutdown();
  if (rc != 0) check_fail(&c, "rum_shutdown: %s", rum_strerror(rc));
  checker_uninit(&c);
  bool pass = c.failures == 0;
  printf("hashtable: %.2f s, %.0f ops/s, %" PRIu64 " failures, seed %" PRIu64 ": %s\n", dt,
         dt > 0 ? (double)o.ops / dt : 0.0, c.failures, o.seed, pass ? "PASS" : "FAIL");
  return pass ? 0 : 1;
}

/* Phases strerror, reuse, usable_size, alloc_on and stats. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem_test.h"

void mt_phase_strerror(struct mt_ctx *c) {
  static const struct {
    int code;
    const char *name;
    const char *text;
  } table[] = {
#define MT_ERROR_ROW_(name, value, text) {value, #name, text},
      RUM_ERROR_TABLE(MT_ERROR_ROW_)
#undef MT_ERROR_ROW_
  };
  const unsigned n = sizeof table / sizeof table[0];
  for (unsigned i = 0; i < n; i++) {
    const char *s = rum_strerror(table[i].code);
    MT_CHECK(c, s != NULL, "rum_strerror(%s) = NULL", table[i].name);
    if (s == NULL) continue;
    MT_CHECK(c, strcmp(s, table[i].text) == 0, "rum_strerror(%s) = \"%s\", the table says \"%s\"",
             table[i].name, s, table[i].text);
    for (unsigned j = 0; j < i; j++)
      MT_CHECK(c, table[j].code == table[i].code || strcmp(s, rum_strerror(table[j].code)) != 0,
               "%s and %s share the text \"%s\"", table[i].name, table[j].name, s);
  }
  const int unknown[] = {1, 12345, -99999, INT_MAX, INT_MIN, -EPERM, -EACCES, -ECONNREFUSED, -2000};
  for (unsigned i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
    const char *s = rum_strerror(unknown[i]);
    MT_CHECK(c, s != NULL && s[0] != '\0', "rum_strerror(%d) is %s", unknown[i], s ? "empty" : "NULL");
  }
  mt_detail(c, "%u table codes, %zu unknown codes", n, sizeof unknown / sizeof unknown[0]);
}

enum { REUSE_BLOCKS = 12 };

static unsigned alloc_round(struct mt_ctx *c, uint8_t **ps, const size_t *sizes, const char *what) {
  unsigned made = 0;
  for (unsigned i = 0; i < REUSE_BLOCKS; i++) {
    errno = 0;
    ps[i] = rum_alloc(sizes[i]);
    MT_CHECK(c, ps[i] != NULL, "%s: rum_alloc(%zu) = NULL, errno %s", what, sizes[i], mt_errno_name(errno));
    made += ps[i] != NULL;
  }
  return made;
}

static void free_round(uint8_t **ps) {
  for (unsigned i = 0; i < REUSE_BLOCKS; i++) rum_free(ps[i]);
}

/* Freed memory comes back: a block allocated after a free must hold exactly what was
 * written to it, even when the previous owner of its addresses left pages dirty. */
void mt_phase_reuse(struct mt_ctx *c) {
  struct mt_rng r;
  mt_rng_seed(&r, c->seed, 4);
  size_t sizes[REUSE_BLOCKS], total = 0;
  for (unsigned i = 0; i < REUSE_BLOCKS; i++) {
    sizes[i] = mt_rng_size(&r, c->max_size / 2);
    total += sizes[i];
  }
  uint8_t *a[REUSE_BLOCKS], *b[REUSE_BLOCKS];
  /* Round 1: written and made durable, then freed. */
  alloc_round(c, a, sizes, "reuse round 1");
  for (unsigned i = 0; i < REUSE_BLOCKS; i++)
    if (a[i]) mt_fill(a[i], 0, sizes[i], mt_salt(c, 40, i));
  MT_CHECK_RC(c, rum_sync(), 0);
  free_round(a);
  /* Round 2: the same sizes again; after sync + refresh the nodes must hold round 2. */
  alloc_round(c, b, sizes, "reuse round 2");
  unsigned same = 0;
  for (unsigned i = 0; i < REUSE_BLOCKS; i++) {
    same += b[i] == a[i];
    if (b[i]) mt_fill(b[i], 0, sizes[i], mt_salt(c, 41, i));
  }
  MT_CHECK_RC(c, rum_sync(), 0);
  for (unsigned i = 0; i < REUSE_BLOCKS; i++) {
    if (b[i] == NULL) continue;
    MT_CHECK_RC(c, rum_refresh(b[i], sizes[i]), 0);
    mt_verify(c, b[i], 0, sizes[i], mt_salt(c, 41, i), "reuse round 2 after refresh");
  }
  free_round(b);
  /* Round 3: dirty and freed without a sync. Round 4 must not see those bytes come
   * back (for instance by a late write-back of the freed pages). */
  alloc_round(c, a, sizes, "reuse round 3");
  for (unsigned i = 0; i < REUSE_BLOCKS; i++)
    if (a[i]) mt_fill(a[i], 0, sizes[i], mt_salt(c, 42, i));
  free_round(a);
  alloc_round(c, b, sizes, "reuse round 4");
  size_t nonzero = 0;
  for (unsigned i = 0; i < REUSE_BLOCKS; i++) {
    if (b[i] == NULL) continue;
    for (size_t o = 0; o < sizes[i]; o++) nonzero += b[i][o] != 0;
    mt_fill(b[i], 0, sizes[i], mt_salt(c, 43, i));
  }
  MT_CHECK_RC(c, rum_sync(), 0);
  for (unsigned i = 0; i < REUSE_BLOCKS; i++) {
    if (b[i] == NULL) continue;
    MT_CHECK_RC(c, rum_refresh(b[i], sizes[i]), 0);
    mt_verify(c, b[i], 0, sizes[i], mt_salt(c, 43, i), "reuse round 4 after refresh");
  }
  free_round(b);
  if (nonzero != 0)
    mt_note(c, "%zu bytes of fresh allocations were not zero (allowed: contents are unspecified)", nonzero);
  mt_detail(c, "4 rounds of %u blocks, %.1f MiB each, %u addresses reused", REUSE_BLOCKS,
            (double)total / (double)MT_MIB, same);
}

void mt_phase_usable_size(struct mt_ctx *c) {
  int local = 0;
  MT_CHECK(c, rum_usable_size(NULL) == 0, "rum_usable_size(NULL) = %zu", rum_usable_size(NULL));
  MT_CHECK(c, rum_usable_size(&local) == 0, "rum_usable_size(stack) = %zu", rum_usable_size(&local));
  void *m = malloc(64);
  MT_CHECK(c, rum_usable_size(m) == 0, "rum_usable_size(malloc) = %zu", rum_usable_size(m));
  free(m);

  size_t sizes[96];
  unsigned n = 0;
  for (size_t s = 0; s <= 48; s++) sizes[n++] = s;
  const size_t more[] = {63, 64, 65, 127, 128, 255, 256, 1000, 2047, 2048, 4095, 4096, 4097,
                         8192, 12289, 65535, 65536, MT_MIB - 1, MT_MIB, MT_MIB + 1};
  for (unsigned i = 0; i < sizeof more / sizeof more[0]; i++) sizes[n++] = more[i];
  size_t slack = 0;
  for (unsigned i = 0; i < n; i++) {
    errno = 0;
    uint8_t *p = rum_alloc(sizes[i]);
    if (p == NULL) {
      mt_fail(c, __FILE__, __LINE__, "rum_alloc(%zu) = NULL, errno %s", sizes[i], mt_errno_name(errno));
      continue;
    }
    size_t u = rum_usable_size(p);
    MT_CHECK(c, u >= sizes[i], "rum_usable_size after rum_alloc(%zu) = %zu", sizes[i], u);
    MT_CHECK(c, rum_usable_size(p) == u, "rum_usable_size not stable for %p", (void *)p);
    /* Every usable byte is the program's to use: fill and read back all of them. */
    uint64_t salt = mt_salt(c, 5, i);
    mt_fill(p, 0, u, salt);
    mt_verify(c, p, 0, u, salt, "usable bytes");
    slack += u - sizes[i];
    if (sizes[i] > 64) {
      size_t half = sizes[i] / 2;
      uint8_t *q = rum_realloc(p, half);
      if (q != NULL) {
        MT_CHECK(c, rum_usable_size(q) >= half, "usable %zu after shrink to %zu", rum_usable_size(q), half);
        p = q;
      }
    }
    rum_free(p);
  }
  mt_detail(c, "%u sizes, %zu bytes of slack in all", n, slack);
}

void mt_phase_alloc_on(struct mt_ctx *c) {
  if (c->nnodes == 0) {
    mt_fail(c, __FILE__, __LINE__, "no node ids: set RUM_MACHINES, --machines or --nodes");
    return;
  }
  if (c->replication > 1) {
    /* Replicated chunks live on the group the nodes choose: pinning is refused. */
    errno = 0;
    MT_CHECK(c, rum_alloc_on(c->node_ids[0], 4096) == NULL && errno == ENOTSUP,
             "rum_alloc_on with replication=%u: want NULL and ENOTSUP, errno %s", c->replication,
             mt_errno_name(errno));
    mt_detail(c, "replication=%u: rum_alloc_on refused with ENOTSUP", c->replication);
    return;
  }
  const size_t sizes[] = {1, 4096, 3 * 4096 + 5, MT_MIB + 7, 2 * c->cache_bytes + 3};
  const unsigned nsizes = sizeof sizes / sizeof sizes[0];
  int max_id = 0;
  bool has_zero = false;
  for (unsigned k = 0; k < c->nnodes; k++) {
    int id = c->node_ids[k];
    if (id > max_id) max_id = id;
    has_zero |= id == 0;
    for (unsigned i = 0; i < nsizes; i++) {
      struct rum_stats s0, s1;
      mt_stats(c, &s0);
      errno = 0;
      uint8_t *p = rum_alloc_on(id, sizes[i]);
      if (p == NULL) {
        mt_fail(c, __FILE__, __LINE__, "rum_alloc_on(%d, %zu) = NULL, errno %s", id, sizes[i],
                mt_errno_name(errno));
        continue;
      }
      mt_stats(c, &s1);
      MT_CHECK(c, s1.regions == s0.regions + 1, "rum_alloc_on(%d, %zu): regions %" PRIu64 " -> %" PRIu64,
               id, sizes[i], s0.regions, s1.regions);
      MT_CHECK(c, rum_usable_size(p) >= sizes[i], "rum_alloc_on(%d, %zu): usable %zu", id, sizes[i],
               rum_usable_size(p));
      uint64_t salt = mt_salt(c, 6, (uint64_t)id * 16 + i);
      mt_fill(p, 0, sizes[i], salt);
      MT_CHECK_RC(c, rum_flush(p, sizes[i]), 0);
      MT_CHECK_RC(c, rum_refresh(p, sizes[i]), 0);
      char what[64];
      snprintf(what, sizeof what, "rum_alloc_on(%d, %zu) after flush+refresh", id, sizes[i]);
      mt_verify(c, p, 0, sizes[i], salt, what);
      rum_free(p);
    }
  }
  const int bad[] = {max_id + 1, max_id + 1000, 65536, 1000000, INT_MAX, -1, INT_MIN};
  for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++)
    MT_CHECK_NULL_ERRNO(c, rum_alloc_on(bad[i], 4096), EINVAL);
  if (!has_zero) MT_CHECK_NULL_ERRNO(c, rum_alloc_on(0, 4096), EINVAL);
  mt_detail(c, "%u nodes x %u sizes, %zu unknown ids refused", c->nnodes, nsizes,
            sizeof bad / sizeof bad[0] + !has_zero);
}

/* Cumulative counters never go down. */
static void check_monotonic(struct mt_ctx *c, const struct rum_stats *a, const struct rum_stats *b) {
#define MT_MONO_(f) MT_CHECK(c, b->f >= a->f, "stats." #f " went down: %" PRIu64 " -> %" PRIu64, a->f, b->f)
  MT_MONO_(faults); MT_MONO_(read_faults); MT_MONO_(write_faults); MT_MONO_(hits);
  MT_MONO_(zero_fills); MT_MONO_(evictions); MT_MONO_(writebacks); MT_MONO_(readahead);
  MT_MONO_(bytes_in); MT_MONO_(bytes_out); MT_MONO_(rpcs); MT_MONO_(retries);
#undef MT_MONO_
  MT_CHECK(c, b->cache_pages <= b->cache_capacity, "cache_pages %" PRIu64 " > capacity %" PRIu64,
           b->cache_pages, b->cache_capacity);
  MT_CHECK(c, b->faults >= b->read_faults && b->faults >= b->write_faults,
           "faults %" PRIu64 " < read_faults %" PRIu64 " or write_faults %" PRIu64, b->faults,
           b->read_faults, b->write_faults);
}

void mt_phase_stats(struct mt_ctx *c) {
  struct rum_stats s0, s1, s2, s3, s4, s5;
  MT_CHECK_RC(c, rum_stats(NULL), RUM_EINVAL);
  size_t len = c->cache_bytes / 4;
  if (!mt_stats(c, &s0)) return;
  uint8_t *p = rum_alloc(len);
  if (p == NULL) {
    mt_fail(c, __FILE__, __LINE__, "rum_alloc(%zu) = NULL, errno %s", len, mt_errno_name(errno));
    return;
  }
  uint64_t salt = mt_salt(c, 7, 0);
  mt_fill(p, 0, len, salt);
  mt_stats(c, &s1);
  check_monotonic(c, &s0, &s1);
  MT_CHECK(c, s1.faults > s0.faults, "writing %zu fresh bytes: faults did not move", len);
  MT_CHECK(c, s1.write_faults > s0.write_faults, "writing %zu bytes: write_faults did not move", len);
  /* A block this size is carved out of a heap region: at most the first one is new. */
  MT_CHECK(c, s1.regions <= s0.regions + 1 && s1.regions >= 1, "regions %" PRIu64 " -> %" PRIu64 " after one alloc",
           s0.regions, s1.regions);
  MT_CHECK(c, s1.cache_capacity == s0.cache_capacity, "cache_capacity changed");
  MT_CHECK(c, s1.cache_pages > 0, "cache_pages is 0 right after writing %zu bytes", len);

  MT_CHECK_RC(c, rum_sync(), 0);
  mt_stats(c, &s2);
  check_monotonic(c, &s1, &s2);
  MT_CHECK(c, s2.writebacks > s1.writebacks, "rum_sync of dirty data: writebacks did not move");
  MT_CHECK(c, s2.bytes_out > s1.bytes_out, "rum_sync of dirty data: bytes_out did not move");
  MT_CHECK(c, s2.rpcs > s1.rpcs, "rum_sync of dirty data: rpcs did not move");

  MT_CHECK_RC(c, rum_refresh(p, len), 0);
  mt_verify(c, p, 0, len, salt, "stats: data after refresh");
  mt_stats(c, &s3);
  check_monotonic(c, &s2, &s3);
  MT_CHECK(c, s3.read_faults > s2.read_faults, "reading after refresh: read_faults did not move");
  MT_CHECK(c, s3.bytes_in > s2.bytes_in, "reading after refresh: bytes_in did not move");
  rum_free(p);
  mt_stats(c, &s4);
  MT_CHECK(c, s4.regions <= s1.regions, "regions %" PRIu64 " after free, %" PRIu64 " while allocated",
           s4.regions, s1.regions);
  MT_CHECK(c, rum_usable_size(p) == 0, "usable size %zu after rum_free, want 0", rum_usable_size(p));

  size_t big = 3 * c->cache_bytes;
  p = rum_alloc(big);
  if (p != NULL) {
    mt_fill(p, 0, big, salt);
    mt_stats(c, &s5);
    check_monotonic(c, &s4, &s5);
    MT_CHECK(c, s5.evictions > s4.evictions, "writing 3x the cache: evictions did not move");
    MT_CHECK(c, s5.writebacks > s4.writebacks, "writing 3x the cache: writebacks did not move");
    mt_verify(c, p, 0, big, salt, "stats: 3x cache block");
    rum_free(p);
  } else {
    mt_fail(c, __FILE__, __LINE__, "rum_alloc(%zu) = NULL, errno %s", big, mt_errno_name(errno));
  }
  mt_stats(c, &s5);
  mt_detail(c, "faults %" PRIu64 " (r %" PRIu64 " w %" PRIu64 ") evictions %" PRIu64 " writebacks %" PRIu64
            " rpcs %" PRIu64 " retries %" PRIu64, s5.faults, s5.read_faults, s5.write_faults,
            s5.evictions, s5.writebacks, s5.rpcs, s5.retries);
}

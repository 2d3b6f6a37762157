/* Phases alloc, calloc and realloc: the allocation calls and their edge cases. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem_test.h"

struct block {
  uint8_t *p;
  size_t size;
  uint64_t salt;
};

enum { MAX_LIVE = 64 };

/* The promises every allocation makes: 16-byte alignment and usable >= asked. */
static void check_shape(struct mt_ctx *c, const void *p, size_t size, const char *what) {
  MT_CHECK(c, ((uintptr_t)p & 15) == 0, "%s(%zu) = %p is not 16-byte aligned", what, size, p);
  size_t usable = rum_usable_size((void *)p);
  MT_CHECK(c, usable >= size, "%s(%zu): rum_usable_size = %zu", what, size, usable);
}

static void free_block(struct mt_ctx *c, struct block *live, unsigned *nlive, size_t *live_bytes,
                       unsigned i) {
  mt_verify(c, live[i].p, 0, live[i].size, live[i].salt, "alloc: block before free");
  rum_free(live[i].p);
  *live_bytes -= live[i].size;
  live[i] = live[--*nlive];
}

static int by_address(const void *a, const void *b) {
  const struct block *x = a, *y = b;
  return x->p < y->p ? -1 : x->p > y->p;
}

static void check_no_overlap(struct mt_ctx *c, const struct block *live, unsigned nlive) {
  struct block sorted[MAX_LIVE];
  memcpy(sorted, live, nlive * sizeof *live);
  qsort(sorted, nlive, sizeof *sorted, by_address);
  for (unsigned i = 1; i < nlive; i++)
    MT_CHECK(c, sorted[i - 1].p + sorted[i - 1].size <= sorted[i].p,
             "allocations overlap: %p+%zu and %p", (void *)sorted[i - 1].p, sorted[i - 1].size,
             (void *)sorted[i].p);
}

static void alloc_edge_cases(struct mt_ctx *c) {
  void *z1 = rum_alloc(0), *z2 = rum_alloc(0);
  MT_CHECK(c, z1 != NULL && z2 != NULL && z1 != z2,
           "rum_alloc(0) twice must give two unique pointers, got %p and %p", z1, z2);
  rum_free(z1);
  rum_free(z2);
  MT_CHECK_NULL_ERRNO(c, rum_alloc(SIZE_MAX), ENOMEM);
  MT_CHECK_NULL_ERRNO(c, rum_alloc(SIZE_MAX / 2 + 1), ENOMEM);
  MT_CHECK_NULL_ERRNO(c, rum_alloc((size_t)1 << 50), ENOMEM);
  rum_free(NULL);
}

void mt_phase_alloc(struct mt_ctx *c) {
  struct mt_rng r;
  mt_rng_seed(&r, c->seed, 1);
  alloc_edge_cases(c);

  const size_t fixed[] = {1,     2,     3,          7,          8,          15,
                          16,    17,    31,         4095,       4096,       4097,
                          8191,  65536, 65537,      MT_MIB - 1, MT_MIB + 1, c->max_size};
  const unsigned nfixed = sizeof fixed / sizeof fixed[0];
  const unsigned count = c->opt->quick ? 120 : 600;
  const size_t budget = c->opt->quick ? 64 * MT_MIB : 1024 * MT_MIB;
  const size_t live_cap = c->opt->quick ? 24 * MT_MIB : 192 * MT_MIB;
  struct block live[MAX_LIVE];
  unsigned nlive = 0, made = 0;
  size_t live_bytes = 0, written = 0;

  for (unsigned i = 0; i < count && written < budget; i++) {
    size_t size = i < nfixed ? fixed[i] : mt_rng_size(&r, c->max_size);
    while (nlive > 0 && (live_bytes + size > live_cap || nlive == MAX_LIVE))
      free_block(c, live, &nlive, &live_bytes, (unsigned)mt_rng_below(&r, nlive));
    errno = 0;
    uint8_t *p = rum_alloc(size);
    if (p == NULL) {
      mt_fail(c, __FILE__, __LINE__, "rum_alloc(%zu) = NULL, errno %s", size, mt_errno_name(errno));
      continue;
    }
    check_shape(c, p, size, "rum_alloc");
    uint64_t salt = mt_salt(c, 1, i);
    mt_fill(p, 0, size, salt);
    live[nlive++] = (struct block){p, size, salt};
    live_bytes += size;
    written += size;
    made++;
    if (mt_rng_below(&r, 4) == 0)
      free_block(c, live, &nlive, &live_bytes, (unsigned)mt_rng_below(&r, nlive));
    if (nlive > 0 && mt_rng_below(&r, 8) == 0) {
      struct block *b = &live[mt_rng_below(&r, nlive)];
      mt_verify(c, b->p, 0, b->size, b->salt, "alloc: random re-check");
    }
  }
  check_no_overlap(c, live, nlive);
  while (nlive > 0) free_block(c, live, &nlive, &live_bytes, nlive - 1);
  mt_detail(c, "%u allocations, %.1f MiB written and verified, max size %zu", made,
            (double)written / (double)MT_MIB, c->max_size);
}

void mt_phase_calloc(struct mt_ctx *c) {
  MT_CHECK_NULL_ERRNO(c, rum_calloc(SIZE_MAX, 2), ENOMEM);
  MT_CHECK_NULL_ERRNO(c, rum_calloc(2, SIZE_MAX), ENOMEM);
  MT_CHECK_NULL_ERRNO(c, rum_calloc((size_t)1 << 32, (size_t)1 << 32), ENOMEM);
  MT_CHECK_NULL_ERRNO(c, rum_calloc(SIZE_MAX / 16 + 1, 16), ENOMEM);
  MT_CHECK_NULL_ERRNO(c, rum_calloc((size_t)1 << 25, (size_t)1 << 25), ENOMEM); /* 1 PiB */
  /* calloc with a zero factor may return NULL or a unique pointer; either is freeable. */
  rum_free(rum_calloc(0, 16));
  rum_free(rum_calloc(16, 0));

  struct mt_rng r;
  mt_rng_seed(&r, c->seed, 2);
  const size_t elems[] = {1, 8, 24, 1000, 4096};
  const unsigned rounds = c->opt->quick ? 24 : 80;
  size_t zeroed = 0;
  for (unsigned i = 0; i < rounds; i++) {
    size_t elem = elems[mt_rng_below(&r, sizeof elems / sizeof elems[0])];
    size_t n = mt_rng_size(&r, c->max_size) / elem;
    if (n == 0) n = 1;
    size_t len = n * elem;
    /* Twice at the same size: the second block very likely reuses what the first one
     * left dirty (in the cache or on the node), and must still read as zeros. */
    for (int again = 0; again < 2; again++) {
      errno = 0;
      uint8_t *p = rum_calloc(n, elem);
      if (p == NULL) {
        mt_fail(c, __FILE__, __LINE__, "rum_calloc(%zu, %zu) = NULL, errno %s", n, elem,
                mt_errno_name(errno));
        break;
      }
      check_shape(c, p, len, "rum_calloc");
      mt_verify_zero(c, p, len, again ? "rum_calloc after free of a dirty block" : "rum_calloc");
      uint64_t salt = mt_salt(c, 2, i * 2 + (unsigned)again);
      mt_fill(p, 0, len, salt);
      mt_verify(c, p, 0, len, salt, "rum_calloc block after fill");
      rum_free(p);
      zeroed += len;
    }
  }
  mt_detail(c, "%u size pairs, %.1f MiB checked zero, 5 overflow cases", rounds,
            (double)zeroed / (double)MT_MIB);
}

/* One resize step: keeps the pattern over [0, min(old, new)) and extends it. */
static uint8_t *realloc_step(struct mt_ctx *c, uint8_t *p, size_t *size, size_t ns, uint64_t salt,
                             unsigned step) {
  errno = 0;
  uint8_t *q = rum_realloc(p, ns);
  if (q == NULL) {
    mt_fail(c, __FILE__, __LINE__, "realloc step %u: rum_realloc(%p, %zu) from %zu = NULL, errno %s",
            step, (void *)p, ns, *size, mt_errno_name(errno));
    mt_verify(c, p, 0, *size, salt, "realloc: block after a failed realloc");
    return p;
  }
  check_shape(c, q, ns, "rum_realloc");
  size_t keep = *size < ns ? *size : ns;
  char what[96];
  snprintf(what, sizeof what, "realloc step %u (%zu -> %zu, %s): kept bytes", step, *size, ns,
           q == p ? "in place" : "moved");
  mt_verify(c, q, 0, keep, salt, what);
  mt_fill(q, keep, ns, salt);
  *size = ns;
  return q;
}

void mt_phase_realloc(struct mt_ctx *c) {
  struct mt_rng r;
  mt_rng_seed(&r, c->seed, 3);
  uint64_t salt = mt_salt(c, 3, 0);
  size_t size = 1000;
  errno = 0;
  uint8_t *p = rum_realloc(NULL, size);
  if (p == NULL) {
    mt_fail(c, __FILE__, __LINE__, "rum_realloc(NULL, 1000) = NULL, errno %s", mt_errno_name(errno));
    return;
  }
  check_shape(c, p, size, "rum_realloc(NULL)");
  mt_fill(p, 0, size, salt);

  const unsigned steps = c->opt->quick ? 16 : 40;
  unsigned moved = 0;
  for (unsigned i = 0; i < steps; i++) {
    size_t ns;
    switch (mt_rng_below(&r, 6)) {
      case 0: case 1: ns = size + 1 + (size_t)mt_rng_below(&r, 4096); break;
      case 2: case 3: ns = mt_rng_size(&r, c->max_size); break;
      case 4: ns = size / 2 + 1; break;
      default: ns = size; break;
    }
    /* Half the steps resize clean data, half resize data still dirty in the cache:
     * a copy done by the nodes must see both. */
    if (mt_rng_below(&r, 2) == 0) MT_CHECK_RC(c, rum_sync(), 0);
    uint8_t *q = realloc_step(c, p, &size, ns, salt, i);
    moved += q != p;
    p = q;
  }
  /* Larger than the cache: part of the data is only on the nodes when it moves. */
  p = realloc_step(c, p, &size, 2 * c->cache_bytes + 12345, salt, steps);
  p = realloc_step(c, p, &size, 3 * c->cache_bytes + 777, salt, steps + 1);
  mt_verify(c, p, 0, size, salt, "realloc: whole block after the big steps");

  /* Impossible sizes must fail and leave the block alone. If one "succeeds" the
   * block is in an unknown state: report it and stop touching it. */
  const size_t impossible[] = {SIZE_MAX, SIZE_MAX - MT_PAGE + 2, (size_t)1 << 50};
  for (unsigned i = 0; i < sizeof impossible / sizeof impossible[0]; i++) {
    errno = 0;
    void *q = rum_realloc(p, impossible[i]);
    int e = errno;
    if (q != NULL) {
      mt_fail(c, __FILE__, __LINE__, "rum_realloc(%p, %zu) = %p (usable %zu, errno %s), want NULL/ENOMEM;"
              " block abandoned", (void *)p, impossible[i], q, rum_usable_size(q), mt_errno_name(e));
      return;
    }
    MT_CHECK(c, e == ENOMEM, "rum_realloc(p, %zu) = NULL with errno %s, want ENOMEM", impossible[i],
             mt_errno_name(e));
    MT_CHECK(c, rum_usable_size(p) >= size, "usable %zu < %zu after a failed realloc", rum_usable_size(p), size);
  }
  mt_verify(c, p, 0, size, salt, "realloc: block after failed reallocs");

  errno = 0;
  void *z = rum_realloc(p, 0);
  MT_CHECK(c, z == NULL, "rum_realloc(p, 0) = %p, want NULL (it frees)", z);
  MT_CHECK(c, rum_usable_size(p) == 0, "rum_realloc(p, 0): usable size %zu afterwards, want 0 (freed)",
           rum_usable_size(p));
  mt_detail(c, "%u resize steps (%u moved), up to %zu bytes", steps + 2, moved, 3 * c->cache_bytes + 777);
}

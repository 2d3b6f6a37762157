/* Phases sync, refresh, prefetch and big: write-back, re-reading and data much larger
 * than the client cache. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem_test.h"

static uint8_t *alloc_or_fail(struct mt_ctx *c, size_t len) {
  errno = 0;
  uint8_t *p = rum_alloc(len);
  if (p == NULL) mt_fail(c, __FILE__, __LINE__, "rum_alloc(%zu) = NULL, errno %s", len, mt_errno_name(errno));
  return p;
}

/* [0,a) and [b,len) hold salt1, [a,b) salt2. */
static void verify_split(struct mt_ctx *c, const uint8_t *p, size_t len, size_t a, size_t b,
                         uint64_t salt1, uint64_t salt2, const char *what) {
  mt_verify(c, p, 0, a, salt1, what);
  mt_verify(c, p, a, b, salt2, what);
  mt_verify(c, p, b, len, salt1, what);
}

void mt_phase_sync(struct mt_ctx *c) {
  struct mt_rng r;
  mt_rng_seed(&r, c->seed, 8);
  size_t len = c->cache_bytes / 2;
  uint8_t *p = alloc_or_fail(c, len);
  if (p == NULL) return;
  uint64_t salt1 = mt_salt(c, 8, 1), salt2 = mt_salt(c, 8, 2);
  struct rum_stats s0, s1, s2, s3;
  mt_fill(p, 0, len, salt1);
  mt_stats(c, &s0);
  MT_CHECK_RC(c, rum_sync(), 0);
  mt_stats(c, &s1);
  MT_CHECK(c, s1.writebacks >= s0.writebacks + 1, "rum_sync wrote back nothing after %zu dirty bytes", len);
  MT_CHECK_RC(c, rum_sync(), 0);
  mt_stats(c, &s2);
  if (s2.writebacks != s1.writebacks)
    mt_note(c, "rum_sync with nothing dirty wrote back %" PRIu64 " pages", s2.writebacks - s1.writebacks);

  /* An unaligned sub-range, flushed alone, then everything re-read from the nodes. */
  size_t a = 1 + (size_t)mt_rng_below(&r, len / 2);
  size_t b = a + 1 + (size_t)mt_rng_below(&r, len / 2 - 1);
  mt_fill(p, a, b, salt2);
  MT_CHECK_RC(c, rum_flush(p + a, b - a), 0);
  mt_stats(c, &s3);
  MT_CHECK(c, s3.writebacks > s2.writebacks, "rum_flush of %zu dirty bytes wrote back nothing", b - a);
  MT_CHECK_RC(c, rum_flush(p, 0), 0);
  MT_CHECK_RC(c, rum_flush(p + len - 1, 1), 0);
  MT_CHECK_RC(c, rum_refresh(p, len), 0);
  verify_split(c, p, len, a, b, salt1, salt2, "sync: flushed sub-range after refresh");
  rum_free(p);

  /* Larger than the cache: some pages were written back by eviction, the rest by
   * rum_flush; all must read back. */
  size_t big = 3 * c->cache_bytes + 1234;
  p = alloc_or_fail(c, big);
  if (p == NULL) return;
  mt_fill(p, 0, big, salt1);
  MT_CHECK_RC(c, rum_flush(p, big), 0);
  MT_CHECK_RC(c, rum_refresh(p, big), 0);
  mt_verify(c, p, 0, big, salt1, "sync: 3x cache block after flush and refresh");
  mt_fill(p, 0, big, salt2);
  MT_CHECK_RC(c, rum_sync(), 0);
  MT_CHECK_RC(c, rum_refresh(p, big), 0);
  mt_verify(c, p, 0, big, salt2, "sync: 3x cache block after sync and refresh");
  rum_free(p);
  mt_detail(c, "flushed [%zu, %zu) of %zu; %zu bytes past the cache", a, b, len, big);
}

static size_t refresh_size(const struct mt_ctx *c) {
  return c->cache_bytes / 4 + 333;
}

void mt_phase_refresh(struct mt_ctx *c) {
  size_t len = refresh_size(c);
  char name[128];
  mt_unique_name(c, "refresh", name, sizeof name);
  errno = 0;
  uint8_t *p = rum_alloc_named(name, len);
  if (p == NULL) {
    mt_fail(c, __FILE__, __LINE__, "rum_alloc_named(%s, %zu) = NULL, errno %s", name, len, mt_errno_name(errno));
    return;
  }
  uint64_t a = mt_salt(c, 10, 1), b = mt_salt(c, 10, 2), cs = mt_salt(c, 10, 3), d = mt_salt(c, 10, 4);
  struct rum_stats s0, s1;
  mt_fill(p, 0, len, a);
  MT_CHECK_RC(c, rum_sync(), 0);
  MT_CHECK_RC(c, rum_refresh(p, len), 0);
  mt_stats(c, &s0);
  mt_verify(c, p, 0, len, a, "refresh: clean data after refresh");
  mt_stats(c, &s1);
  MT_CHECK(c, s1.read_faults > s0.read_faults, "reading after rum_refresh caused no read fault");

  /* Dirty pages are written back before they are dropped. */
  size_t x = len / 3 + 5, y = 2 * len / 3 + 7;
  mt_fill(p, x, y, b);
  MT_CHECK_RC(c, rum_refresh(p, len), 0);
  verify_split(c, p, len, x, y, a, b, "refresh: dirty data after refresh");
  MT_CHECK_RC(c, rum_refresh(p + 1, 10), 0);
  MT_CHECK_RC(c, rum_refresh(p, 0), 0);
  verify_split(c, p, len, x, y, a, b, "refresh: after small refreshes");

  /* Another process writes the region; after rum_refresh this one sees its bytes. */
  mt_fill(p, 0, len, cs);
  MT_CHECK_RC(c, rum_sync(), 0);
  mt_verify(c, p, 0, len, cs, "refresh: before the other process writes");
  char seed[32];
  snprintf(seed, sizeof seed, "%" PRIu64, c->seed);
  const char *args[12] = {"--phase", "rewrite-child", "--name", name, "--seed", seed, NULL};
  if (c->opt->machines != NULL) {
    args[6] = "--machines";
    args[7] = c->opt->machines;
    args[8] = NULL;
  }
  int st = mt_run_self(c, args);
  MT_CHECK(c, st == 0, "rewrite-child exited with %d", st);
  if (st >= 0) { /* even if the child found faults, it rewrote the region */
    MT_CHECK_RC(c, rum_refresh(p, len), 0);
    mt_verify(c, p, 0, len, d, "refresh: bytes another process wrote, after rum_refresh");
  }
  rum_free(p);
  mt_detail(c, "%zu bytes; dirty refresh; a second process rewrote the region", len);
}

/* Run in a second process by the refresh phase: the region holds salt 3 of phase 10;
 * overwrite it with salt 4 and detach (which writes back). */
void mt_phase_rewrite_child(struct mt_ctx *c) {
  size_t len = 0;
  errno = 0;
  uint8_t *p = rum_attach(c->opt->name, &len);
  if (p == NULL) {
    mt_fail(c, __FILE__, __LINE__, "rum_attach(%s) = NULL, errno %s", c->opt->name, mt_errno_name(errno));
    return;
  }
  size_t want = refresh_size(c);
  MT_CHECK(c, len == want, "rum_attach(%s): size %zu, the parent created %zu", c->opt->name, len, want);
  if (len > want) len = want;
  mt_verify(c, p, 0, len, mt_salt(c, 10, 3), "rewrite-child: what the parent synced");
  mt_fill(p, 0, len, mt_salt(c, 10, 4));
  MT_CHECK_RC(c, rum_detach(p), 0);
  mt_detail(c, "rewrote %zu bytes of %s", len, c->opt->name);
}

void mt_phase_prefetch(struct mt_ctx *c) {
  size_t len = c->cache_bytes / 2;
  uint8_t *p = alloc_or_fail(c, len);
  if (p == NULL) return;
  uint64_t s1 = mt_salt(c, 11, 1), s2 = mt_salt(c, 11, 2);
  mt_fill(p, 0, len, s1);
  MT_CHECK_RC(c, rum_sync(), 0);
  MT_CHECK_RC(c, rum_refresh(p, len), 0);
  MT_CHECK_RC(c, rum_prefetch(p, len), 0);
  mt_verify(c, p, 0, len, s1, "prefetch: whole block");
  MT_CHECK_RC(c, rum_refresh(p, len), 0);
  MT_CHECK_RC(c, rum_prefetch(p + 100, 5000), 0);
  MT_CHECK_RC(c, rum_prefetch(p, 0), 0);
  mt_verify(c, p, 0, len, s1, "prefetch: after partial prefetch");
  /* Writes racing the fetches the hint started. */
  MT_CHECK_RC(c, rum_refresh(p, len), 0);
  MT_CHECK_RC(c, rum_prefetch(p, len), 0);
  mt_fill(p, 0, len, s2);
  mt_verify(c, p, 0, len, s2, "prefetch: written while prefetching");
  MT_CHECK_RC(c, rum_sync(), 0);
  MT_CHECK_RC(c, rum_refresh(p, len), 0);
  mt_verify(c, p, 0, len, s2, "prefetch: written while prefetching, after sync+refresh");

  /* rum_prefetchv: every third page, scattered, in one call; reading them afterwards
   * takes (almost) no fault. Empty and foreign ranges are ignored, bad arguments
   * refused. */
  MT_CHECK_RC(c, rum_refresh(p, len), 0);
  enum { NV = 64 };
  struct iovec iov[NV + 2];
  int nv = 0;
  for (size_t off = 0; off + 200 < len && nv < NV; off += 3 * MT_PAGE) iov[nv++] = (struct iovec){p + off + 100, 100};
  int nscattered = nv;
  static char foreign[64];
  iov[nv++] = (struct iovec){foreign, sizeof foreign};
  iov[nv++] = (struct iovec){p, 0};
  MT_CHECK_RC(c, rum_prefetchv(iov, nv), 0);
  struct rum_stats before, after;
  MT_CHECK_RC(c, rum_stats(&before), 0);
  uint64_t sum = 0;
  for (int i = 0; i < nscattered; i++) sum += ((volatile uint8_t *)iov[i].iov_base)[0];
  MT_CHECK_RC(c, rum_stats(&after), 0);
  MT_CHECK(c, after.faults - before.faults <= (uint64_t)nscattered / 4,
           "rum_prefetchv: reading %d prefetched pages took %" PRIu64 " faults", nscattered, after.faults - before.faults);
  (void)sum;
  mt_verify(c, p, 0, len, s2, "prefetchv: scattered pages");
  MT_CHECK_RC(c, rum_prefetchv(iov, 0), 0);
  MT_CHECK_RC(c, rum_prefetchv(NULL, 1), RUM_EINVAL);
  MT_CHECK_RC(c, rum_prefetchv(iov, -1), RUM_EINVAL);
  rum_free(p);

  /* A hint larger than the cache must not break anything. */
  size_t big = 3 * c->cache_bytes;
  p = alloc_or_fail(c, big);
  if (p == NULL) return;
  mt_fill(p, 0, big, s1);
  MT_CHECK_RC(c, rum_sync(), 0);
  MT_CHECK_RC(c, rum_refresh(p, big), 0);
  MT_CHECK_RC(c, rum_prefetch(p, big), 0);
  mt_verify(c, p, 0, big, s1, "prefetch: 3x cache block");
  rum_free(p);
  mt_detail(c, "%zu and %zu byte blocks, %d scattered pages at once", len, big, nscattered);
}

static uint64_t page_salt(const struct mt_ctx *c, size_t page, uint16_t version) {
  return mt_salt(c, 12, ((uint64_t)page << 16) | version);
}

static void verify_pages(struct mt_ctx *c, const uint8_t *p, size_t size, const uint16_t *ver,
                         const char *what) {
  size_t npages = (size + MT_PAGE - 1) / MT_PAGE;
  for (size_t pg = 0; pg < npages && atomic_load(&c->failures) < MT_MAX_REPORTS; pg++) {
    size_t end = (pg + 1) * MT_PAGE < size ? (pg + 1) * MT_PAGE : size;
    mt_verify(c, p, pg * MT_PAGE, end, page_salt(c, pg, ver[pg]), what);
  }
}

void mt_phase_big(struct mt_ctx *c) {
  size_t size = 20 * c->cache_bytes + 999;
  size_t npages = (size + MT_PAGE - 1) / MT_PAGE;
  uint16_t *ver = calloc(npages, sizeof *ver);
  uint8_t *p = ver ? alloc_or_fail(c, size) : NULL;
  if (p == NULL) {
    free(ver);
    return;
  }
  struct mt_rng r;
  mt_rng_seed(&r, c->seed, 12);
  struct rum_stats s0, s1, s2;
  mt_stats(c, &s0);
  double t0 = mt_now();
  for (size_t pg = 0; pg < npages; pg++) {
    size_t end = (pg + 1) * MT_PAGE < size ? (pg + 1) * MT_PAGE : size;
    mt_fill(p, pg * MT_PAGE, end, page_salt(c, pg, 0));
  }
  double t_write = mt_now() - t0;
  mt_stats(c, &s1);
  MT_CHECK(c, s1.evictions > s0.evictions, "writing 20x the cache evicted nothing");
  MT_CHECK(c, s1.writebacks > s0.writebacks, "writing 20x the cache wrote nothing back");
  MT_CHECK(c, s1.cache_pages <= s1.cache_capacity, "cache_pages %" PRIu64 " > capacity %" PRIu64,
           s1.cache_pages, s1.cache_capacity);
  t0 = mt_now();
  verify_pages(c, p, size, ver, "big: sequential verify");
  double t_read = mt_now() - t0;

  /* Random rewrites and re-reads: pages bounce between the cache and the nodes. */
  unsigned rewrites = c->opt->quick ? 2000 : 20000;
  for (unsigned i = 0; i < rewrites; i++) {
    size_t pg = (size_t)mt_rng_below(&r, npages);
    size_t end = (pg + 1) * MT_PAGE < size ? (pg + 1) * MT_PAGE : size;
    ver[pg]++;
    mt_fill(p, pg * MT_PAGE, end, page_salt(c, pg, ver[pg]));
    size_t other = (size_t)mt_rng_below(&r, npages);
    end = (other + 1) * MT_PAGE < size ? (other + 1) * MT_PAGE : size;
    mt_verify(c, p, other * MT_PAGE, end, page_salt(c, other, ver[other]), "big: random page");
  }
  verify_pages(c, p, size, ver, "big: verify after random rewrites");
  if (!c->opt->quick) {
    MT_CHECK_RC(c, rum_sync(), 0);
    MT_CHECK_RC(c, rum_refresh(p, size), 0);
    verify_pages(c, p, size, ver, "big: verify after sync and refresh");
  }
  mt_stats(c, &s2);
  rum_free(p);
  free(ver);
  double mib = (double)size / (double)MT_MIB;
  mt_detail(c, "%.1f MiB = 20x cache; write %.0f MiB/s, verify %.0f MiB/s; evictions %" PRIu64
            " writebacks %" PRIu64, mib, mib / t_write, mib / t_read, s2.evictions - s0.evictions,
            s2.writebacks - s0.writebacks);
}

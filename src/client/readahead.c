/* Asynchronous read-ahead: while a sequential scan reads one window of pages, the next
 * windows are already on their way from their nodes (striped regions: from several
 * nodes at once), so the scan waits for the network only when it outruns it.
 *
 * There is no read-ahead thread. The fault that finds the scan streaming (its window
 * at the largest) starts up to `depth` windows after it as RPC batches left in flight
 * (struct rum_store_ops fetch_start); their pages are FETCHING and hold their frames.
 * The answers wait in the transport, or are taken in by whichever thread drives the
 * RPC endpoint meanwhile. The fault that reaches a window in flight finishes it (waits
 * for what has not arrived, installs the pages) and starts the next one, which keeps
 * `depth` windows ahead of the scan. Anyone else who meets a FETCHING page (another
 * thread, rum_refresh, rum_free) finishes the window too, or waits for whoever does,
 * so no window is left behind. A window that fails (node unreachable) only turns its
 * pages ABSENT again: the fault that needs one of them then fetches it itself and
 * reports the error if it persists. Everything here may run in the fault handler. */
#include <sched.h>

#include <rum/rum_errors.h>

#include "client/cache.h"
#include "util/clock.h"

static void count(_Atomic uint64_t *counter, uint64_t n) {
  atomic_fetch_add_explicit(counter, n, memory_order_relaxed);
}

static struct rum_readahead *slot_claim(struct rum_cache *c) {
  for (unsigned i = 0; i < RUM_CACHE_READAHEAD_OPS; i++) {
    int expected = RUM_RA_FREE;
    if (atomic_load_explicit(&c->ra[i].state, memory_order_relaxed) == RUM_RA_FREE &&
        atomic_compare_exchange_strong_explicit(&c->ra[i].state, &expected, RUM_RA_SETUP, memory_order_acquire,
                                                memory_order_relaxed))
      return &c->ra[i];
  }
  return NULL;
}

static void slot_release(struct rum_readahead *ra) {
  atomic_store_explicit(&ra->state, RUM_RA_FREE, memory_order_release);
}

/* Pages [first, first + n) held FETCHING with their frames go back to ABSENT. */
static void unclaim(struct rum_cache *c, struct rum_region *r, uint64_t first, unsigned n, const uint32_t *fr) {
  rum__cache_frames_give(c, fr, n);
  for (unsigned i = 0; i < n; i++) rum__page_set(r, first + i, RUM_PAGE_ABSENT, false);
}

/* Start one window at first (ABSENT, to be fetched) of up to want pages in slot ra.
 * Returns the pages started, 0 when first was taken meanwhile, or -1 when nothing
 * more can start now (no frame, buffer or RPC op to spare). */
static int window_start(struct rum_cache *c, struct rum_readahead *ra, struct rum_region *r, uint64_t first,
                        unsigned want) {
  if (!rum__page_cas(r, first, RUM_PAGE_ABSENT, RUM_PAGE_FETCHING, NULL)) return 0;
  if (rum__cache_page_is_zero(r, rum__page_load(r, first))) {
    rum__page_set(r, first, RUM_PAGE_ABSENT, false); /* zeros cost nothing to make later */
    return 0;
  }
  unsigned got = rum__cache_frames_take(c, ra->frames, want, r, first);
  unsigned n = 1;
  while (n < got) {
    uint8_t v = rum__page_load(r, first + n);
    if ((v & RUM_PAGE_STATE_MASK) != RUM_PAGE_ABSENT || rum__cache_page_is_zero(r, v)) break;
    if (!rum__page_cas(r, first + n, RUM_PAGE_ABSENT, RUM_PAGE_FETCHING, NULL)) break;
    n++;
  }
  if (n < got) rum__cache_frames_give(c, ra->frames + n, got - n);
  const struct rum_fault_ops *ops = c->fault->ops;
  uint8_t *addr = rum__region_page_addr(r, first);
  uint8_t *target = ops->fill_target(c->fault, addr, (size_t)n * RUM_PAGE_SIZE);
  unsigned staging = RUM_CACHE_STAGING;
  if (target == NULL) {
    staging = rum__cache_staging_try(c);
    if (staging == RUM_CACHE_STAGING) {
      unclaim(c, r, first, n, ra->frames);
      return -1;
    }
    target = c->staging + (size_t)staging * RUM_CACHE_STAGING_BYTES;
  }
  struct rum_fetch_op *op = c->store.fetch_start(c->store_ctx, r, first, n, target);
  if (op == NULL) {
    if (staging < RUM_CACHE_STAGING) {
      rum__cache_staging_give(c, staging);
    } else {
      ops->drop(c->fault, addr, (size_t)n * RUM_PAGE_SIZE); /* give back what fill_target set up */
    }
    unclaim(c, r, first, n, ra->frames);
    return -1;
  }
  atomic_store_explicit(&ra->region, r, memory_order_relaxed);
  atomic_store_explicit(&ra->first, first, memory_order_relaxed);
  atomic_store_explicit(&ra->npages, n, memory_order_relaxed);
  ra->staging = staging;
  ra->target = target;
  ra->op = op;
  atomic_store_explicit(&ra->state, RUM_RA_INFLIGHT, memory_order_release);
  count(&c->counters.readahead_ops, 1);
  return (int)n;
}

void rum__readahead_more(struct rum_cache *c, struct rum_region *r, uint64_t page, unsigned window) {
  if (c->readahead_depth == 0 || window == 0) return;
  /* Never hold more than a quarter of the cache in flight: it would evict the pages
   * the scan is about to read. */
  uint64_t depth = c->readahead_depth;
  if (depth * window > c->capacity / 4) depth = c->capacity / 4 / window;
  uint64_t npages = atomic_load_explicit(&r->npages, memory_order_acquire);
  /* The window being read (at page) and depth more; ending at a chunk boundary so
   * that the windows stay whole chunks as the scan moves on. */
  uint64_t limit = page + (depth + 1) * window;
  uint64_t aligned = limit & ~(uint64_t)(RUM_CHUNK_PAGES - 1);
  if (aligned > page + window) limit = aligned;
  if (limit > npages) limit = npages;
  for (uint64_t p = page + 1; p < limit;) {
    uint8_t v = rum__page_load(r, p);
    if ((v & RUM_PAGE_STATE_MASK) != RUM_PAGE_ABSENT || rum__cache_page_is_zero(r, v)) {
      p++; /* resident, in flight, or zeros: nothing to fetch */
      continue;
    }
    struct rum_readahead *ra = slot_claim(c);
    if (ra == NULL) return;
    /* A window never crosses a chunk boundary: then it is one READ from one node, and
     * the windows after it go to the next chunks' nodes, all at once. */
    uint64_t chunk_end = ((p >> RUM_CHUNK_SHIFT) + 1) << RUM_CHUNK_SHIFT;
    uint64_t end = p + window < chunk_end ? p + window : chunk_end;
    uint64_t want = (end < limit ? end : limit) - p;
    int n = window_start(c, ra, r, p, (unsigned)want);
    if (n <= 0) slot_release(ra);
    if (n < 0) return;
    p += n > 0 ? (uint64_t)n : 1;
  }
}

/* The op of the window this thread claimed (COMPLETING) is done with status rc:
 * install its pages, or give them back on failure (or when not installing). */
static void window_settle(struct rum_cache *c, struct rum_readahead *ra, int rc, bool install) {
  struct rum_region *r = atomic_load_explicit(&ra->region, memory_order_relaxed);
  uint64_t first = atomic_load_explicit(&ra->first, memory_order_relaxed);
  unsigned n = atomic_load_explicit(&ra->npages, memory_order_relaxed);
  const struct rum_fault_ops *ops = c->fault->ops;
  uint8_t *addr = rum__region_page_addr(r, first);
  size_t len = (size_t)n * RUM_PAGE_SIZE;
  ra->op = NULL;
  if (rc != 0 || !install) {
    if (rc != 0) count(&c->counters.fetch_errors, 1);
    if (ra->staging < RUM_CACHE_STAGING) rum__cache_staging_give(c, ra->staging);
    if (install) ops->drop(c->fault, addr, len); /* the in-place target may hold part of it */
    unclaim(c, r, first, n, ra->frames);
    slot_release(ra);
    return;
  }
  rc = ops->install(c->fault, addr, ra->target, len, false);
  if (ra->staging < RUM_CACHE_STAGING) rum__cache_staging_give(c, ra->staging);
  if (rc != 0) {
    struct rum_store_error ierr = {0, rc};
    rum__cache_fatal_page("cannot install page", r, first, &ierr);
  }
  count(&c->counters.readahead, n);
  rum__cache_publish(c, r, first, n, ra->frames, 0);
  slot_release(ra);
}

/* Finish the window this thread claimed (COMPLETING): wait for its answers, then
 * install them (or give the pages back). */
static void window_finish(struct rum_cache *c, struct rum_readahead *ra, bool install) {
  struct rum_store_error err = {0, 0};
  int rc = c->store.fetch_finish(c->store_ctx, ra->op, true, &err);
  window_settle(c, ra, rc, install);
}

bool rum__readahead_help(struct rum_cache *c, struct rum_region *r, uint64_t page) {
  for (unsigned i = 0; i < RUM_CACHE_READAHEAD_OPS; i++) {
    struct rum_readahead *ra = &c->ra[i];
    if (atomic_load_explicit(&ra->state, memory_order_acquire) != RUM_RA_INFLIGHT) continue;
    uint64_t first = atomic_load_explicit(&ra->first, memory_order_relaxed);
    if (atomic_load_explicit(&ra->region, memory_order_relaxed) != r || page < first ||
        page >= first + atomic_load_explicit(&ra->npages, memory_order_relaxed))
      continue;
    /* If the slot was finished and reused for another window between the check and
     * the claim, finishing that one instead is harmless: the caller looks again. */
    int expected = RUM_RA_INFLIGHT;
    if (!atomic_compare_exchange_strong_explicit(&ra->state, &expected, RUM_RA_COMPLETING, memory_order_acquire,
                                                 memory_order_relaxed))
      continue;
    window_finish(c, ra, true);
    return true;
  }
  return false;
}

void rum__cache_settle(struct rum_cache *c, struct rum_region *r, uint64_t page, uint8_t seen) {
  unsigned spins = 0;
  while (rum__page_load(r, page) == seen) {
    /* Checked again and again: the window may have been started after the first look,
     * and a FETCHING page in a window nobody finishes would wait forever. */
    if ((seen & RUM_PAGE_STATE_MASK) == RUM_PAGE_FETCHING && c->readahead_depth > 0 &&
        rum__readahead_help(c, r, page))
      return;
    if (++spins < 200) {
      rum__cpu_relax();
    } else {
      sched_yield();
    }
  }
}

void rum__readahead_drain(struct rum_cache *c) {
  for (unsigned i = 0; i < RUM_CACHE_READAHEAD_OPS; i++) {
    struct rum_readahead *ra = &c->ra[i];
    int expected = RUM_RA_INFLIGHT;
    if (atomic_compare_exchange_strong(&ra->state, &expected, RUM_RA_COMPLETING)) window_finish(c, ra, false);
  }
}

/* The page cache: which pages of which regions are resident, the fault state machine,
 * CLOCK eviction, read-ahead and batched write-back.
 *
 * Page bytes live in the arena itself (installed by the fault backend); the cache
 * only bounds how many are resident and decides which to evict. It talks to the
 * memory nodes through struct rum_store_ops, a small seam: the client implements it
 * with RPCs (fetch.c), unit tests with an in-process page store. Everything here may
 * run in the faulting thread's signal handler: no allocation after create, spinlocks
 * only around code that never touches grid memory. */
#ifndef RUM_CLIENT_CACHE_H
#define RUM_CLIENT_CACHE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "client/fault.h"
#include "client/region_table.h"
#include "util/spinlock.h"

/* One page handed to the store for write-back. */
struct rum_page_io {
  struct rum_region *region;
  uint64_t page;
  const uint8_t *data; /* RUM_PAGE_SIZE bytes, valid during the call */
};

/* What went wrong talking to a node, for messages. */
struct rum_store_error {
  uint32_t node_id;
  int code;
};

/* One piece of a batched read (rum_store_ops.fetchv). */
struct rum_fetch_piece {
  struct rum_region *r;
  uint64_t first;
  uint32_t npages;
  int status; /* set by fetchv */
  uint8_t *dst;
};

struct rum_store_ops {
  /* Read pages [first, first + npages) of r into dst (npages * RUM_PAGE_SIZE bytes).
   * npages <= RUM_WIRE_MAX_PAGES. May be called from signal context.
   * Returns 0 or a negative RUM_E* code with *err filled in. */
  int (*fetch)(void *ctx, struct rum_region *r, uint64_t first, uint32_t npages, uint8_t *dst,
               struct rum_store_error *err);
  /* Write n pages (sorted by region, then page; n <= RUM_WIRE_MAX_PAGES) durably.
   * All or nothing from the cache's view: on failure every page stays dirty. */
  int (*store)(void *ctx, const struct rum_page_io *pages, unsigned n, struct rum_store_error *err);
  /* Optional (NULL: read-ahead is synchronous only). Start reading like fetch and
   * return at once: an op to finish later, or NULL when the store cannot start one
   * now (nothing started). dst must stay reserved until the op is finished. */
  struct rum_fetch_op *(*fetch_start)(void *ctx, struct rum_region *r, uint64_t first, uint32_t npages,
                                      uint8_t *dst);
  /* Finish op: wait=false returns 1 while it is still in flight; otherwise 0 (dst
   * filled) or a negative RUM_E* with *err, and op is gone. Signal context too. */
  int (*fetch_finish)(void *ctx, struct rum_fetch_op *op, bool wait, struct rum_store_error *err);
  /* Optional (NULL: rum_prefetchv fetches range by range). Read n pieces (n <=
   * RUM_WIRE_MAX_PAGES; each within one chunk, at most RUM_WIRE_MAX_PAGES pages) all
   * at once and wait for all of them; each piece's status gets 0 or a RUM_E* code.
   * Returns 0 when every piece arrived, else the first failure with *err. Not called
   * from signal context. */
  int (*fetchv)(void *ctx, struct rum_fetch_piece *pieces, unsigned n, struct rum_store_error *err);
};

struct rum_counters {
  _Atomic uint64_t faults, read_faults, write_faults, hits, zero_fills;
  _Atomic uint64_t evictions, writebacks, readahead, fetch_errors, store_errors;
  _Atomic uint64_t readahead_ops;   /* asynchronous read-ahead windows started */
  _Atomic uint64_t readahead_waits; /* faults that found their window still in flight */
};

/* Called instead of stopping the program when a page cannot be fetched (tests).
 * The default (NULL) writes a message naming the region, page and node and aborts. */
typedef void (*rum_fetch_failed_fn)(void *ctx, const struct rum_region *r, uint64_t page,
                                    const struct rum_store_error *err);

struct rum_cache_config {
  uint64_t capacity_pages;    /* resident pages at most (>= RUM_WIRE_MAX_PAGES * 2) */
  unsigned max_readahead;     /* pages one sequential fault may bring, 1..64; 0 = 64 */
  unsigned evict_batch;       /* victims chosen per sweep; 0 = 32 */
  /* Read-ahead windows kept in flight ahead of a sequential scan (asynchronously, so
   * the program scans one window while the next ones travel), 1..RUM_CACHE_READAHEAD_OPS;
   * 0 = RUM_CACHE_READAHEAD_DEPTH; -1 = none (synchronous read-ahead only, also when
   * the store has no fetch_start). */
  int readahead_depth;
};

struct rum_frame {
  struct rum_region *region; /* NULL when free */
  uint64_t page;
  _Atomic uint8_t ref;       /* CLOCK reference bit, set on fault events */
};

enum {
  RUM_CACHE_READAHEAD_OPS = 8, /* asynchronous read-ahead windows in flight at most */
  RUM_CACHE_READAHEAD_DEPTH = 4,
  RUM_READAHEAD_MIN_WINDOW = 4, /* smaller windows (tiny caches, max_readahead 1): no async */
  /* Fetch buffers for backends that install by copy: one per window in flight plus
   * room for synchronous fills by several threads. */
  RUM_CACHE_STAGING = 8 + RUM_CACHE_READAHEAD_OPS,
};

enum rum_readahead_state { RUM_RA_FREE = 0, RUM_RA_SETUP, RUM_RA_INFLIGHT, RUM_RA_COMPLETING };

/* One asynchronous read-ahead window: pages [first, first + npages) of region are
 * FETCHING, hold the frames below, and arrive into target (a staging buffer, or the
 * pages' own backing when the backend fills in place). Whoever moves state INFLIGHT
 * -> COMPLETING (by compare-and-swap) finishes the op and installs the pages; a
 * thread that faults on one of them does so, or waits for whoever does. */
struct rum_readahead {
  _Atomic int state;
  _Atomic(struct rum_region *) region; /* read by helpers before they claim the slot */
  _Atomic uint64_t first;
  _Atomic unsigned npages;
  unsigned staging;                    /* index, or RUM_CACHE_STAGING when in place */
  uint8_t *target;
  struct rum_fetch_op *op;
  uint32_t frames[RUM_WIRE_MAX_PAGES];
};

struct rum_cache {
  struct rum_region_table *table;
  struct rum_fault_backend *fault;
  struct rum_store_ops store;
  void *store_ctx;
  rum_fetch_failed_fn fetch_failed;
  void *fetch_failed_ctx;
  uint64_t capacity;
  unsigned max_readahead, evict_batch;
  rum_spinlock_t lock;         /* frames[].region/page, free stack, hand */
  struct rum_frame *frames;
  uint32_t *free_stack;
  uint64_t nfree;
  uint64_t hand;
  _Atomic uint64_t resident;
  uint8_t *staging;            /* RUM_CACHE_STAGING buffers of RUM_WIRE_MAX_PAGES pages */
  _Atomic bool staging_busy[RUM_CACHE_STAGING];
  unsigned readahead_depth;    /* 0: no asynchronous read-ahead */
  struct rum_readahead ra[RUM_CACHE_READAHEAD_OPS];
  struct rum_counters counters;
  struct rum_journal *_Atomic journal; /* NULL: syncs are not atomic (journal.h) */
};

/* Create a cache over t and b (both borrowed; they outlive the cache).
 * Returns 0 and *out, RUM_EINVAL, RUM_ENOMEM. */
int rum__cache_create(const struct rum_cache_config *cfg, struct rum_region_table *t,
                      struct rum_fault_backend *b, const struct rum_store_ops *store, void *store_ctx,
                      struct rum_cache **out);
void rum__cache_destroy(struct rum_cache *c);

/* The fault entry (a rum_fault_fn): serve a fault at addr. Returns 0 when handled,
 * -1 when addr is not inside a region's pages. */
int rum__cache_fault(void *cache, void *addr, int is_write);

/* Write back the dirty pages of r in [first, first + n). Returns 0 or the store's
 * error (the pages that failed stay dirty). Normal context or signal context. */
int rum__cache_flush(struct rum_cache *c, struct rum_region *r, uint64_t first, uint64_t n);
/* Flush, then drop the clean pages of the range and mark it "fetch from the node"
 * so that the next touch reads the node's bytes. */
int rum__cache_refresh(struct rum_cache *c, struct rum_region *r, uint64_t first, uint64_t n);
/* Drop every resident page of r in [first, first + n) WITHOUT writing it back (free,
 * shrink). Pages left are ABSENT; stored marks are kept unless forget is set, which
 * clears RUM_PAGE_FREED too. */
void rum__cache_discard(struct rum_cache *c, struct rum_region *r, uint64_t first, uint64_t n,
                        bool forget);
/* Mark pages [first, first + n) of r freed or in use again. Freed: a page that is
 * not ABSENT gets RUM_PAGE_FREED, an ABSENT one forgets RUM_PAGE_STORED (so that it
 * reads as zeros when reused). In use: RUM_PAGE_FREED is cleared. Lock-free, O(n). */
void rum__cache_mark_freed(struct rum_cache *c, struct rum_region *r, uint64_t first, uint64_t n, bool freed);
/* Fetch the absent pages of the range now (rum_prefetch). Returns 0 or RUM_E*. */
int rum__cache_prefetch(struct rum_cache *c, struct rum_region *r, uint64_t first, uint64_t n);
/* One range of rum_prefetchv: pages [first, first + n) of r. */
struct rum_prefetch_range {
  struct rum_region *r;
  uint64_t first, n;
};
/* Fetch the absent pages of n ranges with every read of a batch (up to
 * RUM_WIRE_MAX_PAGES pages) in flight at once (store.fetchv), then install them. At
 * most half the cache in all. Returns 0 or the first RUM_E* (failed pages stay
 * ABSENT). */
int rum__cache_prefetchv(struct rum_cache *c, const struct rum_prefetch_range *rg, unsigned n);
/* Write back dirty pages of every region (rum_sync). */
int rum__cache_sync(struct rum_cache *c);

/* Internal to cache.c / writeback.c. A victim claimed in BUSY state. */
struct rum_victim {
  struct rum_region *region;
  uint64_t page;
  bool dirty;
  bool keep;   /* write-back failed: return to DIRTY instead of dropping */
  bool freed;  /* RUM_PAGE_FREED: dropped without write-back, forgetting the node's copy */
};
/* Write back the claimed dirty victims v[0..n) (n <= RUM_WIRE_MAX_PAGES), sorted.
 * Protects them against writes first, then skips (and sets freed on) those still
 * marked RUM_PAGE_FREED. Sets keep on failure. Returns 0 or RUM_E*
 * (then *err, if not NULL, says which node failed and how). */
int rum__writeback_victims(struct rum_cache *c, struct rum_victim *v, unsigned n, struct rum_store_error *err);
/* Drop the claimed victims (drop=true: evict; else make them CLEAN again) and
 * release their frames. Coalesces contiguous runs into one system call. */
void rum__cache_finish_victims(struct rum_cache *c, struct rum_victim *v, unsigned n, bool drop);
void rum__victims_sort(struct rum_victim *v, unsigned n);

/* Internal to cache.c / readahead.c. */
enum { RUM_CACHE_STAGING_BYTES = RUM_WIRE_MAX_PAGES * RUM_PAGE_SIZE };
/* Frames for up to want pages, at least one, evicting when none are free. */
unsigned rum__cache_frames_take(struct rum_cache *c, uint32_t *out, unsigned want, const struct rum_region *r,
                                uint64_t page);
void rum__cache_frames_give(struct rum_cache *c, const uint32_t *f, unsigned n);
/* A free staging buffer's index, or RUM_CACHE_STAGING when none is free now. */
unsigned rum__cache_staging_try(struct rum_cache *c);
void rum__cache_staging_give(struct rum_cache *c, unsigned i);
/* Make pages [page, page + n), installed and held by this thread (FETCHING), resident
 * in frames fr: the first ndirty of them DIRTY (installed writable), the rest CLEAN. */
void rum__cache_publish(struct rum_cache *c, struct rum_region *r, uint64_t page, unsigned n, const uint32_t *fr,
                        unsigned ndirty);
/* Whether page v of r reads as zeros without asking a node. */
static inline bool rum__cache_page_is_zero(const struct rum_region *r, uint8_t v) {
  return r->fresh && !(v & RUM_PAGE_STORED);
}
_Noreturn void rum__cache_fatal_page(const char *what, const struct rum_region *r, uint64_t page,
                                     const struct rum_store_error *err);

/* Asynchronous read-ahead (readahead.c). A sequential scan faulted at page of r:
 * start windows so that the next depth windows after page are in flight. */
void rum__readahead_more(struct rum_cache *c, struct rum_region *r, uint64_t page, unsigned window);
/* If page of r is in a window in flight that nobody is finishing, finish it (waiting
 * for its answer) and install it. Returns whether this thread did. */
bool rum__readahead_help(struct rum_cache *c, struct rum_region *r, uint64_t page);
/* Wait, for a page seen FETCHING or BUSY, until its state is no longer `seen`,
 * finishing the read-ahead window it is in if nobody else does. */
void rum__cache_settle(struct rum_cache *c, struct rum_region *r, uint64_t page, uint8_t seen);
/* Finish every window in flight without installing (tear-down). */
void rum__readahead_drain(struct rum_cache *c);

#endif

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

struct rum_store_ops {
  /* Read pages [first, first + npages) of r into dst (npages * RUM_PAGE_SIZE bytes).
   * npages <= RUM_WIRE_MAX_PAGES. May be called from signal context.
   * Returns 0 or a negative RUM_E* code with *err filled in. */
  int (*fetch)(void *ctx, struct rum_region *r, uint64_t first, uint32_t npages, uint8_t *dst,
               struct rum_store_error *err);
  /* Write n pages (sorted by region, then page; n <= RUM_WIRE_MAX_PAGES) durably.
   * All or nothing from the cache's view: on failure every page stays dirty. */
  int (*store)(void *ctx, const struct rum_page_io *pages, unsigned n, struct rum_store_error *err);
};

struct rum_counters {
  _Atomic uint64_t faults, read_faults, write_faults, hits, zero_fills;
  _Atomic uint64_t evictions, writebacks, readahead, fetch_errors, store_errors;
};

/* Called instead of stopping the program when a page cannot be fetched (tests).
 * The default (NULL) writes a message naming the region, page and node and aborts. */
typedef void (*rum_fetch_failed_fn)(void *ctx, const struct rum_region *r, uint64_t page,
                                    const struct rum_store_error *err);

struct rum_cache_config {
  uint64_t capacity_pages;    /* resident pages at most (>= RUM_WIRE_MAX_PAGES * 2) */
  unsigned max_readahead;     /* pages one sequential fault may bring, 1..64; 0 = 64 */
  unsigned evict_batch;       /* victims chosen per sweep; 0 = 32 */
};

struct rum_frame {
  struct rum_region *region; /* NULL when free */
  uint64_t page;
  _Atomic uint8_t ref;       /* CLOCK reference bit, set on fault events */
};

enum { RUM_CACHE_STAGING = 8 }; /* fetch buffers for backends that install by copy */

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
  struct rum_counters counters;
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
 * shrink). Pages left are ABSENT; stored marks are kept unless forget is set. */
void rum__cache_discard(struct rum_cache *c, struct rum_region *r, uint64_t first, uint64_t n,
                        bool forget);
/* Fetch the absent pages of the range now (rum_prefetch). Returns 0 or RUM_E*. */
int rum__cache_prefetch(struct rum_cache *c, struct rum_region *r, uint64_t first, uint64_t n);
/* Write back dirty pages of every region (rum_sync). */
int rum__cache_sync(struct rum_cache *c);

/* Internal to cache.c / writeback.c. A victim claimed in BUSY state. */
struct rum_victim {
  struct rum_region *region;
  uint64_t page;
  bool dirty;
  bool keep;   /* write-back failed: return to DIRTY instead of dropping */
};
/* Write back the claimed dirty victims v[0..n) (n <= RUM_WIRE_MAX_PAGES), sorted.
 * Protects them against writes first. Sets keep on failure. Returns 0 or RUM_E*. */
int rum__writeback_victims(struct rum_cache *c, struct rum_victim *v, unsigned n);
/* Drop the claimed victims (drop=true: evict; else make them CLEAN again) and
 * release their frames. Coalesces contiguous runs into one system call. */
void rum__cache_finish_victims(struct rum_cache *c, struct rum_victim *v, unsigned n, bool drop);
void rum__victims_sort(struct rum_victim *v, unsigned n);

#endif

/* Spans: page ranges of the client's heap regions, the unit the heap hands out.
 *
 * A heap region is one big leased region the client keeps (heap.c); it is cut into
 * spans: a slab (many small objects), one large block, or free pages. Free spans sit
 * in size bins (two-level segregated fit: exact bins up to 31 pages, then eight bins
 * per power of two, so finding a fit is a bitmap scan) and coalesce with free
 * neighbours when they are freed. A page-indexed map per heap region names the span
 * at a page: every page of a slab (an object anywhere in it must find its slab), the
 * first page of a large block, the first and last page of a free span (coalescing).
 * Entries of other pages may be stale, so the map is only a hint: a span found there
 * counts only if it is in use and covers the page. Span structs are therefore never
 * freed while their set lives; merged-away ones go to a pool and are reused.
 *
 * Free pages may still hold a freed block's bytes ("dirty"): resident in the cache
 * (marked RUM_PAGE_FREED, so they are never written back) and on the memory nodes.
 * Dropping them from both (DISCARD) is done later and in batches by the heap's
 * maintenance (heap_decay.c), which takes decayed
 * dirty spans out of the bins while their DISCARD is in flight so that nobody reuses
 * pages whose DISCARD could land after a new write.
 *
 * Pure bookkeeping in local memory: no I/O, no grid memory touched, no clock (times
 * are passed in). Not thread safe: the arena's lock serialises every call. */
#ifndef RUM_CLIENT_SPAN_H
#define RUM_CLIENT_SPAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
  RUM_SPAN_EXACT_BINS = 32, /* spans of 1..31 pages have a bin each */
  RUM_SPAN_BINS = RUM_SPAN_EXACT_BINS + 8 * 40,
  RUM_SPAN_BITMAP_WORDS = (RUM_SPAN_BINS + 63) / 64,
  RUM_SPAN_FIT_SCAN = 8, /* entries of the exact-size bin looked at for a fit */
};

enum rum_span_state {
  RUM_SPAN_DEAD = 0,       /* in the pool, or merged away */
  RUM_SPAN_FREE = 1,       /* in a bin */
  RUM_SPAN_DISCARDING = 2, /* free, out of the bins while its DISCARD is in flight */
  RUM_SPAN_SLAB = 3,
  RUM_SPAN_LARGE = 4,
};

struct rum_heap_region;

struct rum_span {
  struct rum_heap_region *heap;
  uint64_t start, npages; /* pages of heap->region */
  uint8_t state;
  bool dirty;             /* FREE: some page may still hold bytes on the nodes */
  uint16_t bin;
  uint64_t freed_ms;      /* FREE and dirty: when its oldest part was freed */
  struct rum_span *prev, *next;   /* bin list (FREE), or the pool */
  struct rum_span *dprev, *dnext; /* the set's dirty list (FREE and dirty) */
  void *owner;            /* SLAB: its struct rum_slab */
  uint64_t size;          /* LARGE: bytes asked for */
};

/* What a heap region carries for the span layer. */
struct rum_heap_region {
  struct rum_region *region;
  struct rum_span **span_of; /* map_pages entries (mmap'ed, lazily backed) */
  uint64_t map_pages;        /* the region's reserved room */
  uint64_t npages;           /* pages covered by spans: the region's size */
  struct rum_heap_region *next;
  void *arena;
};

struct rum_span_set {
  struct rum_span *bins[RUM_SPAN_BINS];
  uint64_t nonempty[RUM_SPAN_BITMAP_WORDS];
  struct rum_span *dirty;   /* FREE and dirty spans, any order */
  struct rum_span *pool;    /* span structs to reuse */
  struct rum_span **blocks; /* every allocation of span structs, for uninit */
  size_t nblocks, blocks_cap;
  uint64_t free_pages, dirty_pages, used_pages;
};

void rum__span_set_init(struct rum_span_set *s);
/* Free every span struct. The heap regions' maps are the caller's. */
void rum__span_set_uninit(struct rum_span_set *s);

/* Map / unmap a heap region's page map (map_pages entries). Returns 0 or RUM_ENOMEM. */
int rum__span_map_create(struct rum_heap_region *h, uint64_t map_pages);
void rum__span_map_destroy(struct rum_heap_region *h);

/* New pages [start, start + n) of h (its size grew to start + n): a clean free span,
 * merged with a free span ending at start. Returns 0 or RUM_ENOMEM. */
int rum__span_add_fresh(struct rum_span_set *s, struct rum_heap_region *h, uint64_t start, uint64_t n);

/* Take npages pages from a free span (state set to LARGE; the caller may set SLAB
 * with rum__span_mark_slab). *dirty says whether they may hold a freed block's bytes
 * (in the cache or on the nodes); clean pages read as zeros. NULL if no free span is
 * big enough (or RUM_ENOMEM for span structs: then *nomem is set). */
struct rum_span *rum__span_take(struct rum_span_set *s, uint64_t npages, bool *nomem, bool *dirty);
/* Point every page of span at it (a slab: objects anywhere must find it). */
void rum__span_mark_slab(struct rum_span *span, void *slab);

/* Free an in-use span: it becomes a dirty free span freed at now_ms, merged with its
 * free neighbours. */
void rum__span_give(struct rum_span_set *s, struct rum_span *span, uint64_t now_ms);

/* Grow a LARGE span in place to npages by taking the free span right after it.
 * Returns whether it did (the pages gained may be dirty: see rum__span_take). */
bool rum__span_extend(struct rum_span_set *s, struct rum_span *span, uint64_t npages, bool *nomem);
/* Shrink a LARGE span to npages (>= 1), freeing its tail at now_ms. Returns the first
 * page freed, or 0 when nothing was (no span struct for the tail: it stays attached). */
uint64_t rum__span_shrink(struct rum_span_set *s, struct rum_span *span, uint64_t npages, uint64_t now_ms);

/* The in-use span (SLAB or LARGE) covering page of h, or NULL. */
struct rum_span *rum__span_at(const struct rum_heap_region *h, uint64_t page);
/* The free span (in a bin) that ends at h's top, or NULL. */
struct rum_span *rum__span_top_free(const struct rum_heap_region *h);

/* Take up to max dirty free spans freed at or before older_than_ms out of the bins
 * (state DISCARDING) into out. Returns how many. */
size_t rum__span_take_decayed(struct rum_span_set *s, uint64_t older_than_ms, struct rum_span **out, size_t max);
/* Put a DISCARDING span back, merged with its free neighbours: clean, or (its DISCARD
 * failed) still dirty as if freed at now_ms, to be tried again later. */
void rum__span_return_discarded(struct rum_span_set *s, struct rum_span *span, bool clean, uint64_t now_ms);

/* Remove the free span top (rum__span_top_free) from the set and shrink h to its
 * start plus keep pages (keep < top->npages; the part kept stays free). */
void rum__span_cut_top(struct rum_span_set *s, struct rum_heap_region *h, struct rum_span *top, uint64_t keep);
/* Undo rum__span_cut_top (the shrink on the nodes failed): pages [from, to) of h are
 * free again, h->npages = to. Returns 0 or RUM_ENOMEM (the pages then stay unused). */
int rum__span_uncut_top(struct rum_span_set *s, struct rum_heap_region *h, uint64_t from, uint64_t to,
                        bool dirty, uint64_t now_ms);

/* The bin of a span of npages pages. Pure. */
unsigned rum__span_bin_of(uint64_t npages);

#endif

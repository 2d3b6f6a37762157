/* The client's heap: where rum_alloc's memory comes from without a round trip.
 *
 * Each arena owns heap regions: large leased regions with 1 GiB of virtual room whose
 * size (and so the nodes' reservation for them) grows by RESIZE as the arena needs
 * pages and shrinks again when their top is free. Pages are cut into spans (span.c):
 * slabs for sizes up to RUM_SLAB_MAX (slab.c) and blocks up to RUM_HEAP_EXTENT_MAX
 * pages of their own. Only blocks larger than that are regions of their own
 * (api_alloc.c). So an allocation or free of any common size makes no RPC: the
 * reservation on the nodes was taken when the heap grew (ENOMEM is still reported at
 * rum_alloc time, never at write-back), and freed pages are dropped from the cache
 * at once (never written back) and read as zeros when reused.
 *
 * Threads are spread over RUM_HEAP_ARENAS arenas (round robin at a thread's first
 * allocation), each with its own lock, slabs and heap regions; a free from another
 * thread goes to the arena owning the block.
 *
 * A maintenance thread (heap_decay.c) tells the nodes about free pages in batches
 * (DISCARD, for spans free longer than the decay time) and trims free heap tops, so
 * that node memory follows the live bytes a few seconds later.
 *
 * Lock order: an arena's lock, then the client's regions_lock (growing a heap creates
 * or resizes a region); a slab class lock, then its arena's lock. */
#ifndef RUM_CLIENT_HEAP_H
#define RUM_CLIENT_HEAP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client/region_table.h"
#include "client/slab.h"
#include "client/span.h"
#include "util/ticker.h"

struct rum_client;

enum {
  RUM_HEAP_ARENAS = 4,
  RUM_HEAP_ROOM_PAGES = 1u << 18,     /* 1 GiB of virtual room per heap region */
  RUM_HEAP_INITIAL_PAGES = 256,       /* 1 MiB when an arena starts */
  RUM_HEAP_GROW_MAX_PAGES = 1u << 14, /* a heap grows by at most 64 MiB at a time */
  /* Blocks up to this many bytes are spans of a heap region; larger ones regions of
   * their own (with room to grow in place: see api_alloc.c). At 32 MiB a block's own
   * ALLOC/FREE round trips cost well under 1% of writing its pages once. */
  RUM_HEAP_EXTENT_MAX = 32u << 20,
  RUM_HEAP_DECAY_MS = 1000,      /* free pages are DISCARDed after this long unused */
  RUM_HEAP_TICK_MS = 200,        /* maintenance period */
  RUM_HEAP_TRIM_MIN_PAGES = 256, /* a free top smaller than 1 MiB stays */
  RUM_HEAP_DISCARD_BATCH = 64,   /* spans per DISCARD round */
};

struct rum_heap_arena {
  pthread_mutex_t lock;          /* spans, heaps, the heap regions' sizes */
  struct rum_span_set spans;
  struct rum_heap_region *heaps; /* newest first: it is the one that grows */
  struct rum_slab_allocator slabs;
  struct rum_client *client;
};

struct rum_heap_config {
  int tick_ms;       /* maintenance period; 0: RUM_HEAP_TICK_MS; -1: no thread (tests call
                        rum__heap_maintain) */
  uint64_t decay_ms; /* 0: RUM_HEAP_DECAY_MS */
};

struct rum_heap {
  struct rum_heap_arena arenas[RUM_HEAP_ARENAS];
  _Atomic unsigned next_arena;
  uint64_t decay_ms;
  uint32_t tick_ms;
  struct rum_ticker maintenance;
  /* Counters (rum_stats and tests). */
  _Atomic uint64_t discarded_pages, discard_errors, trimmed_pages, grown_pages;
};

/* Set up the arenas of cl (no region is created yet). Returns 0 or RUM_E*. */
int rum__heap_init(struct rum_heap *h, struct rum_client *cl, const struct rum_heap_config *cfg);
/* Start the maintenance thread (unless tick_ms is -1). Returns 0 or RUM_E*. */
int rum__heap_start(struct rum_heap *h);
/* Stop it (if running) and wait for it. */
void rum__heap_stop(struct rum_heap *h);
/* Stop the maintenance thread and forget every slab, span and heap region; the
 * regions themselves stay in the client's table (the caller drops them). */
void rum__heap_uninit(struct rum_heap *h);

/* Allocate size bytes (<= RUM_HEAP_EXTENT_MAX) from the calling thread's arena.
 * *zeroed says whether the bytes are known to read as zeros. NULL and *err (RUM_E*). */
void *rum__heap_alloc(struct rum_heap *h, size_t size, bool *zeroed, int *err);
/* Free ptr, inside heap region r. Returns 0 or RUM_EINVAL (not a block start in use:
 * logged, nothing changed). */
int rum__heap_free(struct rum_heap *h, struct rum_region *r, void *ptr);
/* Usable bytes at ptr in heap region r, 0 if it is not a block in use. */
size_t rum__heap_usable(struct rum_heap *h, struct rum_region *r, const void *ptr);
/* Resize the block at ptr in place to size bytes when its span allows (shrinking, or
 * growing into the free pages after it). Returns 0 (done), RUM_ENOMEM (it must move),
 * RUM_EINVAL (not a block in use). */
int rum__heap_resize_in_place(struct rum_heap *h, struct rum_region *r, void *ptr, size_t size);
/* Whether ptr (in heap region r) is a slab object; *cls_size gets its class size. */
bool rum__heap_is_small(struct rum_heap *h, struct rum_region *r, const void *ptr, size_t *cls_size);

/* One maintenance round at now_ms: DISCARD spans free since before now_ms - decay
 * (all dirty ones when force), trim free heap tops. Normal context. */
void rum__heap_maintain(struct rum_heap *h, uint64_t now_ms, bool force);

/* Bytes in use by spans (slabs and blocks), and bytes of the heap regions. */
void rum__heap_usage(struct rum_heap *h, uint64_t *span_bytes, uint64_t *heap_bytes);

/* Internal to heap.c / heap_decay.c. */
uint64_t rum__heap_now_ms(void);
/* Set heap region hr's size to npages pages on the nodes (RESIZE; shrinking drops the
 * cache's pages past it). The arena lock is held. Returns 0 or RUM_E*. */
int rum__heap_region_resize(struct rum_heap_arena *a, struct rum_heap_region *hr, uint64_t npages);

#endif

/* The client's map of grid memory: one big arena of reserved virtual address space,
 * carved into region ranges aligned to RUM_GRANULE (64 KiB), and an O(1) table from
 * (addr - base) >> RUM_GRANULE_SHIFT to the region owning that granule.
 *
 * The fault handler reads the table and the region structs lock-free (acquire loads);
 * everything that changes them (carve, release, slot reuse) runs in normal context
 * under the table's mutex. A region struct stays valid and unchanged in its
 * identity fields until rum__region_table_release() returns; releasing a region while
 * another thread still touches its memory is a use-after-free in the application,
 * exactly as with free(). */
#ifndef RUM_CLIENT_REGION_TABLE_H
#define RUM_CLIENT_REGION_TABLE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/wire.h"

enum {
  RUM_GRANULE_SHIFT = 16,
  RUM_GRANULE = 1 << RUM_GRANULE_SHIFT,
  /* Pages per chunk, the unit of placement: as many as one READ or WRITE carries
   * (RUM_WIRE_MAX_PAGES), so that a read-ahead window is one message to one node
   * and the windows after it go to the next chunks' nodes at once. With 16-page
   * chunks a window was four 64 KiB READs and a striped scan slower than a pinned one.
   * Changing it moves every striped region's chunks: a named region written by a
   * build with another chunk size reads back wrong. */
  RUM_CHUNK_PAGES = 64,
  RUM_CHUNK_SHIFT = 6,
  RUM_REGION_SLOTS_MAX = 1 << 20, /* regions alive at once */
};

/* Per-page state, one byte per page: the low bits are the state, RUM_PAGE_STORED says
 * the node may hold bytes for the page (so it must be fetched, not zero-filled).
 * Transitions: ABSENT -> FETCHING -> CLEAN <-> DIRTY; CLEAN/DIRTY -> BUSY (write-back
 * or eviction in progress) -> CLEAN or ABSENT. Only the thread that moved a page into
 * FETCHING or BUSY (by compare-and-swap) may move it out; everyone else waits. */
enum rum_page_state {
  RUM_PAGE_ABSENT = 0,
  RUM_PAGE_FETCHING = 1,
  RUM_PAGE_CLEAN = 2,
  RUM_PAGE_DIRTY = 3,
  RUM_PAGE_BUSY = 4,
  RUM_PAGE_STATE_MASK = 0x7,
  /* The page lies in freed heap memory (heap.c): its bytes are garbage, so eviction
   * drops it without writing it back (and forgets RUM_PAGE_STORED: the next touch
   * reads zeros), and rum_sync skips it. Set and cleared by the heap as blocks are
   * freed and handed out again, so that a freed block's resident pages can serve the
   * next allocation without a fault. */
  RUM_PAGE_FREED = 0x40,
  RUM_PAGE_STORED = 0x80,
};

enum rum_region_kind {
  RUM_REGION_LARGE = 0, /* one allocation (or a pinned one) */
  RUM_REGION_HEAP = 1,  /* a heap region: slabs and blocks carved out of it (heap.c) */
  RUM_REGION_NAMED = 2, /* rum_alloc_named / rum_attach */
};

struct rum_region {
  /* Identity: fixed from carve to release. */
  uint64_t id;
  uint32_t slot;
  enum rum_region_kind kind;
  uint8_t *base;             /* inside the arena, RUM_GRANULE aligned */
  uint64_t reserved_pages;   /* virtual room: the region may grow up to this */
  uint32_t wire_flags;       /* RUM_REGION_F_* sent in ALLOC */
  int32_t pinned_node;       /* node id for RUM_REGION_F_PINNED, else -1 */
  bool fresh;                /* created by this process: never-stored pages are zeros */
  /* Size: changes on realloc (normal context, with the region quiesced by the caller). */
  _Atomic uint64_t npages;   /* pages that exist (nodes hold size = npages pages) */
  uint64_t user_size;        /* bytes asked for (large regions) */
  /* Paging state, arrays of reserved_pages entries (mmap'ed, lazily backed). */
  _Atomic uint8_t *state;
  uint32_t *frame;           /* cache frame index + 1 while resident */
  _Atomic uint32_t *undo_tag; /* the journal's commit tag when the page's undo image was taken */
  uint32_t born_tag;         /* the journal's tag when this process created the region, or 0 */
  _Atomic uint64_t nresident;
  _Atomic uint64_t ndirty;
  /* Read-ahead: where the next fault of a sequential scan will land, and the window. */
  _Atomic uint64_t next_expected;
  _Atomic uint32_t ra_window;
  /* Set when the region's data is gone (lease expired) or unreachable: faults stop the
   * program with a message, API calls fail with RUM_ELEASE. 0, or the id + 1 of the
   * node that lost it (for the message). */
  _Atomic int lost;
  /* Owner bookkeeping (allocator, names); not touched by the fault path. */
  void *owner;
  char *name;
  /* The remote side's: bit i set = registered on the i-th memory node of the machines
   * file (a region keeps its registration on a node after shrinking off its chunks
   * there, so this can name more nodes than the current size homes on). 0 = unknown
   * (attached: registered by another process). */
  _Atomic uint64_t remote_nodes;
};

struct rum_extent {
  uint64_t start, len; /* in granules */
};

struct rum_region_table {
  uint8_t *base;
  uint64_t arena_bytes;
  uint64_t ngranules;
  _Atomic uint32_t *granule;          /* slot + 1, or 0 */
  struct rum_region *_Atomic *slots;  /* RUM_REGION_SLOTS_MAX entries */
  pthread_mutex_t lock;               /* carve, release, slot and extent lists */
  uint32_t *free_slots;
  uint32_t nfree_slots, free_slots_cap;
  uint32_t next_slot;
  struct rum_extent *extents;         /* free address ranges, sorted by start */
  size_t nextents, extents_cap;
  _Atomic uint64_t nregions;
};

/* Set up a table for the arena [base, base + arena_bytes) (reserved by the fault
 * backend; base RUM_GRANULE aligned). Returns 0 or RUM_ENOMEM. */
int rum__region_table_init(struct rum_region_table *t, uint8_t *base, uint64_t arena_bytes);
void rum__region_table_uninit(struct rum_region_table *t);

/* Carve a region with room for reserved_pages pages (npages of them in use) and
 * publish it in the table. The caller fills the remaining fields before any access
 * to the memory. Returns 0 and *out, RUM_ENOMEM (arena or slots exhausted). */
int rum__region_table_carve(struct rum_region_table *t, uint64_t npages, uint64_t reserved_pages,
                            struct rum_region **out);

/* Unpublish and free r. The caller has dropped all its resident pages. */
void rum__region_table_release(struct rum_region_table *t, struct rum_region *r);

/* The region whose reserved range holds addr, or NULL. Lock-free, async-signal safe. */
static inline struct rum_region *rum__region_table_lookup(const struct rum_region_table *t,
                                                          const void *addr) {
  uintptr_t off = (uintptr_t)addr - (uintptr_t)t->base;
  if ((uintptr_t)addr < (uintptr_t)t->base || off >= t->arena_bytes) return NULL;
  uint32_t g = atomic_load_explicit(&t->granule[off >> RUM_GRANULE_SHIFT], memory_order_acquire);
  if (g == 0) return NULL;
  struct rum_region *r = atomic_load_explicit(&t->slots[g - 1], memory_order_acquire);
  if (r == NULL) return NULL;
  uintptr_t roff = (uintptr_t)addr - (uintptr_t)r->base;
  if ((uintptr_t)addr < (uintptr_t)r->base || roff >= r->reserved_pages * RUM_PAGE_SIZE) return NULL;
  return r;
}

/* Visit every live region (under the table lock; fn must not carve or release).
 * Stops early when fn returns non-zero and returns that value. */
int rum__region_table_each(struct rum_region_table *t, int (*fn)(void *ctx, struct rum_region *r),
                           void *ctx);

/* Take a snapshot of the live regions into out[0..cap) (under the lock). Returns the
 * number written. Regions stay valid only while the caller prevents their release. */
size_t rum__region_table_snapshot(struct rum_region_table *t, struct rum_region **out, size_t cap);

/* Page state helpers. */
static inline uint8_t rum__page_load(const struct rum_region *r, uint64_t page) {
  return atomic_load_explicit(&r->state[page], memory_order_acquire);
}
/* Move page from state `from` to `to`, keeping the flag bits; fails if the page is not
 * in state `from`. *seen receives the value observed. */
static inline bool rum__page_cas(struct rum_region *r, uint64_t page, uint8_t from, uint8_t to,
                                 uint8_t *seen) {
  uint8_t v = atomic_load_explicit(&r->state[page], memory_order_acquire);
  for (;;) {
    if ((v & RUM_PAGE_STATE_MASK) != from) {
      if (seen) *seen = v;
      return false;
    }
    uint8_t nv = (uint8_t)((v & ~RUM_PAGE_STATE_MASK) | to);
    if (atomic_compare_exchange_weak_explicit(&r->state[page], &v, nv, memory_order_acq_rel,
                                              memory_order_acquire)) {
      if (seen) *seen = v;
      return true;
    }
  }
}
/* Set the state of a page this thread owns (FETCHING or BUSY), optionally adding
 * RUM_PAGE_STORED. */
static inline void rum__page_set(struct rum_region *r, uint64_t page, uint8_t to, bool stored) {
  uint8_t v = atomic_load_explicit(&r->state[page], memory_order_relaxed);
  uint8_t nv;
  do {
    nv = (uint8_t)((v & ~RUM_PAGE_STATE_MASK) | to | (stored ? RUM_PAGE_STORED : 0));
  } while (!atomic_compare_exchange_weak_explicit(&r->state[page], &v, nv, memory_order_release,
                                                  memory_order_relaxed));
}

static inline uint8_t *rum__region_page_addr(const struct rum_region *r, uint64_t page) {
  return r->base + (page << RUM_PAGE_SHIFT);
}

#endif

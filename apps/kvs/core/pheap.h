/* A persistent heap inside RUM named regions.
 *
 * A store NAME is a meta region "kvs.NAME.meta" (the superblock: segment table, free
 * lists, bump pointer and a few root slots) plus segments "kvs.NAME.sN". Small blocks
 * (up to PH_BIG_MIN bytes) come from size classes carved out of 8 MiB segments; a
 * larger block gets a segment of its own sized to fit, so a 512 MB value costs one
 * named region and is never copied whole into local memory by the heap.
 *
 * Named regions may attach at another address in a later process, so nothing stored
 * in the heap holds a pointer: it holds a kv_ref, (segment << 32) | offset, turned into
 * a pointer with ph_ptr() through a local table of segment bases. kv_ref 0 is null
 * (segment 0 never hands out offset 0).
 *
 * Not thread safe: one thread of one process uses a heap (see store.h for the rule
 * that keeps a second process out). */
#ifndef KVS_PHEAP_H
#define KVS_PHEAP_H

#include <stddef.h>
#include <stdint.h>

typedef uint64_t kv_ref;
#define KV_NULL ((kv_ref)0)

enum {
  PH_SEG_BYTES = 8u << 20,  /* size of a small-block segment */
  PH_MAX_SEGS = 65536,      /* segment table entries (the meta region is ~1 MiB) */
  PH_BIG_MIN = 256u << 10,  /* blocks at least this big get a segment of their own */
  PH_NROOTS = 16,           /* root slots for the heap's user */
  PH_NAME_MAX = 200,        /* longest store name */
};

struct ph_super; /* the superblock, in the meta region */

/* Local handle of an open heap. base[] is indexed by segment number. */
struct ph_heap {
  unsigned char **base;
  struct ph_super *super;
  char name[PH_NAME_MAX + 1];
  /* Segments freed since the last sync: their regions are freed on the nodes only
   * after it (ph_synced), since a crash before it returns the store to a state that
   * still uses them (the journal does not undo a region's free). */
  uint64_t *pending;
  unsigned char **pending_base;
  size_t npending, pending_cap;
  uint64_t pending_bytes;
};

/* Open the heap of store `name`, creating it when absent. On failure returns a
 * negative RUM_E* code and writes a message to err. *created is 1 for a new heap. */
int ph_open(const char *name, struct ph_heap **out, int *created, char *err, size_t errlen);

/* The last rum_sync succeeded: free the regions of the segments released before it. */
void ph_synced(struct ph_heap *h);

/* Detach every region (data stays on the nodes) and free the handle. */
int ph_close(struct ph_heap *h);

/* Allocate n bytes (8-byte aligned, contents unspecified). KV_NULL when the nodes are
 * full or n is absurd. */
kv_ref ph_alloc(struct ph_heap *h, size_t n);

/* Allocate n zeroed bytes. */
kv_ref ph_zalloc(struct ph_heap *h, size_t n);

/* Return a block to the heap. KV_NULL is a no-op. */
void ph_free(struct ph_heap *h, kv_ref r);

/* Usable bytes of a block (>= what was asked). */
size_t ph_usable(struct ph_heap *h, kv_ref r);

/* Free every block and segment: the heap is as new (FLUSHALL). Roots are zeroed. */
int ph_reset(struct ph_heap *h);

/* Root slot i (0..PH_NROOTS-1), stored in the superblock. */
uint64_t *ph_root(struct ph_heap *h, int i);

/* Bytes handed out in live blocks, and live block count. */
void ph_usage(struct ph_heap *h, uint64_t *bytes, uint64_t *blocks, uint64_t *segments);

/* Where the superblock lives (to flush it on its own). */
void *ph_super_addr(struct ph_heap *h, size_t *len);

static inline void *ph_ptr(const struct ph_heap *h, kv_ref r) {
  return h->base[r >> 32] + (uint32_t)r;
}

#endif

/* Small allocations packed into slabs.
 *
 * Sizes up to RUM_SLAB_MAX are rounded up to a size class: 16-byte steps up to 128
 * bytes, then eight classes per power of two (each at most 12.5% above the one
 * before), all multiples of 16 so every object is 16-byte aligned. A slab is a span
 * of a heap region (heap.c) holding objects of one class; which objects are in use is
 * a bitmap in local malloc memory, never in grid memory (freeing must not fault a page
 * in). Larger allocations are spans of their own, or regions (api_alloc.c).
 *
 * Thread safety: one mutex per class; never used in signal context. Each heap arena
 * has its own slab allocator, so threads on different arenas never share a lock. */
#ifndef RUM_CLIENT_SLAB_H
#define RUM_CLIENT_SLAB_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>


enum {
  RUM_SLAB_MAX = 256 * 1024,  /* larger allocations are spans or regions of their own */
  RUM_SLAB_CLASSES = 8 + 11 * 8,
  RUM_SLAB_MIN_BYTES = 64 * 1024,
  RUM_SLAB_MAX_BYTES = 4 * 1024 * 1024,
};

struct rum_slab;

/* Where slab memory comes from: spans of the arena's heap regions (heap.c). */
struct rum_slab_ops {
  /* bytes of memory for slab s: sets *base, *handle (what span_free gets back) and
   * *zeroed (whether they read as zeros). Returns 0 or RUM_E*. Called under the
   * class lock. */
  int (*span_new)(void *ctx, uint64_t bytes, struct rum_slab *s, uint8_t **base, void **handle, bool *zeroed);
  /* Give a slab's memory back (its pages are never written back again). Called
   * without the class lock. */
  void (*span_free)(void *ctx, void *handle);
};

struct rum_slab {
  uint8_t *base;
  void *handle;                 /* from span_new */
  struct rum_slab *prev, *next; /* in its class's partial or full list */
  uint32_t cls;
  uint32_t nobj, nused;
  uint32_t hwm;     /* objects at or above this index were never handed out: zeros */
  uint32_t hint;    /* bitmap word to search first */
  uint64_t bitmap[]; /* bit set = in use */
};

struct rum_slab_class {
  pthread_mutex_t lock;
  uint32_t size;         /* object size */
  uint32_t slab_bytes;   /* bytes of one slab */
  uint32_t nobj;         /* objects per slab */
  struct rum_slab *partial; /* slabs with a free object */
  struct rum_slab *full;    /* slabs without one */
  /* At most RUM_SLAB_KEEP_EMPTY empty slabs stay in the partial list, so that an
   * object allocated and freed over and over at a slab boundary does not carve and
   * free a span each time; the others go back to the heap at once, and their pages
   * leave the cache (the footprint follows the live bytes). */
  uint64_t nempty;
  uint64_t nslabs;
};

enum { RUM_SLAB_KEEP_EMPTY = 1 };

struct rum_slab_allocator {
  struct rum_slab_class classes[RUM_SLAB_CLASSES];
  struct rum_slab_ops ops;
  void *ctx;
};

/* The class for size (0 is treated as 1), or -1 above RUM_SLAB_MAX. Pure. */
int rum__slab_class_of(size_t size);
/* The object size of class cls. Pure. */
size_t rum__slab_class_size(int cls);

void rum__slab_init(struct rum_slab_allocator *a, const struct rum_slab_ops *ops, void *ctx);
/* Forget every slab (their memory is the heap's, released with it). */
void rum__slab_uninit(struct rum_slab_allocator *a);

/* Allocate an object for size <= RUM_SLAB_MAX. *zeroed says whether its bytes are
 * known to be zero (never handed out before). Returns NULL and *err (RUM_E*). */
void *rum__slab_alloc(struct rum_slab_allocator *a, size_t size, bool *zeroed, int *err);
/* Free ptr inside slab s. Returns 0, or RUM_EINVAL for a pointer that is not the
 * start of an object in use (logged; nothing is changed). */
int rum__slab_free(struct rum_slab_allocator *a, struct rum_slab *s, void *ptr);
/* Usable bytes at ptr (its class size), 0 if ptr is not an object start in use. The
 * caller holds off a concurrent free of ptr (as with malloc_usable_size). */
size_t rum__slab_usable(const struct rum_slab *s, const void *ptr);

/* Bytes of slabs currently allocated (for overhead measurements). */
uint64_t rum__slab_bytes(struct rum_slab_allocator *a);

#endif

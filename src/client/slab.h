/* Small allocations packed into shared slab regions.
 *
 * Sizes up to RUM_SLAB_MAX are rounded up to a size class: 16-byte steps up to 128
 * bytes, then eight classes per power of two (each at most 12.5% above the one
 * before), all multiples of 16 so every object is 16-byte aligned. A slab is one
 * region holding objects of one class; which objects are in use is a bitmap in local
 * malloc memory, never in grid memory (freeing must not fault a page in). Larger
 * allocations are regions of their own (api_alloc.c).
 *
 * Thread safety: one mutex per class; never used in signal context. */
#ifndef RUM_CLIENT_SLAB_H
#define RUM_CLIENT_SLAB_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client/region_table.h"

enum {
  RUM_SLAB_MAX = 256 * 1024,  /* larger allocations get a region of their own */
  RUM_SLAB_CLASSES = 8 + 11 * 8,
  RUM_SLAB_MIN_BYTES = 64 * 1024,
  RUM_SLAB_MAX_BYTES = 4 * 1024 * 1024,
};

/* Where slabs come from: the client creates and destroys regions (with their ALLOC and
 * FREE messages); unit tests use an in-process stand-in. */
struct rum_slab_ops {
  /* A new fresh region of bytes for a slab. Returns 0 and *out, or RUM_E*. */
  int (*region_new)(void *ctx, uint64_t bytes, struct rum_region **out);
  /* Destroy a slab's region (discarding its pages). */
  void (*region_free)(void *ctx, struct rum_region *r);
};

struct rum_slab {
  struct rum_region *region;
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
  uint32_t slab_bytes;   /* bytes of one slab region */
  uint32_t nobj;         /* objects per slab */
  struct rum_slab *partial; /* slabs with a free object */
  struct rum_slab *full;    /* slabs without one */
  /* Empty slabs stay in the partial list, up to a quarter of the slabs in use (at
   * least RUM_SLAB_KEEP_EMPTY): a program that frees a burst and allocates again
   * (Lua's collector) then reuses warm slabs instead of destroying regions and
   * zero-filling new ones. */
  uint64_t nempty;
  uint64_t nslabs;
};

enum { RUM_SLAB_KEEP_EMPTY = 4 };

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
/* Free every slab (their regions go to ops.region_free). */
void rum__slab_uninit(struct rum_slab_allocator *a);

/* Allocate an object for size <= RUM_SLAB_MAX. *zeroed says whether its bytes are
 * known to be zero (never handed out before). Returns NULL and *err (RUM_E*). */
void *rum__slab_alloc(struct rum_slab_allocator *a, size_t size, bool *zeroed, int *err);
/* Free ptr inside slab region r. Returns 0, or RUM_EINVAL for a pointer that is not
 * the start of an object in use (logged; nothing is changed). */
int rum__slab_free(struct rum_slab_allocator *a, struct rum_region *r, void *ptr);
/* Usable bytes at ptr (its class size), 0 if ptr is not an object start in use. */
size_t rum__slab_usable(const struct rum_region *r, const void *ptr);

/* Bytes of slab regions currently allocated (for overhead measurements). */
uint64_t rum__slab_region_bytes(struct rum_slab_allocator *a);

#endif

/* The region table: carving the arena into region ranges, publishing regions for the
 * lock-free lookup the fault handler does, and reusing slots and ranges. */
#include "client/region_table.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <rum/rum_errors.h>

static void *map_lazy(size_t bytes) {
  void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                 -1, 0);
  return p == MAP_FAILED ? NULL : p;
}

int rum__region_table_init(struct rum_region_table *t, uint8_t *base, uint64_t arena_bytes) {
  memset(t, 0, sizeof(*t));
  t->base = base;
  t->arena_bytes = arena_bytes & ~(uint64_t)(RUM_GRANULE - 1);
  t->ngranules = t->arena_bytes >> RUM_GRANULE_SHIFT;
  /* Both tables are mapped lazily: only the parts in use ever get memory. */
  t->granule = map_lazy(t->ngranules * sizeof(uint32_t));
  t->slots = map_lazy((size_t)RUM_REGION_SLOTS_MAX * sizeof(*t->slots));
  t->free_slots = malloc(64 * sizeof(uint32_t));
  t->extents = malloc(16 * sizeof(*t->extents));
  if (t->granule == NULL || t->slots == NULL || t->free_slots == NULL || t->extents == NULL) {
    rum__region_table_uninit(t);
    return RUM_ENOMEM;
  }
  t->extents_cap = 16;
  t->free_slots_cap = 64;
  t->extents[0] = (struct rum_extent){0, t->ngranules};
  t->nextents = t->ngranules > 0 ? 1 : 0;
  pthread_mutex_init(&t->lock, NULL);
  return 0;
}

void rum__region_table_uninit(struct rum_region_table *t) {
  if (t->slots != NULL) {
    for (uint32_t i = 0; i < t->next_slot; i++) {
      struct rum_region *r = atomic_load(&t->slots[i]);
      if (r != NULL) {
        munmap((void *)r->state, r->reserved_pages);
        munmap(r->frame, r->reserved_pages * sizeof(uint32_t));
        munmap((void *)r->undo_tag, r->reserved_pages * sizeof(uint32_t));
        free(r->name);
        free(r);
      }
    }
    munmap((void *)t->slots, (size_t)RUM_REGION_SLOTS_MAX * sizeof(*t->slots));
  }
  if (t->granule != NULL) munmap((void *)t->granule, t->ngranules * sizeof(uint32_t));
  free(t->free_slots);
  free(t->extents);
  if (t->extents_cap > 0) pthread_mutex_destroy(&t->lock);
  memset(t, 0, sizeof(*t));
}

/* First fit: ranges are few and long-lived, and the table lookup does not care. */
static int extent_take(struct rum_region_table *t, uint64_t len, uint64_t *start) {
  for (size_t i = 0; i < t->nextents; i++) {
    struct rum_extent *e = &t->extents[i];
    if (e->len < len) continue;
    *start = e->start;
    e->start += len;
    e->len -= len;
    if (e->len == 0) {
      memmove(e, e + 1, (t->nextents - i - 1) * sizeof(*e));
      t->nextents--;
    }
    return 0;
  }
  return RUM_ENOMEM;
}

static int extent_give(struct rum_region_table *t, uint64_t start, uint64_t len) {
  size_t i = 0;
  while (i < t->nextents && t->extents[i].start < start) i++;
  bool merge_prev = i > 0 && t->extents[i - 1].start + t->extents[i - 1].len == start;
  bool merge_next = i < t->nextents && start + len == t->extents[i].start;
  if (merge_prev && merge_next) {
    t->extents[i - 1].len += len + t->extents[i].len;
    memmove(&t->extents[i], &t->extents[i + 1], (t->nextents - i - 1) * sizeof(*t->extents));
    t->nextents--;
  } else if (merge_prev) {
    t->extents[i - 1].len += len;
  } else if (merge_next) {
    t->extents[i].start = start;
    t->extents[i].len += len;
  } else {
    if (t->nextents == t->extents_cap) {
      size_t cap = t->extents_cap * 2;
      struct rum_extent *n = realloc(t->extents, cap * sizeof(*n));
      if (n == NULL) return RUM_ENOMEM; /* the range leaks; the arena is huge */
      t->extents = n;
      t->extents_cap = cap;
    }
    memmove(&t->extents[i + 1], &t->extents[i], (t->nextents - i) * sizeof(*t->extents));
    t->extents[i] = (struct rum_extent){start, len};
    t->nextents++;
  }
  return 0;
}

static int slot_take(struct rum_region_table *t, uint32_t *slot) {
  if (t->nfree_slots > 0) {
    *slot = t->free_slots[--t->nfree_slots];
    return 0;
  }
  if (t->next_slot >= RUM_REGION_SLOTS_MAX) return RUM_ENOMEM;
  *slot = t->next_slot++;
  return 0;
}

static void slot_give(struct rum_region_table *t, uint32_t slot) {
  if (t->nfree_slots == t->free_slots_cap) {
    uint32_t cap = t->free_slots_cap * 2;
    uint32_t *n = realloc(t->free_slots, (size_t)cap * sizeof(uint32_t));
    if (n == NULL) return; /* the slot is simply not reused */
    t->free_slots = n;
    t->free_slots_cap = cap;
  }
  t->free_slots[t->nfree_slots++] = slot;
}

static void publish_granules(struct rum_region_table *t, const struct rum_region *r, uint32_t value) {
  uint64_t first = (uint64_t)(r->base - t->base) >> RUM_GRANULE_SHIFT;
  uint64_t n = (r->reserved_pages * RUM_PAGE_SIZE + RUM_GRANULE - 1) >> RUM_GRANULE_SHIFT;
  for (uint64_t g = first; g < first + n; g++)
    atomic_store_explicit(&t->granule[g], value, memory_order_release);
}

int rum__region_table_carve(struct rum_region_table *t, uint64_t npages, uint64_t reserved_pages,
                            struct rum_region **out) {
  if (reserved_pages < npages) reserved_pages = npages;
  if (reserved_pages == 0) reserved_pages = 1;
  uint64_t pages_per_granule = RUM_GRANULE / RUM_PAGE_SIZE;
  uint64_t ngran = (reserved_pages + pages_per_granule - 1) / pages_per_granule;
  reserved_pages = ngran * pages_per_granule; /* the tail of the last granule is usable room */
  struct rum_region *r = calloc(1, sizeof(*r));
  if (r == NULL) return RUM_ENOMEM;
  r->state = map_lazy(reserved_pages);
  r->frame = map_lazy(reserved_pages * sizeof(uint32_t));
  r->undo_tag = map_lazy(reserved_pages * sizeof(uint32_t));
  if (r->state == NULL || r->frame == NULL || r->undo_tag == NULL) goto err_maps;
  r->reserved_pages = reserved_pages;
  atomic_init(&r->npages, npages);
  r->pinned_node = -1;
  atomic_init(&r->ra_window, 1);
  pthread_mutex_lock(&t->lock);
  uint64_t start;
  if (extent_take(t, ngran, &start) != 0) goto err_locked;
  if (slot_take(t, &r->slot) != 0) {
    extent_give(t, start, ngran);
    goto err_locked;
  }
  r->base = t->base + (start << RUM_GRANULE_SHIFT);
  atomic_store_explicit(&t->slots[r->slot], r, memory_order_release);
  publish_granules(t, r, r->slot + 1);
  atomic_fetch_add(&t->nregions, 1);
  pthread_mutex_unlock(&t->lock);
  *out = r;
  return 0;
err_locked:
  pthread_mutex_unlock(&t->lock);
err_maps:
  if (r->state != NULL) munmap((void *)r->state, reserved_pages);
  if (r->frame != NULL) munmap(r->frame, reserved_pages * sizeof(uint32_t));
  if (r->undo_tag != NULL) munmap((void *)r->undo_tag, reserved_pages * sizeof(uint32_t));
  free(r);
  return RUM_ENOMEM;
}

void rum__region_table_release(struct rum_region_table *t, struct rum_region *r) {
  pthread_mutex_lock(&t->lock);
  publish_granules(t, r, 0);
  atomic_store_explicit(&t->slots[r->slot], NULL, memory_order_release);
  uint64_t start = (uint64_t)(r->base - t->base) >> RUM_GRANULE_SHIFT;
  uint64_t ngran = (r->reserved_pages * RUM_PAGE_SIZE) >> RUM_GRANULE_SHIFT;
  extent_give(t, start, ngran);
  slot_give(t, r->slot);
  atomic_fetch_sub(&t->nregions, 1);
  pthread_mutex_unlock(&t->lock);
  munmap((void *)r->state, r->reserved_pages);
  munmap(r->frame, r->reserved_pages * sizeof(uint32_t));
  munmap((void *)r->undo_tag, r->reserved_pages * sizeof(uint32_t));
  free(r->name);
  free(r);
}

int rum__region_table_each(struct rum_region_table *t, int (*fn)(void *ctx, struct rum_region *r),
                           void *ctx) {
  int rc = 0;
  pthread_mutex_lock(&t->lock);
  for (uint32_t i = 0; i < t->next_slot && rc == 0; i++) {
    struct rum_region *r = atomic_load_explicit(&t->slots[i], memory_order_acquire);
    if (r != NULL) rc = fn(ctx, r);
  }
  pthread_mutex_unlock(&t->lock);
  return rc;
}

size_t rum__region_table_snapshot(struct rum_region_table *t, struct rum_region **out, size_t cap) {
  size_t n = 0;
  pthread_mutex_lock(&t->lock);
  for (uint32_t i = 0; i < t->next_slot && n < cap; i++) {
    struct rum_region *r = atomic_load_explicit(&t->slots[i], memory_order_acquire);
    if (r != NULL) out[n++] = r;
  }
  pthread_mutex_unlock(&t->lock);
  return n;
}

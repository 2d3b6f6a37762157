/* Entry storage for the hash table, all in RUM memory. In RUM mode every block is its
 * own rum_alloc (and resizes are rum_realloc). In slab mode small blocks come from
 * 256 KiB slabs in five size classes, with a free list per class threaded through
 * the free blocks themselves; blocks larger than the biggest class fall back to
 * rum_alloc. Slabs are only returned at destroy. */
#include <string.h>

#include <rum/rum.h>

#include "ht.h"

static const uint32_t class_size[HT_NCLASSES] = {64, 128, 256, 512, 1024};

static int class_of(size_t size) {
  for (int i = 0; i < HT_NCLASSES; i++)
    if (size <= class_size[i]) return i;
  return -1;
}

int ht_arena_init(struct ht_arena *a, enum ht_alloc_mode mode) {
  memset(a, 0, sizeof *a);
  a->mode = mode;
  return 0;
}

static unsigned char *add_slab(struct ht_arena *a) {
  if (a->nslabs == a->slabs_cap) {
    uint32_t cap = a->slabs_cap ? 2 * a->slabs_cap : 16;
    void **grown = rum_realloc(a->slabs, cap * sizeof *grown);
    if (grown == NULL) return NULL;
    a->slabs = grown;
    a->slabs_cap = cap;
  }
  unsigned char *slab = rum_alloc(HT_SLAB_BYTES);
  if (slab != NULL) a->slabs[a->nslabs++] = slab;
  return slab;
}

static void *direct_alloc(struct ht_arena *a, size_t size, uint32_t *cap) {
  void *p = rum_alloc(size);
  if (p == NULL) return NULL;
  size_t usable = rum_usable_size(p);
  *cap = (uint32_t)(usable > UINT32_MAX ? UINT32_MAX : usable);
  a->blocks++;
  a->bytes += *cap;
  return p;
}

void *ht_arena_alloc(struct ht_arena *a, size_t size, uint32_t *cap) {
  int k = class_of(size);
  if (a->mode == HT_ALLOC_RUM || k < 0) return direct_alloc(a, size, cap);
  void *p = a->free_head[k];
  if (p != NULL) {
    memcpy(&a->free_head[k], p, sizeof(void *));
  } else {
    if (a->bump_left[k] < class_size[k]) {
      unsigned char *slab = add_slab(a);
      if (slab == NULL) return NULL;
      a->bump[k] = slab;
      a->bump_left[k] = HT_SLAB_BYTES;
    }
    p = a->bump[k];
    a->bump[k] += class_size[k];
    a->bump_left[k] -= class_size[k];
  }
  *cap = class_size[k];
  a->blocks++;
  a->bytes += *cap;
  return p;
}

void ht_arena_free(struct ht_arena *a, void *p, uint32_t cap) {
  if (p == NULL) return;
  a->blocks--;
  a->bytes -= cap;
  int k = class_of(cap);
  if (a->mode == HT_ALLOC_RUM || k < 0 || class_size[k] != cap) {
    rum_free(p);
    return;
  }
  memcpy(p, &a->free_head[k], sizeof(void *));
  a->free_head[k] = p;
}

void *ht_arena_resize(struct ht_arena *a, void *p, uint32_t old_cap, size_t size, uint32_t *cap) {
  if (a->mode == HT_ALLOC_RUM) {
    void *q = rum_realloc(p, size);
    if (q == NULL) return NULL;
    size_t usable = rum_usable_size(q);
    a->bytes -= old_cap;
    *cap = (uint32_t)(usable > UINT32_MAX ? UINT32_MAX : usable);
    a->bytes += *cap;
    return q;
  }
  if (size <= old_cap) {
    *cap = old_cap;
    return p;
  }
  void *q = ht_arena_alloc(a, size, cap);
  if (q == NULL) return NULL;
  memcpy(q, p, old_cap);
  ht_arena_free(a, p, old_cap);
  return q;
}

void ht_arena_destroy(struct ht_arena *a) {
  for (uint32_t i = 0; i < a->nslabs; i++) rum_free(a->slabs[i]);
  rum_free(a->slabs);
  a->slabs = NULL;
  a->nslabs = a->slabs_cap = 0;
}

/* Size classes and slabs: see slab.h. */
#include "client/slab.h"

#include <stdlib.h>
#include <string.h>

#include <rum/rum_errors.h>

#include "proto/wire.h"
#include "util/log.h"

int rum__slab_class_of(size_t size) {
  if (size == 0) size = 1;
  if (size > RUM_SLAB_MAX) return -1;
  if (size <= 128) return (int)((size + 15) / 16) - 1;
  /* Eight classes between 2^k (exclusive) and 2^(k+1) (inclusive), k >= 7. */
  unsigned k = 63u - (unsigned)__builtin_clzll((unsigned long long)(size - 1));
  size_t base = (size_t)1 << k, step = base / 8;
  size_t j = (size - base + step - 1) / step; /* 1..8 */
  return (int)(8 + (k - 7) * 8 + (j - 1));
}

size_t rum__slab_class_size(int cls) {
  if (cls < 8) return (size_t)(cls + 1) * 16;
  unsigned k = 7 + (unsigned)(cls - 8) / 8;
  size_t base = (size_t)1 << k;
  return base + (size_t)((cls - 8) % 8 + 1) * (base / 8);
}

/* Slab size for objects of size s: at least 64 KiB and 8 objects, and a tail that
 * wastes under 1.5% where a few sizes up to twice that find one. */
static uint32_t slab_bytes_for(size_t s) {
  size_t start = s * 8 > RUM_SLAB_MIN_BYTES ? s * 8 : RUM_SLAB_MIN_BYTES;
  start = (start + RUM_PAGE_SIZE - 1) & ~(size_t)(RUM_PAGE_SIZE - 1);
  size_t best = start;
  double best_waste = 1.0;
  for (size_t b = start; b <= 2 * start && b <= RUM_SLAB_MAX_BYTES; b += RUM_PAGE_SIZE) {
    double waste = (double)(b % s) / (double)b;
    if (waste < best_waste) {
      best = b;
      best_waste = waste;
    }
    if (waste < 0.015) break;
  }
  return (uint32_t)best;
}

void rum__slab_init(struct rum_slab_allocator *a, const struct rum_slab_ops *ops, void *ctx) {
  memset(a, 0, sizeof(*a));
  a->ops = *ops;
  a->ctx = ctx;
  for (int i = 0; i < RUM_SLAB_CLASSES; i++) {
    struct rum_slab_class *c = &a->classes[i];
    pthread_mutex_init(&c->lock, NULL);
    c->size = (uint32_t)rum__slab_class_size(i);
    c->slab_bytes = slab_bytes_for(c->size);
    c->nobj = c->slab_bytes / c->size;
  }
}

static void list_remove(struct rum_slab **head, struct rum_slab *s) {
  if (s->prev != NULL) s->prev->next = s->next;
  else if (*head == s) *head = s->next;
  if (s->next != NULL) s->next->prev = s->prev;
  s->prev = s->next = NULL;
}

static void list_push(struct rum_slab **head, struct rum_slab *s) {
  s->prev = NULL;
  s->next = *head;
  if (*head != NULL) (*head)->prev = s;
  *head = s;
}

static void slab_destroy(struct rum_slab_allocator *a, struct rum_slab *s) {
  a->ops.span_free(a->ctx, s->handle);
  free(s); /* the caller took it off its class's count, under the class lock */
}

void rum__slab_uninit(struct rum_slab_allocator *a) {
  for (int i = 0; i < RUM_SLAB_CLASSES; i++) {
    struct rum_slab_class *c = &a->classes[i];
    while (c->partial != NULL) {
      struct rum_slab *s = c->partial;
      list_remove(&c->partial, s);
      free(s);
    }
    while (c->full != NULL) {
      struct rum_slab *s = c->full;
      list_remove(&c->full, s);
      free(s);
    }
    c->nempty = 0;
    c->nslabs = 0;
    pthread_mutex_destroy(&c->lock);
  }
}

static struct rum_slab *slab_new(struct rum_slab_allocator *a, int cls, int *err) {
  struct rum_slab_class *c = &a->classes[cls];
  size_t words = (c->nobj + 63) / 64;
  struct rum_slab *s = calloc(1, sizeof(*s) + words * sizeof(uint64_t));
  if (s == NULL) {
    *err = RUM_ENOMEM;
    return NULL;
  }
  bool zeroed;
  int rc = a->ops.span_new(a->ctx, c->slab_bytes, s, &s->base, &s->handle, &zeroed);
  if (rc != 0) {
    free(s);
    *err = rc;
    return NULL;
  }
  if (!zeroed) s->hwm = c->nobj; /* reused memory: no object is known to be zeros */
  s->cls = (uint32_t)cls;
  s->nobj = c->nobj;
  c->nslabs++;
  return s;
}

static uint32_t take_object(struct rum_slab *s) {
  size_t words = (s->nobj + 63) / 64;
  for (size_t n = 0; n < words; n++) {
    size_t w = (s->hint + n) % words;
    uint64_t free_bits = ~s->bitmap[w];
    if (w == words - 1 && s->nobj % 64 != 0) free_bits &= (1ull << (s->nobj % 64)) - 1;
    if (free_bits == 0) continue;
    unsigned bit = (unsigned)__builtin_ctzll(free_bits);
    s->bitmap[w] |= 1ull << bit;
    s->hint = (uint32_t)w;
    return (uint32_t)(w * 64 + bit);
  }
  return UINT32_MAX; /* not reached: callers only take from slabs with room */
}

void *rum__slab_alloc(struct rum_slab_allocator *a, size_t size, bool *zeroed, int *err) {
  int cls = rum__slab_class_of(size);
  if (cls < 0) {
    *err = RUM_EINVAL;
    return NULL;
  }
  struct rum_slab_class *c = &a->classes[cls];
  pthread_mutex_lock(&c->lock);
  struct rum_slab *s = c->partial;
  if (s == NULL) {
    s = slab_new(a, cls, err);
    if (s == NULL) {
      pthread_mutex_unlock(&c->lock);
      return NULL;
    }
    list_push(&c->partial, s);
  } else if (s->nused == 0) {
    c->nempty--;
  }
  uint32_t idx = take_object(s);
  s->nused++;
  *zeroed = idx >= s->hwm;
  if (idx >= s->hwm) s->hwm = idx + 1;
  if (s->nused == s->nobj) {
    list_remove(&c->partial, s);
    list_push(&c->full, s);
  }
  pthread_mutex_unlock(&c->lock);
  return s->base + (size_t)idx * c->size;
}

static bool object_index(const struct rum_slab *s, const void *ptr, uint32_t *idx) {
  if (s == NULL || (const uint8_t *)ptr < s->base) return false;
  uint32_t size = (uint32_t)rum__slab_class_size((int)s->cls);
  uintptr_t off = (uintptr_t)ptr - (uintptr_t)s->base;
  if (off % size != 0 || off / size >= s->nobj) return false;
  *idx = (uint32_t)(off / size);
  return true;
}

int rum__slab_free(struct rum_slab_allocator *a, struct rum_slab *s, void *ptr) {
  uint32_t idx;
  if (!object_index(s, ptr, &idx)) {
    RUM_LOG_W("rum_free(%p): not the start of a RUM allocation; ignored", ptr);
    return RUM_EINVAL;
  }
  struct rum_slab_class *c = &a->classes[s->cls];
  pthread_mutex_lock(&c->lock);
  uint64_t bit = 1ull << (idx % 64);
  if (!(s->bitmap[idx / 64] & bit)) {
    pthread_mutex_unlock(&c->lock);
    RUM_LOG_W("rum_free(%p): not allocated (double free?); ignored", ptr);
    return RUM_EINVAL;
  }
  s->bitmap[idx / 64] &= ~bit;
  if (idx / 64 < s->hint) s->hint = idx / 64; /* reuse low objects first: their pages are warm */
  if (s->nused == s->nobj) {
    list_remove(&c->full, s);
    list_push(&c->partial, s);
  }
  s->nused--;
  struct rum_slab *destroy = NULL;
  if (s->nused == 0) {
    if (c->nempty < RUM_SLAB_KEEP_EMPTY) {
      c->nempty++; /* stays in the partial list, warm */
    } else {
      list_remove(&c->partial, s);
      c->nslabs--;
      destroy = s;
    }
  }
  pthread_mutex_unlock(&c->lock);
  /* Outside the class lock: giving the span back takes the arena's heap lock. */
  if (destroy != NULL) slab_destroy(a, destroy);
  return 0;
}

size_t rum__slab_usable(const struct rum_slab *s, const void *ptr) {
  uint32_t idx;
  if (!object_index(s, ptr, &idx)) return 0;
  if (!(s->bitmap[idx / 64] & (1ull << (idx % 64)))) return 0;
  return rum__slab_class_size((int)s->cls);
}

uint64_t rum__slab_bytes(struct rum_slab_allocator *a) {
  uint64_t total = 0;
  for (int i = 0; i < RUM_SLAB_CLASSES; i++) {
    struct rum_slab_class *c = &a->classes[i];
    pthread_mutex_lock(&c->lock);
    total += c->nslabs * c->slab_bytes;
    pthread_mutex_unlock(&c->lock);
  }
  return total;
}

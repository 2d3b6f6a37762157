/* The client's heap: arenas, heap regions and the blocks carved out of them. See
 * heap.h; the maintenance thread is in heap_decay.c. */
#include "client/heap.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "client/client.h"
#include "util/clock.h"
#include "util/log.h"

/* The calling thread's arena number, the same for every client (it only spreads
 * threads). initial-exec: no __tls_get_addr call on the allocation path. */
static __thread unsigned tls_arena __attribute__((tls_model("initial-exec"))) = UINT_MAX;

uint64_t rum__heap_now_ms(void) { return rum__now_ns() / 1000000u; }

static struct rum_heap_arena *my_arena(struct rum_heap *h) {
  unsigned i = tls_arena;
  if (i == UINT_MAX) {
    i = atomic_fetch_add_explicit(&h->next_arena, 1, memory_order_relaxed) % RUM_HEAP_ARENAS;
    tls_arena = i;
  }
  return &h->arenas[i % RUM_HEAP_ARENAS];
}

static uint8_t *span_base(const struct rum_span *sp) {
  return sp->heap->region->base + (sp->start << RUM_PAGE_SHIFT);
}

int rum__heap_region_resize(struct rum_heap_arena *a, struct rum_heap_region *hr, uint64_t npages) {
  int rc = rum__client_region_resize(a->client, hr->region, npages, npages * RUM_PAGE_SIZE);
  if (rc == 0 && npages > hr->npages) atomic_fetch_add(&a->client->heap.grown_pages, npages - hr->npages);
  return rc;
}

/* A new heap region of npages pages (arena lock held), pushed in front. */
static int heap_region_new(struct rum_heap_arena *a, uint64_t npages) {
  struct rum_client *cl = a->client;
  struct rum_heap_region *hr = calloc(1, sizeof(*hr));
  if (hr == NULL) return RUM_ENOMEM;
  int rc = rum__span_map_create(hr, RUM_HEAP_ROOM_PAGES);
  if (rc != 0) goto err_free;
  struct rum_region_spec spec = {
      .id = rum__client_new_region_id(cl),
      .npages = npages,
      .reserved_pages = RUM_HEAP_ROOM_PAGES,
      .size = npages * RUM_PAGE_SIZE,
      .kind = RUM_REGION_HEAP,
      .pinned_node = -1,
      .fresh = true,
      .register_remote = true,
  };
  rc = rum__client_region_new(cl, &spec, &hr->region);
  if (rc != 0) goto err_map;
  hr->arena = a;
  rc = rum__span_add_fresh(&a->spans, hr, 0, npages);
  if (rc != 0) {
    rum__client_region_drop(cl, hr->region, true);
    goto err_map;
  }
  atomic_store_explicit((_Atomic(void *) *)&hr->region->owner, hr, memory_order_release);
  hr->next = a->heaps;
  a->heaps = hr;
  atomic_fetch_add(&cl->heap.grown_pages, npages);
  return 0;
err_map:
  rum__span_map_destroy(hr);
err_free:
  free(hr);
  return rc;
}

/* Make room for a span of need pages (arena lock held): grow the newest heap region
 * (doubling, at most RUM_HEAP_GROW_MAX_PAGES at a time), or start a new one. */
static int arena_grow(struct rum_heap_arena *a, uint64_t need) {
  struct rum_heap_region *hr = a->heaps;
  if (hr != NULL && !atomic_load(&hr->region->lost) && hr->npages + need <= RUM_HEAP_ROOM_PAGES) {
    uint64_t grow = hr->npages < RUM_HEAP_GROW_MAX_PAGES ? hr->npages : RUM_HEAP_GROW_MAX_PAGES;
    if (grow < need) grow = need;
    if (hr->npages + grow > RUM_HEAP_ROOM_PAGES) grow = RUM_HEAP_ROOM_PAGES - hr->npages;
    uint64_t old = hr->npages;
    int rc = rum__heap_region_resize(a, hr, old + grow);
    if (rc != 0 && grow > need) {
      grow = need; /* a nearly full node may still hold what is asked for */
      rc = rum__heap_region_resize(a, hr, old + grow);
    }
    if (rc != 0) return rc;
    return rum__span_add_fresh(&a->spans, hr, old, grow);
  }
  return heap_region_new(a, need > RUM_HEAP_INITIAL_PAGES ? need : RUM_HEAP_INITIAL_PAGES);
}

/* A span of npages pages (arena lock held), growing the heap when none is free; its
 * pages are in use again for the cache. *zeroed: whether they read as zeros. */
static struct rum_span *take_pages(struct rum_heap_arena *a, uint64_t npages, bool *zeroed, int *err) {
  bool nomem, dirty = false;
  struct rum_span *sp = rum__span_take(&a->spans, npages, &nomem, &dirty);
  /* A lost heap region (its lease expired) cannot hold new blocks: its free pages
   * stay taken, out of the bins, and the arena grows a new region. */
  while (sp != NULL && atomic_load(&sp->heap->region->lost)) sp = rum__span_take(&a->spans, npages, &nomem, &dirty);
  if (sp == NULL && !nomem) {
    *err = arena_grow(a, npages);
    if (*err != 0) return NULL;
    sp = rum__span_take(&a->spans, npages, &nomem, &dirty);
  }
  if (sp == NULL) {
    *err = RUM_ENOMEM;
    return NULL;
  }
  /* Clean pages (never used, or discarded) carry no RUM_PAGE_FREED mark. */
  if (dirty) rum__cache_mark_freed(a->client->cache, sp->heap->region, sp->start, sp->npages, false);
  *zeroed = !dirty;
  return sp;
}

/* Mark freed pages (the cache drops them without writing them back if it needs
 * their frames; otherwise the next block carved there finds them resident), then
 * give the span to the free bins. The span is out of everyone's reach meanwhile:
 * its owner is freeing it. */
static void release_span(struct rum_heap_arena *a, struct rum_span *sp) {
  rum__cache_mark_freed(a->client->cache, sp->heap->region, sp->start, sp->npages, true);
  pthread_mutex_lock(&a->lock);
  rum__span_give(&a->spans, sp, rum__heap_now_ms());
  pthread_mutex_unlock(&a->lock);
}

/* ---- slab memory (struct rum_slab_ops, ctx = the arena) ---- */

static int slab_span_new(void *ctx, uint64_t bytes, struct rum_slab *s, uint8_t **base, void **handle,
                         bool *zeroed) {
  struct rum_heap_arena *a = ctx;
  int err = 0;
  pthread_mutex_lock(&a->lock);
  struct rum_span *sp = take_pages(a, rum__pages_for(bytes), zeroed, &err);
  if (sp != NULL) rum__span_mark_slab(sp, s);
  pthread_mutex_unlock(&a->lock);
  if (sp == NULL) return err;
  *base = span_base(sp);
  *handle = sp;
  return 0;
}

static void slab_span_free(void *ctx, void *handle) { release_span(ctx, handle); }

/* ---- life cycle ---- */

int rum__heap_init(struct rum_heap *h, struct rum_client *cl, const struct rum_heap_config *cfg) {
  memset(h, 0, sizeof(*h));
  h->decay_ms = cfg->decay_ms != 0 ? cfg->decay_ms : RUM_HEAP_DECAY_MS;
  h->tick_ms = cfg->tick_ms < 0 ? 0 : cfg->tick_ms > 0 ? (uint32_t)cfg->tick_ms : RUM_HEAP_TICK_MS;
  struct rum_slab_ops ops = {slab_span_new, slab_span_free};
  for (int i = 0; i < RUM_HEAP_ARENAS; i++) {
    struct rum_heap_arena *a = &h->arenas[i];
    pthread_mutex_init(&a->lock, NULL);
    rum__span_set_init(&a->spans);
    rum__slab_init(&a->slabs, &ops, a);
    a->client = cl;
  }
  return 0;
}

void rum__heap_uninit(struct rum_heap *h) {
  rum__heap_stop(h);
  for (int i = 0; i < RUM_HEAP_ARENAS; i++) {
    struct rum_heap_arena *a = &h->arenas[i];
    rum__slab_uninit(&a->slabs);
    while (a->heaps != NULL) {
      struct rum_heap_region *hr = a->heaps;
      a->heaps = hr->next;
      atomic_store((_Atomic(void *) *)&hr->region->owner, NULL);
      rum__span_map_destroy(hr);
      free(hr);
    }
    rum__span_set_uninit(&a->spans);
    pthread_mutex_destroy(&a->lock);
  }
}

/* ---- blocks ---- */

static void *large_alloc(struct rum_heap_arena *a, size_t size, bool *zeroed, int *err) {
  pthread_mutex_lock(&a->lock);
  struct rum_span *sp = take_pages(a, rum__pages_for(size), zeroed, err);
  if (sp != NULL) sp->size = size;
  pthread_mutex_unlock(&a->lock);
  return sp != NULL ? span_base(sp) : NULL;
}

void *rum__heap_alloc(struct rum_heap *h, size_t size, bool *zeroed, int *err) {
  struct rum_heap_arena *a = my_arena(h);
  if (size <= RUM_SLAB_MAX) return rum__slab_alloc(&a->slabs, size, zeroed, err);
  return large_alloc(a, size, zeroed, err);
}

static struct rum_heap_region *heap_of(struct rum_region *r) {
  return atomic_load_explicit((_Atomic(void *) *)&r->owner, memory_order_acquire);
}

static uint64_t page_of(const struct rum_region *r, const void *ptr) {
  return (uint64_t)((const uint8_t *)ptr - r->base) >> RUM_PAGE_SHIFT;
}

/* The slab holding ptr, without the arena lock: a live object's slab and its map
 * entries cannot change while the object is allocated (and a pointer that is not a
 * live object is the caller's bug, as with free()). */
static struct rum_slab *slab_of(struct rum_heap_region *hr, const struct rum_region *r, const void *ptr) {
  struct rum_span *sp = rum__span_at(hr, page_of(r, ptr));
  return sp != NULL && sp->state == RUM_SPAN_SLAB ? sp->owner : NULL;
}

/* The LARGE span starting at ptr (arena lock held), or NULL. */
static struct rum_span *block_at(struct rum_heap_region *hr, const struct rum_region *r, const void *ptr) {
  if (((uintptr_t)ptr & (RUM_PAGE_SIZE - 1)) != 0) return NULL;
  struct rum_span *sp = rum__span_at(hr, page_of(r, ptr));
  return sp != NULL && sp->state == RUM_SPAN_LARGE && sp->start == page_of(r, ptr) ? sp : NULL;
}

int rum__heap_free(struct rum_heap *h, struct rum_region *r, void *ptr) {
  (void)h;
  struct rum_heap_region *hr = heap_of(r);
  if (hr == NULL) return RUM_EINVAL;
  struct rum_heap_arena *a = hr->arena;
  struct rum_slab *s = slab_of(hr, r, ptr);
  if (s != NULL) return rum__slab_free(&a->slabs, s, ptr);
  pthread_mutex_lock(&a->lock);
  struct rum_span *sp = block_at(hr, r, ptr);
  if (sp != NULL) sp->state = RUM_SPAN_DISCARDING; /* being freed: a second free fails */
  pthread_mutex_unlock(&a->lock);
  if (sp == NULL) {
    RUM_LOG_W("rum_free(%p): not the start of a RUM allocation in use (double free?); ignored", ptr);
    return RUM_EINVAL;
  }
  release_span(a, sp);
  return 0;
}

size_t rum__heap_usable(struct rum_heap *h, struct rum_region *r, const void *ptr) {
  (void)h;
  struct rum_heap_region *hr = heap_of(r);
  if (hr == NULL) return 0;
  struct rum_slab *s = slab_of(hr, r, ptr);
  if (s != NULL) return rum__slab_usable(s, ptr);
  struct rum_heap_arena *a = hr->arena;
  pthread_mutex_lock(&a->lock);
  struct rum_span *sp = block_at(hr, r, ptr);
  size_t n = sp != NULL ? (size_t)sp->npages * RUM_PAGE_SIZE : 0;
  pthread_mutex_unlock(&a->lock);
  return n;
}

bool rum__heap_is_small(struct rum_heap *h, struct rum_region *r, const void *ptr, size_t *cls_size) {
  (void)h;
  struct rum_heap_region *hr = heap_of(r);
  struct rum_slab *s = hr != NULL ? slab_of(hr, r, ptr) : NULL;
  if (s == NULL) return false;
  *cls_size = rum__slab_usable(s, ptr);
  return true;
}

/* Shrink a block to npages, marking its tail freed first (the tail is still the
 * caller's until the span layer frees it). */
static void shrink_block(struct rum_heap_arena *a, struct rum_span *sp, uint64_t npages) {
  rum__cache_mark_freed(a->client->cache, sp->heap->region, sp->start + npages, sp->npages - npages, true);
  pthread_mutex_lock(&a->lock);
  rum__span_shrink(&a->spans, sp, npages, rum__heap_now_ms());
  pthread_mutex_unlock(&a->lock);
}

/* Grow sp to npages (arena lock held): into the free span after it, or, at the top
 * of the growing heap region, by growing the region. */
static int grow_block(struct rum_heap_arena *a, struct rum_span *sp, uint64_t npages) {
  bool nomem;
  uint64_t old = sp->npages;
  if (rum__span_extend(&a->spans, sp, npages, &nomem)) {
    rum__cache_mark_freed(a->client->cache, sp->heap->region, sp->start + old, npages - old, false);
    return 0;
  }
  struct rum_heap_region *hr = sp->heap;
  struct rum_span *top = rum__span_top_free(hr);
  uint64_t end = sp->start + sp->npages;
  bool at_top = end == hr->npages || (top != NULL && top->start == end);
  if (!at_top || a->heaps != hr || sp->start + npages > RUM_HEAP_ROOM_PAGES) return RUM_ENOMEM;
  int rc = arena_grow(a, sp->start + npages - hr->npages);
  if (rc != 0 || a->heaps != hr || !rum__span_extend(&a->spans, sp, npages, &nomem)) return RUM_ENOMEM;
  rum__cache_mark_freed(a->client->cache, hr->region, sp->start + old, npages - old, false);
  return 0;
}

int rum__heap_resize_in_place(struct rum_heap *h, struct rum_region *r, void *ptr, size_t size) {
  (void)h;
  struct rum_heap_region *hr = heap_of(r);
  if (hr == NULL) return RUM_EINVAL;
  struct rum_heap_arena *a = hr->arena;
  uint64_t npages = rum__pages_for(size);
  pthread_mutex_lock(&a->lock);
  struct rum_span *sp = block_at(hr, r, ptr);
  int rc = sp == NULL ? RUM_EINVAL : 0;
  bool shrink = false;
  if (sp != NULL && npages > sp->npages) {
    rc = grow_block(a, sp, npages);
  } else if (sp != NULL && npages < sp->npages) {
    /* Keep a little slack: a buffer shrunk by a few pages often grows again. */
    shrink = sp->npages - npages > sp->npages / 8;
  }
  if (rc == 0) sp->size = size;
  pthread_mutex_unlock(&a->lock);
  if (shrink) shrink_block(a, sp, npages);
  return rc;
}

void rum__heap_usage(struct rum_heap *h, uint64_t *span_bytes, uint64_t *heap_bytes) {
  uint64_t used = 0, total = 0;
  for (int i = 0; i < RUM_HEAP_ARENAS; i++) {
    struct rum_heap_arena *a = &h->arenas[i];
    pthread_mutex_lock(&a->lock);
    used += a->spans.used_pages * RUM_PAGE_SIZE;
    for (struct rum_heap_region *hr = a->heaps; hr != NULL; hr = hr->next) total += hr->npages * RUM_PAGE_SIZE;
    pthread_mutex_unlock(&a->lock);
  }
  *span_bytes = used;
  *heap_bytes = total;
}

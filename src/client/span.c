/* Spans of heap regions: bins, splitting and coalescing. See span.h. */
#include "client/span.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <rum/rum_errors.h>

enum { SPAN_BLOCK = 256 }; /* span structs allocated at a time */

unsigned rum__span_bin_of(uint64_t n) {
  if (n < RUM_SPAN_EXACT_BINS) return (unsigned)n;
  unsigned fl = 63u - (unsigned)__builtin_clzll(n); /* >= 5 */
  unsigned sl = (unsigned)(n >> (fl - 3)) & 7u;
  unsigned b = RUM_SPAN_EXACT_BINS + (fl - 5) * 8 + sl;
  return b < RUM_SPAN_BINS ? b : RUM_SPAN_BINS - 1;
}

void rum__span_set_init(struct rum_span_set *s) { memset(s, 0, sizeof(*s)); }

void rum__span_set_uninit(struct rum_span_set *s) {
  for (size_t i = 0; i < s->nblocks; i++) free(s->blocks[i]);
  free(s->blocks);
  memset(s, 0, sizeof(*s));
}

int rum__span_map_create(struct rum_heap_region *h, uint64_t map_pages) {
  void *m = mmap(NULL, map_pages * sizeof(*h->span_of), PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (m == MAP_FAILED) return RUM_ENOMEM;
  h->span_of = m;
  h->map_pages = map_pages;
  return 0;
}

void rum__span_map_destroy(struct rum_heap_region *h) {
  if (h->span_of != NULL) munmap(h->span_of, h->map_pages * sizeof(*h->span_of));
  h->span_of = NULL;
}

static struct rum_span *span_new(struct rum_span_set *s) {
  if (s->pool == NULL) {
    if (s->nblocks == s->blocks_cap) {
      size_t cap = s->blocks_cap ? s->blocks_cap * 2 : 16;
      struct rum_span **b = realloc(s->blocks, cap * sizeof(*b));
      if (b == NULL) return NULL;
      s->blocks = b;
      s->blocks_cap = cap;
    }
    struct rum_span *block = calloc(SPAN_BLOCK, sizeof(*block));
    if (block == NULL) return NULL;
    s->blocks[s->nblocks++] = block;
    for (int i = 0; i < SPAN_BLOCK; i++) {
      block[i].next = s->pool;
      s->pool = &block[i];
    }
  }
  struct rum_span *sp = s->pool;
  s->pool = sp->next;
  memset(sp, 0, sizeof(*sp));
  return sp;
}

/* Retire a span struct; stale map entries may still point at it, so it is kept. */
static void span_retire(struct rum_span_set *s, struct rum_span *sp) {
  sp->state = RUM_SPAN_DEAD;
  sp->npages = 0;
  sp->next = s->pool;
  s->pool = sp;
}

static void mark_ends(struct rum_span *sp) {
  sp->heap->span_of[sp->start] = sp;
  sp->heap->span_of[sp->start + sp->npages - 1] = sp;
}

static void dirty_unlink(struct rum_span_set *s, struct rum_span *sp) {
  if (!sp->dirty) return;
  if (sp->dprev != NULL) sp->dprev->dnext = sp->dnext;
  else s->dirty = sp->dnext;
  if (sp->dnext != NULL) sp->dnext->dprev = sp->dprev;
  sp->dprev = sp->dnext = NULL;
  s->dirty_pages -= sp->npages;
}

static void dirty_link(struct rum_span_set *s, struct rum_span *sp) {
  sp->dprev = NULL;
  sp->dnext = s->dirty;
  if (s->dirty != NULL) s->dirty->dprev = sp;
  s->dirty = sp;
  s->dirty_pages += sp->npages;
}

static void bin_insert(struct rum_span_set *s, struct rum_span *sp) {
  unsigned b = rum__span_bin_of(sp->npages);
  sp->bin = (uint16_t)b;
  sp->state = RUM_SPAN_FREE;
  sp->prev = NULL;
  sp->next = s->bins[b];
  if (s->bins[b] != NULL) s->bins[b]->prev = sp;
  s->bins[b] = sp;
  s->nonempty[b / 64] |= 1ull << (b % 64);
  s->free_pages += sp->npages;
  if (sp->dirty) dirty_link(s, sp);
  mark_ends(sp);
}

/* Take a FREE span out of its bin (and the dirty list); its state is the caller's. */
static void bin_remove(struct rum_span_set *s, struct rum_span *sp) {
  unsigned b = sp->bin;
  if (sp->prev != NULL) sp->prev->next = sp->next;
  else s->bins[b] = sp->next;
  if (sp->next != NULL) sp->next->prev = sp->prev;
  if (s->bins[b] == NULL) s->nonempty[b / 64] &= ~(1ull << (b % 64));
  sp->prev = sp->next = NULL;
  s->free_pages -= sp->npages;
  dirty_unlink(s, sp);
}

static struct rum_span *free_left_of(const struct rum_heap_region *h, uint64_t start) {
  if (start == 0) return NULL;
  struct rum_span *l = h->span_of[start - 1];
  return l != NULL && l->state == RUM_SPAN_FREE && l->heap == h && l->start + l->npages == start ? l : NULL;
}

static struct rum_span *free_right_of(const struct rum_heap_region *h, uint64_t end) {
  if (end >= h->npages) return NULL;
  struct rum_span *r = h->span_of[end];
  return r != NULL && r->state == RUM_SPAN_FREE && r->heap == h && r->start == end ? r : NULL;
}

static uint64_t min_u64(uint64_t a, uint64_t b) { return a < b ? a : b; }

/* Merge the free span sp (not in a bin) with its free neighbours and bin it. */
static void coalesce_insert(struct rum_span_set *s, struct rum_span *sp) {
  struct rum_span *l = free_left_of(sp->heap, sp->start);
  if (l != NULL) {
    bin_remove(s, l);
    if (l->dirty) sp->freed_ms = sp->dirty ? min_u64(sp->freed_ms, l->freed_ms) : l->freed_ms;
    sp->dirty |= l->dirty;
    sp->start = l->start;
    sp->npages += l->npages;
    span_retire(s, l);
  }
  struct rum_span *r = free_right_of(sp->heap, sp->start + sp->npages);
  if (r != NULL) {
    bin_remove(s, r);
    if (r->dirty) sp->freed_ms = sp->dirty ? min_u64(sp->freed_ms, r->freed_ms) : r->freed_ms;
    sp->dirty |= r->dirty;
    sp->npages += r->npages;
    span_retire(s, r);
  }
  bin_insert(s, sp);
}

int rum__span_add_fresh(struct rum_span_set *s, struct rum_heap_region *h, uint64_t start, uint64_t n) {
  struct rum_span *sp = span_new(s);
  if (sp == NULL) return RUM_ENOMEM;
  sp->heap = h;
  sp->start = start;
  sp->npages = n;
  if (h->npages < start + n) h->npages = start + n;
  coalesce_insert(s, sp);
  return 0;
}

/* A free span of at least n pages, or NULL. */
static struct rum_span *find_fit(struct rum_span_set *s, uint64_t n) {
  unsigned b = rum__span_bin_of(n);
  int scanned = 0;
  for (struct rum_span *sp = s->bins[b]; sp != NULL && scanned < RUM_SPAN_FIT_SCAN; sp = sp->next, scanned++)
    if (sp->npages >= n) return sp;
  /* Every span in a higher bin is big enough: the lowest non-empty one. */
  for (unsigned w = (b + 1) / 64; w < RUM_SPAN_BITMAP_WORDS; w++) {
    uint64_t bits = s->nonempty[w];
    if (w == (b + 1) / 64) bits &= ~0ull << ((b + 1) % 64);
    if (bits != 0) return s->bins[w * 64 + (unsigned)__builtin_ctzll(bits)];
  }
  return NULL;
}

/* Split the first n pages off the free span f (in a bin): returns them as a new
 * in-use span, f keeps the rest; or all of f when it is exactly n. */
static struct rum_span *split_front(struct rum_span_set *s, struct rum_span *f, uint64_t n, bool *nomem) {
  if (f->npages == n) {
    bin_remove(s, f);
    f->state = RUM_SPAN_LARGE;
    return f;
  }
  struct rum_span *a = span_new(s);
  if (a == NULL) {
    *nomem = true;
    return NULL;
  }
  bool dirty = f->dirty;
  uint64_t freed = f->freed_ms;
  bin_remove(s, f);
  a->heap = f->heap;
  a->start = f->start;
  a->npages = n;
  a->state = RUM_SPAN_LARGE;
  f->start += n;
  f->npages -= n;
  f->dirty = dirty;
  f->freed_ms = freed;
  bin_insert(s, f);
  return a;
}

struct rum_span *rum__span_take(struct rum_span_set *s, uint64_t npages, bool *nomem, bool *dirty) {
  *nomem = false;
  struct rum_span *f = find_fit(s, npages);
  if (f == NULL) return NULL;
  *dirty = f->dirty;
  struct rum_span *a = split_front(s, f, npages, nomem);
  if (a == NULL) return NULL;
  a->heap->span_of[a->start] = a;
  a->owner = NULL;
  a->size = 0;
  s->used_pages += a->npages;
  return a;
}

void rum__span_mark_slab(struct rum_span *span, void *slab) {
  span->state = RUM_SPAN_SLAB;
  span->owner = slab;
  for (uint64_t p = 0; p < span->npages; p++) span->heap->span_of[span->start + p] = span;
}

void rum__span_give(struct rum_span_set *s, struct rum_span *span, uint64_t now_ms) {
  s->used_pages -= span->npages;
  span->owner = NULL;
  span->size = 0;
  span->dirty = true;
  span->freed_ms = now_ms;
  coalesce_insert(s, span);
}

bool rum__span_extend(struct rum_span_set *s, struct rum_span *span, uint64_t npages, bool *nomem) {
  *nomem = false;
  if (npages <= span->npages) return true;
  uint64_t need = npages - span->npages;
  struct rum_span *r = free_right_of(span->heap, span->start + span->npages);
  if (r == NULL || r->npages < need) return false;
  if (r->npages == need) {
    bin_remove(s, r);
    span_retire(s, r);
  } else {
    bool dirty = r->dirty;
    uint64_t freed = r->freed_ms;
    bin_remove(s, r);
    r->start += need;
    r->npages -= need;
    r->dirty = dirty;
    r->freed_ms = freed;
    bin_insert(s, r);
  }
  span->npages = npages;
  s->used_pages += need;
  return true;
}

uint64_t rum__span_shrink(struct rum_span_set *s, struct rum_span *span, uint64_t npages, uint64_t now_ms) {
  if (npages == 0 || npages >= span->npages) return 0;
  struct rum_span *tail = span_new(s);
  if (tail == NULL) return 0;
  tail->heap = span->heap;
  tail->start = span->start + npages;
  tail->npages = span->npages - npages;
  span->npages = npages;
  s->used_pages -= tail->npages;
  tail->dirty = true;
  tail->freed_ms = now_ms;
  coalesce_insert(s, tail);
  return span->start + npages;
}

struct rum_span *rum__span_at(const struct rum_heap_region *h, uint64_t page) {
  if (page >= h->npages) return NULL;
  struct rum_span *sp = h->span_of[page];
  if (sp == NULL || sp->heap != h || (sp->state != RUM_SPAN_SLAB && sp->state != RUM_SPAN_LARGE)) return NULL;
  return page >= sp->start && page - sp->start < sp->npages ? sp : NULL;
}

struct rum_span *rum__span_top_free(const struct rum_heap_region *h) {
  if (h->npages == 0) return NULL;
  struct rum_span *sp = h->span_of[h->npages - 1];
  return sp != NULL && sp->state == RUM_SPAN_FREE && sp->heap == h && sp->start + sp->npages == h->npages ? sp
                                                                                                           : NULL;
}

size_t rum__span_take_decayed(struct rum_span_set *s, uint64_t older_than_ms, struct rum_span **out, size_t max) {
  size_t n = 0;
  struct rum_span *sp = s->dirty;
  while (sp != NULL && n < max) {
    struct rum_span *next = sp->dnext;
    if (sp->freed_ms <= older_than_ms) {
      bin_remove(s, sp);
      sp->state = RUM_SPAN_DISCARDING;
      out[n++] = sp;
    }
    sp = next;
  }
  return n;
}

void rum__span_return_discarded(struct rum_span_set *s, struct rum_span *span, bool clean, uint64_t now_ms) {
  span->dirty = !clean;
  span->freed_ms = now_ms;
  coalesce_insert(s, span);
}

void rum__span_cut_top(struct rum_span_set *s, struct rum_heap_region *h, struct rum_span *top, uint64_t keep) {
  bin_remove(s, top);
  h->npages = top->start + keep;
  if (keep == 0) {
    span_retire(s, top);
    return;
  }
  top->npages = keep;
  bin_insert(s, top);
}

int rum__span_uncut_top(struct rum_span_set *s, struct rum_heap_region *h, uint64_t from, uint64_t to, bool dirty,
                        uint64_t now_ms) {
  struct rum_span *sp = span_new(s);
  if (sp == NULL) return RUM_ENOMEM;
  sp->heap = h;
  sp->start = from;
  sp->npages = to - from;
  sp->dirty = dirty;
  sp->freed_ms = now_ms;
  h->npages = to;
  coalesce_insert(s, sp);
  return 0;
}

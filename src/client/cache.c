/* The page cache's fault path: the per-page state machine, filling (fetch or zeros,
 * with read-ahead), frames and the CLOCK sweep that picks eviction victims.
 *
 * Concurrency: a page changes hands only by compare-and-swap on its state byte.
 * Whoever moves ABSENT -> FETCHING fills it; whoever moves CLEAN/DIRTY -> BUSY writes
 * it back or evicts it; every other thread that faults on the page meanwhile waits
 * for the byte to change, so each page is fetched once however many threads touch it.
 * The cache spinlock guards only the frame table; no code holding it touches grid
 * memory, so a fault can never interrupt its holder, and the fault handler blocks
 * all other signals. */
#include "client/cache.h"
#include "client/journal.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <rum/rum_errors.h>

#include "util/clock.h"
#include "util/log.h"

enum { STAGING_BYTES = RUM_CACHE_STAGING_BYTES };

int rum__cache_create(const struct rum_cache_config *cfg, struct rum_region_table *t,
                      struct rum_fault_backend *b, const struct rum_store_ops *store, void *store_ctx,
                      struct rum_cache **out) {
  if (cfg->capacity_pages < 2 * RUM_WIRE_MAX_PAGES || cfg->capacity_pages > UINT32_MAX - 1 ||
      store == NULL || store->fetch == NULL || store->store == NULL)
    return RUM_EINVAL;
  struct rum_cache *c = calloc(1, sizeof(*c));
  if (c == NULL) return RUM_ENOMEM;
  c->table = t;
  c->fault = b;
  c->store = *store;
  c->store_ctx = store_ctx;
  c->capacity = cfg->capacity_pages;
  c->max_readahead = cfg->max_readahead == 0 ? RUM_WIRE_MAX_PAGES : cfg->max_readahead;
  if (c->max_readahead > RUM_WIRE_MAX_PAGES) c->max_readahead = RUM_WIRE_MAX_PAGES;
  c->evict_batch = cfg->evict_batch == 0 ? 32 : cfg->evict_batch;
  if (c->evict_batch > RUM_WIRE_MAX_PAGES) c->evict_batch = RUM_WIRE_MAX_PAGES;
  int depth = cfg->readahead_depth == 0 ? RUM_CACHE_READAHEAD_DEPTH : cfg->readahead_depth;
  if (depth < 0 || store->fetch_start == NULL || store->fetch_finish == NULL) depth = 0;
  c->readahead_depth = depth > RUM_CACHE_READAHEAD_OPS ? RUM_CACHE_READAHEAD_OPS : (unsigned)depth;
  c->frames = calloc(c->capacity, sizeof(*c->frames));
  c->free_stack = malloc(c->capacity * sizeof(uint32_t));
  void *staging = mmap(NULL, (size_t)RUM_CACHE_STAGING * STAGING_BYTES, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  c->staging = staging == MAP_FAILED ? NULL : staging;
  if (c->frames == NULL || c->free_stack == NULL || c->staging == NULL) {
    rum__cache_destroy(c);
    return RUM_ENOMEM;
  }
  /* Hand out low frame numbers first (free_stack pops from the end). */
  for (uint64_t i = 0; i < c->capacity; i++) c->free_stack[i] = (uint32_t)(c->capacity - 1 - i);
  c->nfree = c->capacity;
  *out = c;
  return 0;
}

void rum__cache_destroy(struct rum_cache *c) {
  if (c == NULL) return;
  if (c->frames != NULL) rum__readahead_drain(c);
  free(c->frames);
  free(c->free_stack);
  if (c->staging != NULL) munmap(c->staging, (size_t)RUM_CACHE_STAGING * STAGING_BYTES);
  free(c);
}

/* ---- small helpers ---- */

static void count(_Atomic uint64_t *counter, uint64_t n) {
  atomic_fetch_add_explicit(counter, n, memory_order_relaxed);
}

static void touch(struct rum_cache *c, struct rum_region *r, uint64_t page) {
  uint32_t f = r->frame[page];
  if (f != 0 && f <= c->capacity) atomic_store_explicit(&c->frames[f - 1].ref, 1, memory_order_relaxed);
}

unsigned rum__cache_staging_try(struct rum_cache *c) {
  for (unsigned i = 0; i < RUM_CACHE_STAGING; i++) {
    if (!atomic_load_explicit(&c->staging_busy[i], memory_order_relaxed) &&
        !atomic_exchange_explicit(&c->staging_busy[i], true, memory_order_acquire))
      return i;
  }
  return RUM_CACHE_STAGING;
}

static unsigned staging_take(struct rum_cache *c) {
  for (;;) {
    unsigned i = rum__cache_staging_try(c);
    if (i < RUM_CACHE_STAGING) return i;
    sched_yield();
  }
}

void rum__cache_staging_give(struct rum_cache *c, unsigned i) {
  atomic_store_explicit(&c->staging_busy[i], false, memory_order_release);
}

_Noreturn void rum__cache_fatal_page(const char *what, const struct rum_region *r, uint64_t page,
                                     const struct rum_store_error *err) {
  char msg[320];
  char *p = msg, *end = msg + sizeof(msg);
  p = rum__fmt_str(p, end, "rum: fatal: ");
  p = rum__fmt_str(p, end, what);
  p = rum__fmt_str(p, end, ": region ");
  p = rum__fmt_hex(p, end, r->id);
  if (r->name != NULL) {
    p = rum__fmt_str(p, end, " (\"");
    p = rum__fmt_str(p, end, r->name);
    p = rum__fmt_str(p, end, "\")");
  }
  p = rum__fmt_str(p, end, " page ");
  p = rum__fmt_u64(p, end, page);
  if (err != NULL) {
    p = rum__fmt_str(p, end, " node ");
    p = rum__fmt_u64(p, end, err->node_id);
    p = rum__fmt_str(p, end, ": ");
    p = rum__fmt_str(p, end, rum_strerror(err->code));
  }
  p = rum__fmt_str(p, end, "; the program cannot go on without this page\n");
  rum__fault_fatal(msg);
}

/* ---- frames and eviction ---- */

static unsigned frames_pop(struct rum_cache *c, uint32_t *out, unsigned want) {
  unsigned got = 0;
  rum__spin_lock(&c->lock);
  while (got < want && c->nfree > 0) out[got++] = c->free_stack[--c->nfree];
  rum__spin_unlock(&c->lock);
  return got;
}

void rum__cache_frames_give(struct rum_cache *c, const uint32_t *f, unsigned n) {
  rum__spin_lock(&c->lock);
  for (unsigned i = 0; i < n; i++) {
    c->frames[f[i]].region = NULL;
    c->free_stack[c->nfree++] = f[i];
  }
  rum__spin_unlock(&c->lock);
}

void rum__cache_finish_victims(struct rum_cache *c, struct rum_victim *v, unsigned n, bool drop) {
  const struct rum_fault_ops *ops = c->fault->ops;
  for (unsigned i = 0; i < n;) {
    /* A run: same region, consecutive pages, same outcome. */
    unsigned j = i + 1;
    while (j < n && v[j].region == v[i].region && v[j].page == v[j - 1].page + 1 &&
           v[j].keep == v[i].keep)
      j++;
    struct rum_region *r = v[i].region;
    uint8_t *addr = rum__region_page_addr(r, v[i].page);
    size_t len = (size_t)(j - i) * RUM_PAGE_SIZE;
    if (v[i].keep) {
      /* Write-back failed: the pages stay resident and dirty, writable again. */
      if (ops->make_writable(c->fault, addr, len) != 0) rum__cache_fatal_page("cannot unprotect", r, v[i].page, NULL);
      for (unsigned k = i; k < j; k++) rum__page_set(r, v[k].page, RUM_PAGE_DIRTY, false);
    } else if (!drop) {
      for (unsigned k = i; k < j; k++) {
        rum__page_set(r, v[k].page, RUM_PAGE_CLEAN, v[k].dirty && !v[k].freed);
        if (v[k].dirty) atomic_fetch_sub(&r->ndirty, 1);
      }
    } else {
      if (ops->drop(c->fault, addr, len) != 0) rum__cache_fatal_page("cannot evict", r, v[i].page, NULL);
      uint32_t frames[RUM_WIRE_MAX_PAGES];
      unsigned nf = 0;
      for (unsigned k = i; k < j; k++) {
        uint32_t f = r->frame[v[k].page];
        r->frame[v[k].page] = 0;
        if (f != 0) frames[nf++] = f - 1;
        if (nf == RUM_WIRE_MAX_PAGES) {
          rum__cache_frames_give(c, frames, nf);
          nf = 0;
        }
      }
      rum__cache_frames_give(c, frames, nf);
      for (unsigned k = i; k < j; k++) {
        if (v[k].dirty) atomic_fetch_sub(&r->ndirty, 1);
        rum__page_set(r, v[k].page, RUM_PAGE_ABSENT, v[k].dirty && !v[k].freed);
        if (v[k].freed) atomic_fetch_and(&r->state[v[k].page], (uint8_t)~RUM_PAGE_STORED);
      }
      atomic_fetch_sub(&r->nresident, j - i);
      atomic_fetch_sub(&c->resident, j - i);
      count(&c->counters.evictions, j - i);
    }
    i = j;
  }
}

/* CLOCK: sweep from the hand, giving pages with the reference bit a second chance,
 * and claim up to want victims. Then write back the dirty ones in one batch and drop
 * them all. Returns the number of frames freed, or a negative code (and *err) when
 * nothing could be freed because write-back failed. */
static int evict_some(struct rum_cache *c, unsigned want, struct rum_store_error *err) {
  struct rum_victim v[RUM_WIRE_MAX_PAGES];
  unsigned nv = 0;
  if (want > RUM_WIRE_MAX_PAGES) want = RUM_WIRE_MAX_PAGES;
  rum__spin_lock(&c->lock);
  for (uint64_t steps = 0; nv < want && steps < 2 * c->capacity + 1; steps++) {
    struct rum_frame *f = &c->frames[c->hand];
    c->hand = (c->hand + 1) % c->capacity;
    if (f->region == NULL) continue;
    if (atomic_exchange_explicit(&f->ref, 0, memory_order_relaxed)) continue;
    struct rum_region *r = f->region;
    uint8_t seen;
    if (rum__page_cas(r, f->page, RUM_PAGE_CLEAN, RUM_PAGE_BUSY, &seen)) {
      v[nv++] = (struct rum_victim){r, f->page, false, false, (seen & RUM_PAGE_FREED) != 0};
    } else if (rum__page_cas(r, f->page, RUM_PAGE_DIRTY, RUM_PAGE_BUSY, &seen)) {
      v[nv++] = (struct rum_victim){r, f->page, true, false, (seen & RUM_PAGE_FREED) != 0};
    }
  }
  rum__spin_unlock(&c->lock);
  if (nv == 0) return 0;
  rum__victims_sort(v, nv);
  struct rum_victim dirty[RUM_WIRE_MAX_PAGES];
  unsigned nd = 0;
  for (unsigned i = 0; i < nv; i++)
    if (v[i].dirty) dirty[nd++] = v[i];
  int rc = 0;
  if (nd > 0) {
    /* Freed dirty pages too: whether they are still freed is decided there, once
     * they are write-protected (a block may have been carved over them since). */
    rc = rum__writeback_victims(c, dirty, nd, err);
    for (unsigned i = 0, k = 0; i < nv && k < nd; i++)
      if (v[i].dirty) {
        v[i].keep = dirty[k].keep;
        v[i].freed = dirty[k++].freed;
      }
  }
  rum__cache_finish_victims(c, v, nv, true);
  unsigned freed = 0;
  for (unsigned i = 0; i < nv; i++) freed += !v[i].keep;
  return freed > 0 ? (int)freed : rc;
}

unsigned rum__cache_frames_take(struct rum_cache *c, uint32_t *out, unsigned want, const struct rum_region *r,
                                uint64_t page) {
  unsigned got = frames_pop(c, out, want);
  if (got == want) return got;
  unsigned batch = want - got > c->evict_batch ? want - got : c->evict_batch;
  struct rum_store_error err = {0, 0};
  int rc = evict_some(c, batch, &err);
  got += frames_pop(c, out + got, want - got);
  for (unsigned tries = 0; got == 0; tries++) {
    if (rc < 0 && tries > 100) {
      err.code = rc;
      rum__cache_fatal_page("no cache frame: dirty pages cannot be written back", r, page, &err);
    }
    sched_yield(); /* other threads hold every frame busy; they will finish */
    rc = evict_some(c, c->evict_batch, &err);
    got = frames_pop(c, out, want);
  }
  return got;
}

/* ---- filling ---- */

/* Pages a fault at page should bring: the window doubles while faults land just
 * after the previous fill (a sequential scan) and falls back to one page otherwise.
 * *sequential says the fault continues the previous fill; *streaming that the window
 * was at its largest already: the scan is sequential for sure, so the windows after
 * it are worth fetching ahead. */
static unsigned readahead_window(struct rum_cache *c, struct rum_region *r, uint64_t page, bool *sequential_out,
                                 bool *streaming) {
  uint64_t expected = atomic_load_explicit(&r->next_expected, memory_order_relaxed);
  uint32_t w = atomic_load_explicit(&r->ra_window, memory_order_relaxed), before = w;
  bool sequential = page == expected && page != 0;
  if (sequential) {
    w = w * 2 > c->max_readahead ? c->max_readahead : w * 2;
  } else {
    w = 1;
  }
  uint64_t cap = c->capacity / 8;
  if (w > cap) w = (uint32_t)(cap > 0 ? cap : 1);
  atomic_store_explicit(&r->ra_window, w, memory_order_relaxed);
  *sequential_out = sequential;
  *streaming = sequential && w == before;
  return w;
}

/* A fault reached a read-ahead window: the scan streams, at the largest window. */
static unsigned streaming_window(struct rum_cache *c, struct rum_region *r) {
  uint64_t w = c->max_readahead, cap = c->capacity / 8;
  if (w > cap) w = cap > 0 ? cap : 1;
  atomic_store_explicit(&r->ra_window, (uint32_t)w, memory_order_relaxed);
  return (unsigned)w;
}

static bool page_is_zero(const struct rum_region *r, uint8_t v) { return rum__cache_page_is_zero(r, v); }

void rum__cache_publish(struct rum_cache *c, struct rum_region *r, uint64_t page, unsigned n, const uint32_t *fr,
                        unsigned ndirty) {
  /* Every page starts referenced, read-ahead ones too: a scan reads them without a
   * fault (nothing else would set the bit), and the hand sweeps frames in index
   * order, which after a refresh or free is unrelated to fill order, so without the
   * second chance it would evict pages brought a moment ago for the scan. */
  rum__spin_lock(&c->lock);
  for (unsigned i = 0; i < n; i++) {
    c->frames[fr[i]].region = r;
    c->frames[fr[i]].page = page + i;
    atomic_store_explicit(&c->frames[fr[i]].ref, 1, memory_order_relaxed);
  }
  rum__spin_unlock(&c->lock);
  for (unsigned i = 0; i < n; i++) r->frame[page + i] = fr[i] + 1;
  atomic_fetch_add(&r->nresident, n);
  atomic_fetch_add(&c->resident, n);
  atomic_store_explicit(&r->next_expected, page + n, memory_order_relaxed);
  if (ndirty > 0) {
    atomic_fetch_add(&r->ndirty, ndirty);
    count(&c->counters.write_faults, 1);
  }
  for (unsigned i = 0; i < n; i++) rum__page_set(r, page + i, i < ndirty ? RUM_PAGE_DIRTY : RUM_PAGE_CLEAN, false);
}

/* Fill pages starting at page, which the caller moved to FETCHING; claims up to
 * want - 1 following absent pages of the same kind (zero or fetched). The first page
 * is made writable and dirty when write is set; every page is when write_all is set
 * too (a sequential writer: it would otherwise take a second fault on each page).
 * Returns the number of pages filled, or a negative code (fetch failed; the pages
 * are ABSENT again). */
static int fill(struct rum_cache *c, struct rum_region *r, uint64_t page, unsigned want, bool write,
                bool write_all, struct rum_store_error *err) {
  uint64_t npages = atomic_load_explicit(&r->npages, memory_order_acquire);
  if (want > npages - page) want = (unsigned)(npages - page);
  if (want == 0) want = 1;
  uint32_t fr[RUM_WIRE_MAX_PAGES];
  unsigned got = rum__cache_frames_take(c, fr, want, r, page);
  bool zero = page_is_zero(r, rum__page_load(r, page));
  unsigned n = 1;
  while (n < got) {
    uint8_t v = rum__page_load(r, page + n);
    if ((v & RUM_PAGE_STATE_MASK) != RUM_PAGE_ABSENT || page_is_zero(r, v) != zero) break;
    if (!rum__page_cas(r, page + n, RUM_PAGE_ABSENT, RUM_PAGE_FETCHING, NULL)) break;
    n++;
  }
  if (n < got) rum__cache_frames_give(c, fr + n, got - n);
  const struct rum_fault_ops *ops = c->fault->ops;
  uint8_t *addr = rum__region_page_addr(r, page);
  size_t len = (size_t)n * RUM_PAGE_SIZE;
  bool writable = write && (n == 1 || write_all);
  unsigned ndirty = write ? (writable ? n : 1) : 0;
  int rc;
  if (zero) {
    for (unsigned i = 0; i < ndirty; i++) rum__journal_capture(c, r, page + i, NULL);
    rc = ops->install(c->fault, addr, NULL, len, writable);
    count(&c->counters.zero_fills, n);
  } else {
    uint8_t *target = ops->fill_target(c->fault, addr, len);
    unsigned staging = RUM_CACHE_STAGING;
    if (target == NULL) {
      staging = staging_take(c);
      target = c->staging + (size_t)staging * STAGING_BYTES;
    }
    rc = c->store.fetch(c->store_ctx, r, page, n, target, err);
    if (rc != 0) {
      if (staging < RUM_CACHE_STAGING) rum__cache_staging_give(c, staging);
      count(&c->counters.fetch_errors, 1);
      ops->drop(c->fault, addr, len); /* the alias may hold part of a reply */
      rum__cache_frames_give(c, fr, n);
      for (unsigned i = 0; i < n; i++) rum__page_set(r, page + i, RUM_PAGE_ABSENT, false);
      return rc;
    }
    for (unsigned i = 0; i < ndirty; i++) rum__journal_capture(c, r, page + i, target + (size_t)i * RUM_PAGE_SIZE);
    rc = ops->install(c->fault, addr, target, len, writable);
    if (staging < RUM_CACHE_STAGING) rum__cache_staging_give(c, staging);
  }
  if (rc == 0 && write && !writable) rc = ops->make_writable(c->fault, addr, RUM_PAGE_SIZE);
  if (rc != 0) {
    struct rum_store_error ierr = {0, rc};
    rum__cache_fatal_page("cannot install page", r, page, &ierr);
  }
  if (n > 1) count(&c->counters.readahead, n - 1);
  rum__cache_publish(c, r, page, n, fr, ndirty);
  return (int)n;
}

static _Noreturn void fatal_lost(const struct rum_region *r, uint64_t page, int lost) {
  struct rum_store_error err = {(uint32_t)(lost - 1), RUM_ELEASE};
  rum__cache_fatal_page("region lost (its lease expired or its node restarted)", r, page, &err);
}

int rum__cache_fault(void *cache, void *addr, int is_write) {
  struct rum_cache *c = cache;
  struct rum_region *r = rum__region_table_lookup(c->table, addr);
  if (r == NULL) return -1;
  uint64_t page = (uint64_t)((uint8_t *)addr - r->base) >> RUM_PAGE_SHIFT;
  if (page >= atomic_load_explicit(&r->npages, memory_order_acquire)) return -1;
  int lost = atomic_load_explicit(&r->lost, memory_order_relaxed);
  if (lost != 0) fatal_lost(r, page, lost);
  count(&c->counters.faults, 1);
  bool waited = false;
  for (;;) {
    uint8_t v = rum__page_load(r, page);
    switch (v & RUM_PAGE_STATE_MASK) {
    case RUM_PAGE_ABSENT:
      if (rum__page_cas(r, page, RUM_PAGE_ABSENT, RUM_PAGE_FETCHING, NULL)) {
        struct rum_store_error err = {0, 0};
        bool sequential, streaming;
        unsigned window = readahead_window(c, r, page, &sequential, &streaming);
        /* A sequential writer gets the window writable and dirty at once. */
        int rc = fill(c, r, page, window, is_write == 1, is_write == 1 && sequential, &err);
        if (rc < 0) {
          if (err.code == 0) err.code = rc;
          rum__cache_fatal_page("cannot fetch page", r, page, &err);
        }
        count(&c->counters.read_faults, 1);
        if (streaming && window >= RUM_READAHEAD_MIN_WINDOW && c->readahead_depth > 0)
          rum__readahead_more(c, r, page, window);
        return 0;
      }
      break;
    case RUM_PAGE_FETCHING:
      /* Most often a read-ahead window still in flight: finish it here, and keep the
       * pipeline full by starting the next one. */
      if (c->readahead_depth > 0 && rum__readahead_help(c, r, page)) {
        count(&c->counters.readahead_waits, 1);
        count(&c->counters.read_faults, 1);
        rum__readahead_more(c, r, page, streaming_window(c, r));
        break;
      }
      /* fall through */
    case RUM_PAGE_BUSY:
      if (!waited) count(&c->counters.hits, 1);
      waited = true;
      rum__cache_settle(c, r, page, v);
      break;
    case RUM_PAGE_CLEAN:
      if (is_write == 0) {
        /* Another thread installed it between our fault and now. */
        if (!waited) count(&c->counters.hits, 1);
        touch(c, r, page);
        return 0;
      }
      if (rum__page_cas(r, page, RUM_PAGE_CLEAN, RUM_PAGE_BUSY, NULL)) {
        uint8_t *pa = rum__region_page_addr(r, page);
        rum__journal_capture(c, r, page, c->fault->ops->read_ptr(c->fault, pa));
        if (c->fault->ops->make_writable(c->fault, pa, RUM_PAGE_SIZE) != 0)
          rum__cache_fatal_page("cannot make page writable", r, page, NULL);
        atomic_fetch_add(&r->ndirty, 1);
        touch(c, r, page);
        rum__page_set(r, page, RUM_PAGE_DIRTY, false);
        count(&c->counters.write_faults, 1);
        return 0;
      }
      break;
    default: /* DIRTY: made writable by another thread meanwhile */
      touch(c, r, page);
      return 0;
    }
  }
}

int rum__cache_prefetch(struct rum_cache *c, struct rum_region *r, uint64_t first, uint64_t n) {
  uint64_t npages = atomic_load(&r->npages);
  uint64_t end = first + n > npages ? npages : first + n;
  /* Never prefetch more than half the cache: it would only evict itself. */
  if (end - first > c->capacity / 2) end = first + c->capacity / 2;
  for (uint64_t p = first; p < end;) {
    if (!rum__page_cas(r, p, RUM_PAGE_ABSENT, RUM_PAGE_FETCHING, NULL)) {
      p++;
      continue;
    }
    uint64_t want = end - p > c->max_readahead ? c->max_readahead : end - p;
    struct rum_store_error err = {0, 0};
    int rc = fill(c, r, p, (unsigned)want, false, false, &err);
    if (rc < 0) return rc;
    p += (uint64_t)rc;
  }
  return 0;
}

/* A batch of rum__cache_prefetchv: the pieces claimed (FETCHING, frames held),
 * sent together by batch_run. */
struct prefetch_batch {
  struct rum_fetch_piece pieces[RUM_WIRE_MAX_PAGES];
  uint32_t frames[RUM_WIRE_MAX_PAGES];
  unsigned npieces, npages;
};

/* Fetch the batch's pieces with one store.fetchv, install and publish those that
 * arrived, give back the others. Returns 0 or the first failure. */
static int batch_run(struct rum_cache *c, struct prefetch_batch *b) {
  if (b->npieces == 0) return 0;
  const struct rum_fault_ops *ops = c->fault->ops;
  unsigned staging = RUM_CACHE_STAGING, off = 0;
  for (unsigned i = 0; i < b->npieces; i++) {
    struct rum_fetch_piece *pc = &b->pieces[i];
    size_t len = (size_t)pc->npages * RUM_PAGE_SIZE;
    pc->dst = ops->fill_target(c->fault, rum__region_page_addr(pc->r, pc->first), len);
    if (pc->dst == NULL) {
      if (staging == RUM_CACHE_STAGING) staging = staging_take(c);
      pc->dst = c->staging + (size_t)staging * STAGING_BYTES + (size_t)off * RUM_PAGE_SIZE;
    }
    off += pc->npages; /* npages <= RUM_WIRE_MAX_PAGES in all: one staging buffer holds them */
  }
  struct rum_store_error err = {0, 0};
  int first_rc = c->store.fetchv(c->store_ctx, b->pieces, b->npieces, &err);
  off = 0;
  for (unsigned i = 0; i < b->npieces; i++) {
    struct rum_fetch_piece *pc = &b->pieces[i];
    uint8_t *addr = rum__region_page_addr(pc->r, pc->first);
    size_t len = (size_t)pc->npages * RUM_PAGE_SIZE;
    const uint32_t *fr = b->frames + off;
    off += pc->npages;
    if (pc->status != 0) {
      count(&c->counters.fetch_errors, 1);
      ops->drop(c->fault, addr, len);
      rum__cache_frames_give(c, fr, pc->npages);
      for (unsigned k = 0; k < pc->npages; k++) rum__page_set(pc->r, pc->first + k, RUM_PAGE_ABSENT, false);
      if (first_rc == 0) first_rc = pc->status;
      continue;
    }
    int rc = ops->install(c->fault, addr, pc->dst, len, false);
    if (rc != 0) {
      struct rum_store_error ierr = {0, rc};
      rum__cache_fatal_page("cannot install page", pc->r, pc->first, &ierr);
    }
    count(&c->counters.readahead, pc->npages);
    rum__cache_publish(c, pc->r, pc->first, pc->npages, fr, 0);
  }
  if (staging < RUM_CACHE_STAGING) rum__cache_staging_give(c, staging);
  b->npieces = b->npages = 0;
  return first_rc;
}

int rum__cache_prefetchv(struct rum_cache *c, const struct rum_prefetch_range *rg, unsigned n) {
  if (c->store.fetchv == NULL) {
    int first_rc = 0;
    for (unsigned i = 0; i < n; i++) {
      int rc = rum__cache_prefetch(c, rg[i].r, rg[i].first, rg[i].n);
      if (rc != 0 && first_rc == 0) first_rc = rc;
    }
    return first_rc;
  }
  struct prefetch_batch b;
  b.npieces = b.npages = 0;
  uint64_t budget = c->capacity / 2; /* more would only evict itself */
  int first_rc = 0;
  for (unsigned i = 0; i < n && budget > 0; i++) {
    struct rum_region *r = rg[i].r;
    uint64_t npages = atomic_load(&r->npages);
    uint64_t end = rg[i].first + rg[i].n > npages ? npages : rg[i].first + rg[i].n;
    for (uint64_t p = rg[i].first; p < end && budget > 0;) {
      uint8_t v = rum__page_load(r, p);
      if ((v & RUM_PAGE_STATE_MASK) != RUM_PAGE_ABSENT || page_is_zero(r, v) ||
          !rum__page_cas(r, p, RUM_PAGE_ABSENT, RUM_PAGE_FETCHING, NULL)) {
        p++; /* resident, in flight, or zeros (made for nothing on first touch) */
        continue;
      }
      /* The piece: p and the absent pages after it, within its chunk and the batch. */
      uint64_t chunk_end = ((p >> RUM_CHUNK_SHIFT) + 1) << RUM_CHUNK_SHIFT;
      uint64_t stop = end < chunk_end ? end : chunk_end;
      uint64_t want = stop - p;
      if (want > RUM_WIRE_MAX_PAGES - b.npages) want = RUM_WIRE_MAX_PAGES - b.npages;
      if (want > budget) want = budget;
      uint32_t *fr = b.frames + b.npages;
      unsigned got = rum__cache_frames_take(c, fr, (unsigned)want, r, p);
      unsigned k = 1;
      while (k < got) {
        uint8_t vk = rum__page_load(r, p + k);
        if ((vk & RUM_PAGE_STATE_MASK) != RUM_PAGE_ABSENT || page_is_zero(r, vk) ||
            !rum__page_cas(r, p + k, RUM_PAGE_ABSENT, RUM_PAGE_FETCHING, NULL))
          break;
        k++;
      }
      if (k < got) rum__cache_frames_give(c, fr + k, got - k);
      b.pieces[b.npieces++] = (struct rum_fetch_piece){.r = r, .first = p, .npages = k};
      b.npages += k;
      budget -= k;
      p += k;
      if (b.npages == RUM_WIRE_MAX_PAGES || b.npieces == RUM_WIRE_MAX_PAGES) {
        int rc = batch_run(c, &b);
        if (rc != 0 && first_rc == 0) first_rc = rc;
      }
    }
  }
  int rc = batch_run(c, &b);
  return first_rc != 0 ? first_rc : rc;
}

/* Claim the resident pages of a range for dropping: all of them (discard) or the
 * clean ones only (refresh), waiting out pages in flight. */
static void drop_range(struct rum_cache *c, struct rum_region *r, uint64_t first, uint64_t n,
                       bool clean_only, bool forget) {
  struct rum_victim v[RUM_WIRE_MAX_PAGES];
  unsigned nv = 0;
  uint64_t reserved = r->reserved_pages;
  /* A refresh rereads what the nodes hold, which another process may have written.
   * Not so for a heap region: only this client writes it, its stored marks are exact,
   * and a page it never wrote back may hold a freed block's old bytes on the node. */
  bool shared = r->kind != RUM_REGION_HEAP;
  uint64_t end = first + n > reserved ? reserved : first + n;
  for (uint64_t p = first; p < end;) {
    uint8_t v8 = rum__page_load(r, p);
    uint8_t s = v8 & RUM_PAGE_STATE_MASK;
    bool next = true;
    if (s == RUM_PAGE_FETCHING || s == RUM_PAGE_BUSY) {
      rum__cache_settle(c, r, p, v8);
      next = false;
    } else if (s == RUM_PAGE_ABSENT) {
      uint8_t nv8 = forget ? 0 : (uint8_t)(v8 | (clean_only && shared ? RUM_PAGE_STORED : 0));
      if (nv8 != v8 && !atomic_compare_exchange_strong(&r->state[p], &v8, nv8)) next = false;
    } else if (s == RUM_PAGE_CLEAN || !clean_only) {
      if (rum__page_cas(r, p, s, RUM_PAGE_BUSY, NULL)) {
        v[nv++] = (struct rum_victim){r, p, s == RUM_PAGE_DIRTY, false, false};
      } else {
        next = false;
      }
    }
    if (next) p++;
    if (nv == RUM_WIRE_MAX_PAGES || (p >= end && nv > 0)) {
      rum__cache_finish_victims(c, v, nv, true);
      if (forget) {
        for (unsigned i = 0; i < nv; i++)
          atomic_fetch_and(&r->state[v[i].page], (uint8_t)~(RUM_PAGE_STORED | RUM_PAGE_FREED));
      } else if (clean_only && shared) {
        for (unsigned i = 0; i < nv; i++) atomic_fetch_or(&r->state[v[i].page], RUM_PAGE_STORED);
      }
      nv = 0;
    }
  }
}

/* The freed form of eight state bytes: a page that is not ABSENT gets RUM_PAGE_FREED
 * (its frame must not be written back), an ABSENT one forgets RUM_PAGE_STORED (when
 * reused it reads zeros instead of the old bytes). */
static inline uint64_t freed_form(uint64_t x) {
  const uint64_t low = 0x0101010101010101ull;
  uint64_t t = x & (low * RUM_PAGE_STATE_MASK);
  uint64_t present = (t | (t >> 1) | (t >> 2)) & low;
  return (x | present * RUM_PAGE_FREED) & ~((present ^ low) * RUM_PAGE_STORED);
}

static void mark_one(struct rum_region *r, uint64_t p, bool freed) {
  uint8_t v = atomic_load_explicit(&r->state[p], memory_order_acquire), nv;
  do {
    nv = freed ? (uint8_t)freed_form(v) : (uint8_t)(v & ~RUM_PAGE_FREED);
  } while (nv != v &&
           !atomic_compare_exchange_weak_explicit(&r->state[p], &v, nv, memory_order_acq_rel, memory_order_acquire));
}

/* Eight pages per atomic operation on the state array (page-aligned, so aligned
 * words): every other writer changes single bytes with locked instructions, which
 * x86 and arm64 keep atomic against a locked word operation covering them. Words
 * that need no change (pages never touched) cost a load. */
void rum__cache_mark_freed(struct rum_cache *c, struct rum_region *r, uint64_t first, uint64_t n, bool freed) {
  (void)c;
  const uint64_t freed_bits = 0x0101010101010101ull * RUM_PAGE_FREED;
  uint64_t end = first + n > r->reserved_pages ? r->reserved_pages : first + n;
  uint64_t p = first;
  for (; p < end && (p & 7) != 0; p++) mark_one(r, p, freed);
  for (; p + 8 <= end; p += 8) {
    _Atomic uint64_t *w = (_Atomic uint64_t *)(void *)&r->state[p];
    uint64_t x = atomic_load_explicit(w, memory_order_acquire);
    if (!freed) {
      if (x & freed_bits) atomic_fetch_and_explicit(w, ~freed_bits, memory_order_acq_rel);
      continue;
    }
    uint64_t nx;
    do {
      nx = freed_form(x);
    } while (nx != x && !atomic_compare_exchange_weak_explicit(w, &x, nx, memory_order_acq_rel, memory_order_acquire));
  }
  for (; p < end; p++) mark_one(r, p, freed);
}

void rum__cache_discard(struct rum_cache *c, struct rum_region *r, uint64_t first, uint64_t n,
                        bool forget) {
  drop_range(c, r, first, n, false, forget);
}

int rum__cache_refresh(struct rum_cache *c, struct rum_region *r, uint64_t first, uint64_t n) {
  int rc = rum__cache_flush(c, r, first, n);
  if (rc != 0) return rc;
  drop_range(c, r, first, n, true, false);
  return 0;
}

/* The heap's maintenance: DISCARD decayed free pages, trim free heap tops. See heap.h.
 *
 * Why decay instead of discarding at free: a program that frees and allocates again
 * at once (a collector's cycle, a growing buffer) reuses the pages before their
 * DISCARD would even have left; only pages that stay free cost a message, and those
 * go in batches, off every allocating thread's path. Spans are out of the free bins
 * while their DISCARD is in flight, so a page can never be reused and written back
 * before a DISCARD of its old bytes lands on the node. */
#include <string.h>

#include "client/client.h"
#include "client/heap.h"
#include "util/log.h"

/* DISCARD the spans of batch (all of one arena, DISCARDING) region by region and put
 * them back. */
static void discard_batch(struct rum_heap *h, struct rum_heap_arena *a, struct rum_span **batch, size_t n) {
  struct rum_client *cl = a->client;
  bool ok[RUM_HEAP_DISCARD_BATCH];
  struct rum_page_range ranges[RUM_HEAP_DISCARD_BATCH];
  bool done[RUM_HEAP_DISCARD_BATCH] = {false};
  for (size_t i = 0; i < n; i++) {
    if (done[i]) continue;
    struct rum_heap_region *hr = batch[i]->heap;
    size_t k = 0, which[RUM_HEAP_DISCARD_BATCH];
    for (size_t j = i; j < n; j++) {
      if (done[j] || batch[j]->heap != hr) continue;
      ranges[k] = (struct rum_page_range){batch[j]->start, batch[j]->npages};
      which[k++] = j;
      done[j] = true;
    }
    /* The cache first: a resident freed page dropped after the DISCARD could come
     * back from nowhere else, but one dropped before it never goes to the node. */
    for (size_t m = 0; m < k; m++) rum__cache_discard(cl->cache, hr->region, ranges[m].first, ranges[m].npages, true);
    int rc = cl->remote.region_discard != NULL ? cl->remote.region_discard(cl->remote_ctx, hr->region, ranges, (unsigned)k)
                                               : 0;
    if (rc != 0) {
      atomic_fetch_add(&h->discard_errors, 1);
      RUM_LOG_D("DISCARD of %zu range(s) of heap region %#llx: %s; retried later", k,
                (unsigned long long)hr->region->id, rum_strerror(rc));
    }
    for (size_t m = 0; m < k; m++) {
      ok[which[m]] = rc == 0;
      if (rc == 0) atomic_fetch_add(&h->discarded_pages, ranges[m].npages);
    }
  }
  uint64_t now = rum__heap_now_ms();
  pthread_mutex_lock(&a->lock);
  for (size_t i = 0; i < n; i++) rum__span_return_discarded(&a->spans, batch[i], ok[i], now);
  pthread_mutex_unlock(&a->lock);
}

static void decay_arena(struct rum_heap *h, struct rum_heap_arena *a, uint64_t older_than) {
  /* Bounded: a round never holds more than a few batches of spans out of the bins. */
  for (int round = 0; round < 16; round++) {
    struct rum_span *batch[RUM_HEAP_DISCARD_BATCH];
    pthread_mutex_lock(&a->lock);
    size_t n = rum__span_take_decayed(&a->spans, older_than, batch, RUM_HEAP_DISCARD_BATCH);
    pthread_mutex_unlock(&a->lock);
    if (n == 0) return;
    discard_batch(h, a, batch, n);
    if (n < RUM_HEAP_DISCARD_BATCH) return;
  }
}

/* Shrink heap regions whose top is free and decayed: keep an eighth of what is below
 * it as headroom (at least RUM_HEAP_INITIAL_PAGES in all), give the rest back. */
static void trim_arena(struct rum_heap *h, struct rum_heap_arena *a) {
  pthread_mutex_lock(&a->lock);
  for (struct rum_heap_region *hr = a->heaps; hr != NULL; hr = hr->next) {
    /* Only a top that has decayed (clean: discarded) goes: a recently freed one is
     * likely to be needed again at once, and cutting it would cost a RESIZE now and
     * fresh-page faults after the next growth. */
    struct rum_span *top = rum__span_top_free(hr);
    if (top == NULL || top->dirty || atomic_load(&hr->region->lost)) continue;
    uint64_t target = top->start + top->start / 8;
    if (target < RUM_HEAP_INITIAL_PAGES) target = RUM_HEAP_INITIAL_PAGES;
    if (target >= hr->npages || hr->npages - target < RUM_HEAP_TRIM_MIN_PAGES) continue;
    uint64_t old = hr->npages;
    bool dirty = top->dirty;
    rum__span_cut_top(&a->spans, hr, top, target - top->start);
    int rc = rum__heap_region_resize(a, hr, target);
    if (rc != 0) {
      RUM_LOG_D("trimming heap region %#llx to %llu pages: %s", (unsigned long long)hr->region->id,
                (unsigned long long)target, rum_strerror(rc));
      if (rum__span_uncut_top(&a->spans, hr, target, old, dirty, rum__heap_now_ms()) != 0)
        RUM_LOG_W("heap region %#llx: %llu free pages left unused", (unsigned long long)hr->region->id,
                  (unsigned long long)(old - target));
      continue;
    }
    atomic_fetch_add(&h->trimmed_pages, old - target);
  }
  pthread_mutex_unlock(&a->lock);
}

void rum__heap_maintain(struct rum_heap *h, uint64_t now_ms, bool force) {
  uint64_t older_than = force ? UINT64_MAX : now_ms > h->decay_ms ? now_ms - h->decay_ms : 0;
  for (int i = 0; i < RUM_HEAP_ARENAS; i++) {
    decay_arena(h, &h->arenas[i], older_than);
    trim_arena(h, &h->arenas[i]);
  }
}

static void maintenance_tick(void *arg) {
  struct rum_heap *h = arg;
  rum__heap_maintain(h, rum__heap_now_ms(), false);
}

int rum__heap_start(struct rum_heap *h) {
  if (h->tick_ms == 0) return 0;
  int rc = rum__ticker_start(&h->maintenance, h->tick_ms, maintenance_tick, h);
  if (rc != 0) {
    RUM_LOG_E("starting the heap maintenance thread: %s", strerror(-rc));
    return RUM_ENOMEM;
  }
  return 0;
}

void rum__heap_stop(struct rum_heap *h) { rum__ticker_stop(&h->maintenance); }

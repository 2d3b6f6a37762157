/* Write-back: dirty pages go to their nodes in batches of up to RUM_WIRE_MAX_PAGES
 * (the store groups them per node and region into WRITE messages), on eviction, on
 * rum_flush()/rum_sync() and at shutdown.
 *
 * A page being written back is BUSY and write-protected first, so a concurrent
 * writer faults and waits instead of changing bytes that are on their way out; after
 * the write the page is CLEAN (still write-protected), and the next write dirties it
 * again through the normal write fault. */
#include <sched.h>
#include <stdlib.h>

#include <rum/rum_errors.h>

#include "client/cache.h"
#include "client/journal.h"
#include "util/clock.h"
#include "util/log.h"

static bool victim_before(const struct rum_victim *a, const struct rum_victim *b) {
  uintptr_t pa = (uintptr_t)rum__region_page_addr(a->region, a->page);
  uintptr_t pb = (uintptr_t)rum__region_page_addr(b->region, b->page);
  return pa < pb;
}

/* Insertion sort: at most RUM_WIRE_MAX_PAGES entries, often nearly sorted (the CLOCK
 * hand sweeps frames in fill order), and no allocation (signal context). */
void rum__victims_sort(struct rum_victim *v, unsigned n) {
  for (unsigned i = 1; i < n; i++) {
    struct rum_victim x = v[i];
    unsigned j = i;
    while (j > 0 && victim_before(&x, &v[j - 1])) {
      v[j] = v[j - 1];
      j--;
    }
    v[j] = x;
  }
}

int rum__writeback_victims(struct rum_cache *c, struct rum_victim *v, unsigned n, struct rum_store_error *err_out) {
  const struct rum_fault_ops *ops = c->fault->ops;
  if (n == 0) return 0;
  int rc = 0;
  for (unsigned i = 0; i < n && rc == 0;) {
    unsigned j = i + 1;
    while (j < n && v[j].region == v[i].region && v[j].page == v[j - 1].page + 1) j++;
    rc = ops->make_readonly(c->fault, rum__region_page_addr(v[i].region, v[i].page),
                            (size_t)(j - i) * RUM_PAGE_SIZE);
    i = j;
  }
  struct rum_store_error err = {0, 0};
  unsigned nio = 0;
  if (rc == 0) {
    struct rum_page_io io[RUM_WIRE_MAX_PAGES];
    for (unsigned i = 0; i < n; i++) {
      /* Read the freed mark only now that the page is write-protected: a block
       * carved there again clears the mark before its owner may write, and from
       * here on such a write faults and waits. So a page still marked holds no
       * live byte and is dropped unwritten; one unmarked meanwhile goes out. */
      v[i].freed = (rum__page_load(v[i].region, v[i].page) & RUM_PAGE_FREED) != 0;
      if (v[i].freed) continue;
      io[nio].region = v[i].region;
      io[nio].page = v[i].page;
      io[nio].data = ops->read_ptr(c->fault, rum__region_page_addr(v[i].region, v[i].page));
      nio++;
    }
    /* Undo images first: a page of a named region may go home only once the bytes
     * it had at the last commit are in the journal (journal.h). */
    if (nio > 0) rc = rum__journal_before_home(c);
    if (nio > 0 && rc == 0) rc = c->store.store(c->store_ctx, io, nio, &err);
  }
  if (rc != 0) {
    for (unsigned i = 0; i < n; i++) v[i].keep = true;
    atomic_fetch_add_explicit(&c->counters.store_errors, 1, memory_order_relaxed);
    rum__log_signal_safe("rum: write-back failed; pages stay dirty; node ", err.node_id);
    if (err_out != NULL) *err_out = (struct rum_store_error){err.node_id, rc};
    return rc;
  }
  atomic_fetch_add_explicit(&c->counters.writebacks, nio, memory_order_relaxed);
  return 0;
}

static void wait_change(struct rum_region *r, uint64_t page, uint8_t seen) {
  unsigned spins = 0;
  while (rum__page_load(r, page) == seen) {
    if (++spins < 200) {
      rum__cpu_relax();
    } else {
      sched_yield();
    }
  }
}

static int flush_batch(struct rum_cache *c, struct rum_victim *v, unsigned n) {
  int rc = rum__writeback_victims(c, v, n, NULL);
  rum__cache_finish_victims(c, v, n, false);
  return rc;
}

int rum__cache_flush(struct rum_cache *c, struct rum_region *r, uint64_t first, uint64_t n) {
  uint64_t npages = atomic_load(&r->npages);
  uint64_t end = first + n > npages ? npages : first + n;
  struct rum_victim v[RUM_WIRE_MAX_PAGES];
  unsigned nv = 0;
  int first_rc = 0;
  for (uint64_t p = first; p < end && atomic_load_explicit(&r->ndirty, memory_order_relaxed) > nv;) {
    uint8_t v8 = rum__page_load(r, p);
    uint8_t s = v8 & RUM_PAGE_STATE_MASK;
    if (s == RUM_PAGE_DIRTY && (v8 & RUM_PAGE_FREED)) {
      p++; /* freed heap memory: never written back */
    } else if (s == RUM_PAGE_DIRTY) {
      if (rum__page_cas(r, p, RUM_PAGE_DIRTY, RUM_PAGE_BUSY, NULL)) {
        v[nv++] = (struct rum_victim){r, p, true, false, false};
        p++;
      }
    } else if (s == RUM_PAGE_BUSY) {
      /* Being written back or evicted by another thread: durable only once it is done. */
      wait_change(r, p, v8);
    } else {
      p++;
    }
    if (nv == RUM_WIRE_MAX_PAGES) {
      int rc = flush_batch(c, v, nv);
      if (rc != 0 && first_rc == 0) first_rc = rc;
      nv = 0;
    }
  }
  if (nv > 0) {
    int rc = flush_batch(c, v, nv);
    if (rc != 0 && first_rc == 0) first_rc = rc;
  }
  return first_rc;
}

int rum__cache_sync(struct rum_cache *c) {
  int jrc = rum__journal_before_home(c);
  if (jrc != 0) return jrc;
  size_t cap = (size_t)atomic_load(&c->table->nregions) + 64;
  struct rum_region **regions = malloc(cap * sizeof(*regions));
  if (regions == NULL) return RUM_ENOMEM;
  size_t n = rum__region_table_snapshot(c->table, regions, cap);
  int first_rc = 0;
  for (size_t i = 0; i < n; i++) {
    struct rum_region *r = regions[i];
    if (atomic_load(&r->ndirty) == 0) continue;
    int rc = rum__cache_flush(c, r, 0, atomic_load(&r->npages));
    if (rc != 0 && first_rc == 0) first_rc = rc;
  }
  free(regions);
  /* Every dirty page is home: the commit (a no-op without a journal). */
  if (first_rc == 0) first_rc = rum__journal_commit(c);
  return first_rc;
}

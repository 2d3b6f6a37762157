/* rum_sync / rum_flush / rum_refresh / rum_prefetch and rum_stats on an explicit
 * client. Range calls walk the regions the range overlaps. */
#include <stdlib.h>

#include "client/client.h"
#include "client/journal.h"
#include "util/log.h"

int rum__client_sync(struct rum_client *cl) {
  pthread_rwlock_rdlock(&cl->regions_lock);
  int rc = rum__cache_sync(cl->cache);
  pthread_rwlock_unlock(&cl->regions_lock);
  return rc;
}

enum range_op { OP_FLUSH, OP_REFRESH, OP_PREFETCH };

static int range_apply(struct rum_client *cl, void *ptr, size_t len, enum range_op op) {
  if (ptr == NULL && len > 0) return RUM_EINVAL;
  if (len == 0) return 0;
  uint8_t *p = ptr, *end = (uint8_t *)ptr + len;
  if (end < p) return RUM_EINVAL;
  int first_rc = 0;
  bool any = false;
  pthread_rwlock_rdlock(&cl->regions_lock);
  while (p < end) {
    struct rum_region *r = rum__region_table_lookup(&cl->table, p);
    if (r == NULL) {
      /* Skip to the next granule: regions start on granule boundaries. */
      p = (uint8_t *)(((uintptr_t)p | (RUM_GRANULE - 1)) + 1);
      continue;
    }
    any = true;
    uint8_t *rend = r->base + atomic_load(&r->npages) * RUM_PAGE_SIZE;
    uint8_t *stop = end < rend ? end : rend;
    uint64_t first = (uint64_t)(p - r->base) >> RUM_PAGE_SHIFT;
    uint64_t n = stop > p ? rum__pages_for((uint64_t)(stop - r->base)) - first : 0;
    int rc = 0;
    if (atomic_load(&r->lost)) {
      rc = RUM_ELEASE;
    } else if (n > 0) {
      if (op == OP_FLUSH) rc = rum__cache_flush(cl->cache, r, first, n);
      if (op == OP_REFRESH) rc = rum__cache_refresh(cl->cache, r, first, n);
      if (op == OP_PREFETCH) rc = rum__cache_prefetch(cl->cache, r, first, n);
    }
    if (rc != 0 && first_rc == 0) first_rc = rc;
    p = r->base + r->reserved_pages * RUM_PAGE_SIZE;
  }
  pthread_rwlock_unlock(&cl->regions_lock);
  if (!any) return RUM_EINVAL;
  return first_rc;
}

int rum__client_flush(struct rum_client *cl, void *ptr, size_t len) {
  return range_apply(cl, ptr, len, OP_FLUSH);
}

int rum__client_refresh(struct rum_client *cl, void *ptr, size_t len) {
  return range_apply(cl, ptr, len, OP_REFRESH);
}

int rum__client_prefetch(struct rum_client *cl, void *ptr, size_t len) {
  return range_apply(cl, ptr, len, OP_PREFETCH);
}

int rum__client_prefetchv(struct rum_client *cl, const struct iovec *iov, int n) {
  if (n < 0 || (iov == NULL && n > 0)) return RUM_EINVAL;
  enum { BATCH = 256 };
  struct rum_prefetch_range rg[BATCH];
  unsigned nr = 0;
  int first_rc = 0;
  pthread_rwlock_rdlock(&cl->regions_lock);
  for (int i = 0; i < n; i++) {
    uint8_t *p = iov[i].iov_base, *end = p + iov[i].iov_len;
    if (iov[i].iov_len == 0 || end < p) continue;
    while (p < end) {
      struct rum_region *r = rum__region_table_lookup(&cl->table, p);
      if (r == NULL) {
        p = (uint8_t *)(((uintptr_t)p | (RUM_GRANULE - 1)) + 1);
        continue;
      }
      uint8_t *rend = r->base + atomic_load(&r->npages) * RUM_PAGE_SIZE;
      uint8_t *stop = end < rend ? end : rend;
      if (stop > p && !atomic_load(&r->lost)) {
        uint64_t first = (uint64_t)(p - r->base) >> RUM_PAGE_SHIFT;
        rg[nr++] = (struct rum_prefetch_range){r, first, rum__pages_for((uint64_t)(stop - r->base)) - first};
        if (nr == BATCH) {
          int rc = rum__cache_prefetchv(cl->cache, rg, nr);
          if (rc != 0 && first_rc == 0) first_rc = rc;
          nr = 0;
        }
      }
      p = r->base + r->reserved_pages * RUM_PAGE_SIZE;
    }
  }
  if (nr > 0) {
    int rc = rum__cache_prefetchv(cl->cache, rg, nr);
    if (rc != 0 && first_rc == 0) first_rc = rc;
  }
  pthread_rwlock_unlock(&cl->regions_lock);
  return first_rc;
}

void rum__client_stats(struct rum_client *cl, struct rum_stats *out) {
  const struct rum_counters *c = &cl->cache->counters;
  *out = (struct rum_stats){
      .faults = atomic_load_explicit(&c->faults, memory_order_relaxed),
      .read_faults = atomic_load_explicit(&c->read_faults, memory_order_relaxed),
      .write_faults = atomic_load_explicit(&c->write_faults, memory_order_relaxed),
      .hits = atomic_load_explicit(&c->hits, memory_order_relaxed),
      .zero_fills = atomic_load_explicit(&c->zero_fills, memory_order_relaxed),
      .evictions = atomic_load_explicit(&c->evictions, memory_order_relaxed),
      .writebacks = atomic_load_explicit(&c->writebacks, memory_order_relaxed),
      .readahead = atomic_load_explicit(&c->readahead, memory_order_relaxed),
      .cache_pages = atomic_load_explicit(&cl->cache->resident, memory_order_relaxed),
      .cache_capacity = cl->cache->capacity,
      .regions = atomic_load_explicit(&cl->table.nregions, memory_order_relaxed),
  };
  struct rum_journal *j = atomic_load(&cl->cache->journal);
  if (j != NULL) {
    out->journal_images = j->images;
    out->journal_commits = j->commits;
    out->journal_unprotected = j->unprotected_epochs;
    out->journal_used = j->used + j->nring;
    out->journal_slots = j->nslots;
  }
  if (cl->remote.stats != NULL) cl->remote.stats(cl->remote_ctx, out);
}

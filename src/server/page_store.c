/* The page store: regions in two hash tables (by id, by name) plus a dense array for
 * listing and reclaim; each region's pages live in its own page table (page_table.c).
 * See page_store.h for the contract. */
#include "server/page_store.h"

#include <stdlib.h>
#include <string.h>

#include <rum/rum_errors.h>

#include "server/page_table.h"
#include "util/hash.h"

enum {
  MALLOC_OVERHEAD = 16, /* glibc's chunk header, for the metadata estimate */
  MIN_BUCKETS = 8,
};

const uint8_t *rum__page_store_zero_page(void) { return rum__zero_page; }

struct region {
  struct region *next_by_id;
  struct region *next_by_name;
  size_t slot; /* index in store->all */
  uint64_t name_hash;
  struct rum_region_info info;
  uint64_t reserved; /* bytes this node committed to hold (ALLOC's reserve) */
  struct rum_page_table pages;
};

struct rum_page_store {
  struct rum_page_memory memory;
  /* Sum over regions of the reservation they have not filled yet. Committed memory is
   * memory.used + slack, never above memory.limit: an allocation reserves its share up
   * front, so the writes inside a reservation cannot fail for want of room later. */
  uint64_t slack;
  size_t max_regions;
  size_t named;
  struct region **by_id;   /* id_buckets chains */
  size_t id_buckets;
  struct region **by_name; /* name_buckets chains; named regions only */
  size_t name_buckets;
  struct region **all;     /* nregions entries, for listing and reclaim */
  size_t nregions, all_cap;
};


static uint64_t hash_name(const char *name, size_t len) {
  uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
  for (size_t i = 0; i < len; i++) {
    h ^= (uint8_t)name[i];
    h *= 0x100000001b3ull;
  }
  return rum__mix64(h);
}

static uint64_t region_npages(uint64_t size) {
  return size / RUM_STORE_PAGE_SIZE + (size % RUM_STORE_PAGE_SIZE != 0);
}

static uint64_t region_slack(const struct region *r) {
  uint64_t stored = r->pages.npages * RUM_STORE_PAGE_SIZE;
  return r->reserved > stored ? r->reserved - stored : 0;
}

/* Bytes not committed to anyone. */
static uint64_t store_free(const struct rum_page_store *s) {
  uint64_t committed = s->memory.used + s->slack;
  return s->memory.limit > committed ? s->memory.limit - committed : 0;
}

/* Run a page-table change of region r that may add pages: the table may grow into
 * the free memory plus r's own unfilled reservation. Keeps slack up to date. */
#define WITH_ROOM(s, r, call)                                                        \
  ({                                                                                 \
    uint64_t limit_ = (s)->memory.limit, slack_before_ = region_slack(r);            \
    (s)->memory.limit = (s)->memory.used + store_free(s) + slack_before_;            \
    int rc_ = (call);                                                                \
    (s)->memory.limit = limit_;                                                      \
    (s)->slack = (s)->slack - slack_before_ + region_slack(r);                       \
    rc_;                                                                             \
  })

static void region_free(struct rum_page_store *s, struct region *r) {
  s->slack -= region_slack(r);
  rum__page_table_clear(&r->pages, &s->memory);
  free(r);
}

/* ---- the region tables ---- */

struct rum_page_store *rum__page_store_create(const struct rum_page_store_config *cfg) {
  struct rum_page_store *s = calloc(1, sizeof *s);
  if (s == NULL) return NULL;
  s->memory.limit = cfg->memory_limit;
  s->max_regions = cfg->max_regions ? cfg->max_regions : RUM_STORE_DEFAULT_MAX_REGIONS;
  s->id_buckets = s->name_buckets = s->all_cap = MIN_BUCKETS;
  s->by_id = calloc(s->id_buckets, sizeof *s->by_id);
  s->by_name = calloc(s->name_buckets, sizeof *s->by_name);
  s->all = calloc(s->all_cap, sizeof *s->all);
  if (s->by_id == NULL || s->by_name == NULL || s->all == NULL) {
    rum__page_store_destroy(s);
    return NULL;
  }
  return s;
}

void rum__page_store_destroy(struct rum_page_store *s) {
  if (s == NULL) return;
  for (size_t i = 0; i < s->nregions; i++) region_free(s, s->all[i]);
  free(s->by_id);
  free(s->by_name);
  free(s->all);
  free(s);
}

static struct region *region_find(const struct rum_page_store *s, uint64_t id) {
  struct region *r = s->by_id[rum__mix64(id) & (s->id_buckets - 1)];
  while (r != NULL && r->info.id != id) r = r->next_by_id;
  return r;
}

static struct region *region_find_name(const struct rum_page_store *s, const char *name,
                                       size_t len, uint64_t h) {
  struct region *r = s->by_name[h & (s->name_buckets - 1)];
  while (r != NULL && !(r->name_hash == h && r->info.name_len == len &&
                        memcmp(r->info.name, name, len) == 0))
    r = r->next_by_name;
  return r;
}

/* Double a chained table of regions when it holds more entries than buckets. */
static int regions_rehash(struct region ***table, size_t *nbuckets, size_t entries,
                          bool by_name) {
  if (entries < *nbuckets) return 0;
  size_t n = *nbuckets * 2;
  struct region **nt = calloc(n, sizeof *nt);
  if (nt == NULL) return RUM_ENOMEM;
  for (size_t i = 0; i < *nbuckets; i++) {
    struct region *r = (*table)[i];
    while (r != NULL) {
      struct region *next = by_name ? r->next_by_name : r->next_by_id;
      size_t k = (by_name ? r->name_hash : rum__mix64(r->info.id)) & (n - 1);
      if (by_name) {
        r->next_by_name = nt[k];
      } else {
        r->next_by_id = nt[k];
      }
      nt[k] = r;
      r = next;
    }
  }
  free(*table);
  *table = nt;
  *nbuckets = n;
  return 0;
}

static int regions_reserve(struct rum_page_store *s, bool named) {
  if (s->nregions == s->all_cap) {
    struct region **na = realloc(s->all, 2 * s->all_cap * sizeof *na);
    if (na == NULL) return RUM_ENOMEM;
    s->all = na;
    s->all_cap *= 2;
  }
  int rc = regions_rehash(&s->by_id, &s->id_buckets, s->nregions + 1, false);
  if (rc == 0 && named) rc = regions_rehash(&s->by_name, &s->name_buckets, s->named + 1, true);
  return rc;
}

/* A leased region registered again by the same session with the same shape is a
 * retried registration (a resize re-registers on the nodes of new chunks). A named
 * region never is: its id comes from its name, so the same session creating it again
 * (after rum_detach) must see EEXIST, not an empty region over the stored data. */
static bool alloc_is_retry(const struct region *r, const struct rum_store_alloc *a) {
  if (a->flags & RUM_STORE_F_NAMED) return false;
  return r->info.owner_id == a->owner_id && r->info.owner_session == a->owner_session &&
         r->info.size == a->size && r->info.flags == a->flags && r->info.name_len == a->name_len &&
         memcmp(r->info.name, a->name ? a->name : "", a->name_len) == 0;
}

int rum__page_store_alloc(struct rum_page_store *s, const struct rum_store_alloc *a) {
  bool named = (a->flags & RUM_STORE_F_NAMED) != 0;
  if (a->flags & ~RUM_STORE_F_ALL) return RUM_EINVAL;
  if (named ? (a->name == NULL || a->name_len == 0 || a->name_len > RUM_STORE_NAME_MAX)
            : a->name_len != 0)
    return RUM_EINVAL;
  struct region *old = region_find(s, a->id);
  if (old != NULL) return alloc_is_retry(old, a) ? RUM_STORE_ALLOC_RETRIED : RUM_EEXIST;
  uint64_t h = named ? hash_name(a->name, a->name_len) : 0;
  if (named && region_find_name(s, a->name, a->name_len, h) != NULL) return RUM_EEXIST;
  if (s->nregions >= s->max_regions) return RUM_ENOSPC;
  uint64_t reserve = region_npages(a->reserve < a->size ? a->reserve : a->size) * RUM_STORE_PAGE_SIZE;
  if (reserve > store_free(s)) return RUM_ENOSPC;
  if (regions_reserve(s, named) != 0) return RUM_ENOMEM;
  struct region *r = calloc(1, sizeof *r);
  if (r == NULL) return RUM_ENOMEM;
  r->info.id = a->id;
  r->info.size = a->size;
  r->info.flags = a->flags;
  r->info.owner_id = a->owner_id;
  r->info.owner_session = a->owner_session;
  r->reserved = reserve;
  s->slack += reserve;
  r->info.name_len = (uint16_t)a->name_len;
  if (named) memcpy(r->info.name, a->name, a->name_len);
  r->name_hash = h;
  size_t k = rum__mix64(a->id) & (s->id_buckets - 1);
  r->next_by_id = s->by_id[k];
  s->by_id[k] = r;
  if (named) {
    k = h & (s->name_buckets - 1);
    r->next_by_name = s->by_name[k];
    s->by_name[k] = r;
    s->named++;
  }
  r->slot = s->nregions;
  s->all[s->nregions++] = r;
  return 0;
}

static void region_unlink(struct rum_page_store *s, struct region *r) {
  struct region **pp = &s->by_id[rum__mix64(r->info.id) & (s->id_buckets - 1)];
  while (*pp != r) pp = &(*pp)->next_by_id;
  *pp = r->next_by_id;
  if (r->info.flags & RUM_STORE_F_NAMED) {
    pp = &s->by_name[r->name_hash & (s->name_buckets - 1)];
    while (*pp != r) pp = &(*pp)->next_by_name;
    *pp = r->next_by_name;
    s->named--;
  }
  struct region *last = s->all[--s->nregions];
  s->all[r->slot] = last;
  last->slot = r->slot;
}

int rum__page_store_free(struct rum_page_store *s, uint64_t id) {
  struct region *r = region_find(s, id);
  if (r == NULL) return RUM_ENOENT;
  region_unlink(s, r);
  region_free(s, r);
  return 0;
}

static void region_describe(const struct region *r, struct rum_region_info *out) {
  *out = r->info;
  out->bytes_stored = r->pages.npages * RUM_STORE_PAGE_SIZE;
  out->reserved = r->reserved;
}

int rum__page_store_lookup(const struct rum_page_store *s, uint64_t id,
                           struct rum_region_info *out) {
  const struct region *r = region_find(s, id);
  if (r == NULL) return RUM_ENOENT;
  region_describe(r, out);
  return 0;
}

int rum__page_store_lookup_name(const struct rum_page_store *s, const char *name, size_t len,
                                struct rum_region_info *out) {
  if (name == NULL || len == 0 || len > RUM_STORE_NAME_MAX) return RUM_ENOENT;
  const struct region *r = region_find_name(s, name, len, hash_name(name, len));
  if (r == NULL) return RUM_ENOENT;
  region_describe(r, out);
  return 0;
}

/* ---- pages ---- */

int rum__page_store_write(struct rum_page_store *s, uint64_t id, uint32_t n, const uint64_t *index,
                          const uint8_t *data) {
  if (n == 0 || n > RUM_STORE_MAX_BATCH || index == NULL || data == NULL) return RUM_EINVAL;
  struct region *r = region_find(s, id);
  if (r == NULL) return RUM_ENOENT;
  uint64_t limit = region_npages(r->info.size);
  for (uint32_t i = 0; i < n; i++)
    if (index[i] >= limit) return RUM_EINVAL;
  return WITH_ROOM(s, r, rum__page_table_write(&r->pages, &s->memory, n, index, data));
}

int rum__page_store_read(const struct rum_page_store *s, uint64_t id, uint64_t first, uint32_t n,
                         const uint8_t **pages) {
  const struct region *r = region_find(s, id);
  if (r == NULL) return RUM_ENOENT;
  uint64_t limit = region_npages(r->info.size);
  if (first > limit || n > limit - first) return RUM_EINVAL;
  for (uint32_t i = 0; i < n; i++) {
    const uint8_t *page = rum__page_table_get(&r->pages, first + i);
    pages[i] = page ? page : rum__zero_page;
  }
  return 0;
}

int rum__page_store_resize(struct rum_page_store *s, uint64_t id, uint64_t new_size, uint64_t reserve) {
  struct region *r = region_find(s, id);
  if (r == NULL) return RUM_ENOENT;
  uint64_t old_pages = region_npages(r->info.size), new_pages = region_npages(new_size);
  uint64_t new_reserved = region_npages(reserve < new_size ? reserve : new_size) * RUM_STORE_PAGE_SIZE;
  if (new_reserved > r->reserved) {
    /* Growing the reservation needs free memory for the part not yet stored. */
    uint64_t stored = r->pages.npages * RUM_STORE_PAGE_SIZE;
    uint64_t old_slack = region_slack(r);
    uint64_t new_slack = new_reserved > stored ? new_reserved - stored : 0;
    if (new_slack > old_slack && new_slack - old_slack > store_free(s)) return RUM_ENOSPC;
  }
  s->slack -= region_slack(r);
  if (new_pages < old_pages) rum__page_table_drop(&r->pages, &s->memory, new_pages, old_pages - new_pages);
  if (new_size < r->info.size && new_size % RUM_STORE_PAGE_SIZE != 0)
    rum__page_table_zero_tail(&r->pages, new_size / RUM_STORE_PAGE_SIZE, new_size % RUM_STORE_PAGE_SIZE);
  r->info.size = new_size;
  r->reserved = new_reserved;
  s->slack += region_slack(r);
  return 0;
}

int rum__page_store_discard(struct rum_page_store *s, uint64_t id, uint64_t first, uint64_t n) {
  struct region *r = region_find(s, id);
  if (r == NULL) return RUM_ENOENT;
  uint64_t limit = region_npages(r->info.size);
  if (first > limit || n > limit - first) return RUM_EINVAL;
  s->slack -= region_slack(r);
  rum__page_table_drop(&r->pages, &s->memory, first, n);
  s->slack += region_slack(r);
  return 0;
}

int rum__page_store_copy(struct rum_page_store *s, uint64_t src_id, uint64_t dst_id, uint64_t first,
                         uint64_t n) {
  struct region *src = region_find(s, src_id), *dst = region_find(s, dst_id);
  if (src == NULL || dst == NULL) return RUM_ENOENT;
  uint64_t src_pages = region_npages(src->info.size), dst_pages = region_npages(dst->info.size);
  if (first > src_pages || n > src_pages - first || first > dst_pages || n > dst_pages - first)
    return RUM_EINVAL;
  if (src == dst || n == 0) return 0;
  return WITH_ROOM(s, dst, rum__page_table_copy(&src->pages, &dst->pages, &s->memory, first, n));
}

/* ---- listing and ownership ---- */

static bool matches(const struct region *r, uint32_t filter) {
  return (r->info.flags & filter) == filter;
}

size_t rum__page_store_list(const struct rum_page_store *s, uint32_t filter, size_t start,
                            struct rum_region_info *out, size_t max, size_t *total) {
  size_t seen = 0, written = 0;
  for (size_t i = 0; i < s->nregions; i++) {
    const struct region *r = s->all[i];
    if (!matches(r, filter)) continue;
    if (seen++ >= start && written < max) region_describe(r, &out[written++]);
  }
  if (total != NULL) *total = seen;
  return written;
}

static bool owned_by(const struct region *r, uint32_t id, uint64_t session) {
  return r->info.owner_id == id && r->info.owner_session == session;
}

size_t rum__page_store_reclaim_owner(struct rum_page_store *s, uint32_t id, uint64_t session,
                                     uint64_t *bytes_freed) {
  size_t freed = 0;
  uint64_t bytes = 0;
  size_t i = 0;
  while (i < s->nregions) {
    struct region *r = s->all[i];
    if ((r->info.flags & RUM_STORE_F_NAMED) || !owned_by(r, id, session)) {
      i++;
      continue;
    }
    bytes += r->pages.npages * RUM_STORE_PAGE_SIZE + region_slack(r);
    region_unlink(s, r); /* moves the last region into slot i: look at i again */
    region_free(s, r);
    freed++;
  }
  if (bytes_freed != NULL) *bytes_freed = bytes;
  return freed;
}

size_t rum__page_store_count_owner(const struct rum_page_store *s, uint32_t id,
                                   uint64_t session) {
  size_t n = 0;
  for (size_t i = 0; i < s->nregions; i++) n += owned_by(s->all[i], id, session);
  return n;
}

uint64_t rum__page_store_owner_bytes(const struct rum_page_store *s, uint32_t id, uint64_t session) {
  uint64_t bytes = 0;
  for (size_t i = 0; i < s->nregions; i++) {
    const struct region *r = s->all[i];
    if (owned_by(r, id, session)) bytes += r->pages.npages * RUM_STORE_PAGE_SIZE + region_slack(r);
  }
  return bytes;
}

void rum__page_store_stats(const struct rum_page_store *s, struct rum_page_store_stats *out) {
  memset(out, 0, sizeof *out);
  out->memory_limit = s->memory.limit;
  out->memory_used = s->memory.used + s->slack;
  out->memory_stored = s->memory.used;
  out->pages = s->memory.used / RUM_STORE_PAGE_SIZE;
  out->regions = s->nregions;
  out->named_regions = s->named;
  out->blocks = s->memory.blocks;
  out->metadata_bytes = sizeof *s + MALLOC_OVERHEAD +
                        (s->id_buckets + s->name_buckets + s->all_cap) * sizeof(void *) +
                        s->nregions * (sizeof(struct region) + MALLOC_OVERHEAD) +
                        s->memory.blocks * (rum__page_block_size + MALLOC_OVERHEAD) +
                        s->memory.bucket_bytes + out->pages * MALLOC_OVERHEAD;
}

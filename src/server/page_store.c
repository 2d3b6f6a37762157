/* The page store: regions in two hash tables (by id, by name) plus a dense array for
 * listing, and each region's pages in blocks of RUM_STORE_BLOCK_PAGES pointers found
 * through a chained hash keyed by block number. See page_store.h for the contract.
 *
 * Every modifying operation runs in two phases so that a failure changes nothing:
 * first it counts what it will need, checks the memory limit and allocates every new
 * page and block into private pools; then it applies the change, which cannot fail.
 * Blocks emptied while applying are removed only at the end, so the count of blocks
 * needed, taken before any change, stays right. */
#include "server/page_store.h"

#include <stdlib.h>
#include <string.h>

#include <rum/rum_errors.h>

enum {
  BLOCK_SHIFT = 4,           /* log2(RUM_STORE_BLOCK_PAGES) */
  MALLOC_OVERHEAD = 16,      /* glibc's chunk header, for the metadata estimate */
  MIN_BUCKETS = 8,
};
_Static_assert((1 << BLOCK_SHIFT) == RUM_STORE_BLOCK_PAGES, "block shift");

static const uint8_t zero_page[RUM_STORE_PAGE_SIZE] __attribute__((aligned(64)));

const uint8_t *rum__page_store_zero_page(void) { return zero_page; }

struct page_block {
  struct page_block *next; /* hash chain; also links blocks in a pool */
  uint64_t number;         /* first page index / RUM_STORE_BLOCK_PAGES */
  uint32_t count;          /* non-NULL entries of pages[] */
  uint8_t *pages[RUM_STORE_BLOCK_PAGES];
};

struct region {
  struct region *next_by_id;
  struct region *next_by_name;
  size_t slot;            /* index in store->all */
  uint64_t name_hash;
  struct rum_region_info info;
  uint64_t npages_stored;
  struct page_block **buckets;
  size_t nbuckets;        /* 0 or a power of two */
  size_t nblocks;
};

struct rum_page_store {
  uint64_t memory_limit;
  uint64_t memory_used;
  size_t max_regions;
  size_t named;
  uint64_t blocks;          /* over all regions */
  uint64_t block_bucket_bytes;
  struct region **by_id;    /* id_buckets chains */
  size_t id_buckets;
  struct region **by_name;  /* name_buckets chains; named regions only */
  size_t name_buckets;
  struct region **all;      /* nregions entries, for listing and reclaim */
  size_t nregions, all_cap;
};

/* Pools: new pages and blocks allocated before a change is applied. A free page's
 * first bytes link it to the next one, so pools cost no memory of their own. */
struct pools {
  uint8_t *pages;
  struct page_block *blocks;
};

static uint64_t mix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ull;
  x ^= x >> 33;
  return x;
}

static uint64_t hash_name(const char *name, size_t len) {
  uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
  for (size_t i = 0; i < len; i++) {
    h ^= (uint8_t)name[i];
    h *= 0x100000001b3ull;
  }
  return mix64(h);
}

static bool page_is_zero(const uint8_t *p) {
  uint64_t first;
  memcpy(&first, p, sizeof first);
  return first == 0 && memcmp(p, zero_page, RUM_STORE_PAGE_SIZE) == 0;
}

static uint64_t region_npages(uint64_t size) {
  return size / RUM_STORE_PAGE_SIZE + (size % RUM_STORE_PAGE_SIZE != 0);
}

/* ---- pools ---- */

static void pools_free(struct pools *p) {
  while (p->pages != NULL) {
    uint8_t *next;
    memcpy(&next, p->pages, sizeof next);
    free(p->pages);
    p->pages = next;
  }
  while (p->blocks != NULL) {
    struct page_block *next = p->blocks->next;
    free(p->blocks);
    p->blocks = next;
  }
}

static void pool_put_page(struct pools *p, uint8_t *page) {
  memcpy(page, &p->pages, sizeof p->pages);
  p->pages = page;
}

static uint8_t *pool_take_page(struct pools *p) {
  uint8_t *page = p->pages;
  memcpy(&p->pages, page, sizeof p->pages);
  return page;
}

static int pools_fill(struct pools *p, uint64_t npages, uint64_t nblocks) {
  p->pages = NULL;
  p->blocks = NULL;
  for (uint64_t i = 0; i < npages; i++) {
    uint8_t *page = malloc(RUM_STORE_PAGE_SIZE);
    if (page == NULL) goto err;
    pool_put_page(p, page);
  }
  for (uint64_t i = 0; i < nblocks; i++) {
    struct page_block *b = malloc(sizeof *b);
    if (b == NULL) goto err;
    b->next = p->blocks;
    p->blocks = b;
  }
  return 0;
err:
  pools_free(p);
  return RUM_ENOMEM;
}

/* ---- a region's block table ---- */

static struct page_block *block_find(const struct region *r, uint64_t number) {
  if (r->nbuckets == 0) return NULL;
  struct page_block *b = r->buckets[mix64(number) & (r->nbuckets - 1)];
  while (b != NULL && b->number != number) b = b->next;
  return b;
}

/* Make room for nblocks + extra blocks without a later resize (load factor 1). */
static int blocks_reserve(struct rum_page_store *s, struct region *r, uint64_t extra) {
  uint64_t want = r->nblocks + extra;
  if (want <= r->nbuckets) return 0;
  size_t n = r->nbuckets ? r->nbuckets : MIN_BUCKETS;
  while (n < want) n *= 2;
  struct page_block **nb = calloc(n, sizeof *nb);
  if (nb == NULL) return RUM_ENOMEM;
  for (size_t i = 0; i < r->nbuckets; i++) {
    struct page_block *b = r->buckets[i];
    while (b != NULL) {
      struct page_block *next = b->next;
      size_t k = mix64(b->number) & (n - 1);
      b->next = nb[k];
      nb[k] = b;
      b = next;
    }
  }
  free(r->buckets);
  s->block_bucket_bytes += (n - r->nbuckets) * sizeof *nb;
  r->buckets = nb;
  r->nbuckets = n;
  return 0;
}

/* Insert a block from the pool; room was reserved. */
static struct page_block *block_insert(struct rum_page_store *s, struct region *r,
                                       struct pools *p, uint64_t number) {
  struct page_block *b = p->blocks;
  p->blocks = b->next;
  memset(b, 0, sizeof *b);
  b->number = number;
  size_t k = mix64(number) & (r->nbuckets - 1);
  b->next = r->buckets[k];
  r->buckets[k] = b;
  r->nblocks++;
  s->blocks++;
  return b;
}

static void block_remove(struct rum_page_store *s, struct region *r, struct page_block *b) {
  struct page_block **pp = &r->buckets[mix64(b->number) & (r->nbuckets - 1)];
  while (*pp != b) pp = &(*pp)->next;
  *pp = b->next;
  free(b);
  r->nblocks--;
  s->blocks--;
}

static void page_drop(struct rum_page_store *s, struct region *r, struct page_block *b,
                      unsigned slot) {
  free(b->pages[slot]);
  b->pages[slot] = NULL;
  b->count--;
  r->npages_stored--;
  s->memory_used -= RUM_STORE_PAGE_SIZE;
}

/* Visits the blocks of a region that may hold pages in [first, first + n), each once.
 * The block just returned may be removed before asking for the next one. Looks blocks
 * up by number when the range has few blocks, else walks the whole table. */
struct block_iter {
  const struct region *r;
  uint64_t lo, hi;      /* block numbers, inclusive */
  bool by_number;
  uint64_t number;
  size_t bucket;
  struct page_block *next;
};

static void block_iter_init(struct block_iter *it, const struct region *r, uint64_t first,
                            uint64_t n) {
  memset(it, 0, sizeof *it);
  it->r = r;
  if (n == 0 || r->nblocks == 0) {
    it->by_number = true;
    it->lo = 1;
    it->hi = 0;
    it->number = 1;
    return;
  }
  it->lo = first >> BLOCK_SHIFT;
  it->hi = (first + n - 1) >> BLOCK_SHIFT;
  it->by_number = it->hi - it->lo < 2 * (uint64_t)r->nblocks;
  it->number = it->lo;
  it->bucket = 0;
  it->next = NULL;
}

static struct page_block *block_iter_next(struct block_iter *it) {
  if (it->by_number) {
    while (it->number >= it->lo && it->number <= it->hi) {
      struct page_block *b = block_find(it->r, it->number);
      it->number++;
      if (b != NULL) return b;
    }
    return NULL;
  }
  for (;;) {
    while (it->next == NULL) {
      if (it->bucket >= it->r->nbuckets) return NULL;
      it->next = it->r->buckets[it->bucket++];
    }
    struct page_block *b = it->next;
    it->next = b->next;
    if (b->number >= it->lo && b->number <= it->hi) return b;
  }
}

/* Slots of block b inside [first, first + n): [*s0, *s1). */
static void block_slots(const struct page_block *b, uint64_t first, uint64_t n, unsigned *s0,
                        unsigned *s1) {
  uint64_t base = b->number << BLOCK_SHIFT;
  uint64_t lo = first > base ? first - base : 0;
  uint64_t end = first + n; /* callers keep first + n within a region: no overflow */
  uint64_t hi = end - base < RUM_STORE_BLOCK_PAGES ? end - base : RUM_STORE_BLOCK_PAGES;
  *s0 = (unsigned)lo;
  *s1 = (unsigned)hi;
}

static void remove_empty_blocks(struct rum_page_store *s, struct region *r, uint64_t first,
                                uint64_t n) {
  struct block_iter it;
  block_iter_init(&it, r, first, n);
  struct page_block *b;
  while ((b = block_iter_next(&it)) != NULL) {
    if (b->count == 0) block_remove(s, r, b);
  }
}

static void region_free_pages(struct rum_page_store *s, struct region *r) {
  for (size_t i = 0; i < r->nbuckets; i++) {
    struct page_block *b = r->buckets[i];
    while (b != NULL) {
      struct page_block *next = b->next;
      for (unsigned k = 0; k < RUM_STORE_BLOCK_PAGES; k++) free(b->pages[k]);
      free(b);
      b = next;
    }
  }
  s->memory_used -= r->npages_stored * RUM_STORE_PAGE_SIZE;
  s->blocks -= r->nblocks;
  s->block_bucket_bytes -= r->nbuckets * sizeof *r->buckets;
  free(r->buckets);
  r->buckets = NULL;
  r->nbuckets = 0;
  r->nblocks = 0;
  r->npages_stored = 0;
}

/* ---- the region tables ---- */

struct rum_page_store *rum__page_store_create(const struct rum_page_store_config *cfg) {
  struct rum_page_store *s = calloc(1, sizeof *s);
  if (s == NULL) return NULL;
  s->memory_limit = cfg->memory_limit;
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
  for (size_t i = 0; i < s->nregions; i++) {
    region_free_pages(s, s->all[i]);
    free(s->all[i]);
  }
  free(s->by_id);
  free(s->by_name);
  free(s->all);
  free(s);
}

static struct region *region_find(const struct rum_page_store *s, uint64_t id) {
  struct region *r = s->by_id[mix64(id) & (s->id_buckets - 1)];
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
      size_t k = (by_name ? r->name_hash : mix64(r->info.id)) & (n - 1);
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

static bool alloc_is_retry(const struct region *r, const struct rum_store_alloc *a) {
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
  if (regions_reserve(s, named) != 0) return RUM_ENOMEM;
  struct region *r = calloc(1, sizeof *r);
  if (r == NULL) return RUM_ENOMEM;
  r->info.id = a->id;
  r->info.size = a->size;
  r->info.flags = a->flags;
  r->info.owner_id = a->owner_id;
  r->info.owner_session = a->owner_session;
  r->info.name_len = (uint16_t)a->name_len;
  if (named) memcpy(r->info.name, a->name, a->name_len);
  r->name_hash = h;
  size_t k = mix64(a->id) & (s->id_buckets - 1);
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
  struct region **pp = &s->by_id[mix64(r->info.id) & (s->id_buckets - 1)];
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
  region_free_pages(s, r);
  free(r);
  return 0;
}

static void region_describe(const struct region *r, struct rum_region_info *out) {
  *out = r->info;
  out->bytes_stored = r->npages_stored * RUM_STORE_PAGE_SIZE;
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

static uint8_t *page_get(const struct region *r, uint64_t index) {
  const struct page_block *b = block_find(r, index >> BLOCK_SHIFT);
  return b ? b->pages[index & (RUM_STORE_BLOCK_PAGES - 1)] : NULL;
}

/* Phase 1 of a write: how many new pages (distinct absent indexes written with
 * non-zero bytes) and new blocks (distinct absent block numbers among those). */
static void write_needs(const struct region *r, uint32_t n, const uint64_t *index,
                        const bool *zero, uint64_t *npages, uint64_t *nblocks) {
  *npages = *nblocks = 0;
  for (uint32_t i = 0; i < n; i++) {
    if (zero[i] || page_get(r, index[i]) != NULL) continue;
    bool seen_page = false, seen_block = false;
    for (uint32_t j = 0; j < i; j++) {
      if (zero[j]) continue;
      if (index[j] == index[i]) seen_page = true;
      if (index[j] >> BLOCK_SHIFT == index[i] >> BLOCK_SHIFT) seen_block = true;
    }
    if (!seen_page) (*npages)++;
    if (!seen_block && block_find(r, index[i] >> BLOCK_SHIFT) == NULL) (*nblocks)++;
  }
}

/* Store (or drop) one page; the pools hold whatever it may need. */
static void page_put(struct rum_page_store *s, struct region *r, struct pools *p,
                     uint64_t index, const uint8_t *bytes, bool zero) {
  uint64_t number = index >> BLOCK_SHIFT;
  unsigned slot = (unsigned)(index & (RUM_STORE_BLOCK_PAGES - 1));
  struct page_block *b = block_find(r, number);
  uint8_t *page = b ? b->pages[slot] : NULL;
  if (page != NULL) {
    if (zero) {
      /* Back to the pool rather than free(): a later repeat of this index in the same
       * batch may need a page again, and the pool was sized without counting drops. */
      b->pages[slot] = NULL;
      b->count--;
      r->npages_stored--;
      s->memory_used -= RUM_STORE_PAGE_SIZE;
      pool_put_page(p, page);
    } else {
      memcpy(page, bytes, RUM_STORE_PAGE_SIZE);
    }
    return;
  }
  if (zero) return;
  if (b == NULL) b = block_insert(s, r, p, number);
  page = pool_take_page(p);
  memcpy(page, bytes, RUM_STORE_PAGE_SIZE);
  b->pages[slot] = page;
  b->count++;
  r->npages_stored++;
  s->memory_used += RUM_STORE_PAGE_SIZE;
}

static bool fits(const struct rum_page_store *s, uint64_t npages) {
  uint64_t room = s->memory_limit > s->memory_used ? s->memory_limit - s->memory_used : 0;
  return npages <= room / RUM_STORE_PAGE_SIZE;
}

int rum__page_store_write(struct rum_page_store *s, uint64_t id, uint32_t n,
                          const uint64_t *index, const uint8_t *data) {
  if (n == 0 || n > RUM_STORE_MAX_BATCH || index == NULL || data == NULL) return RUM_EINVAL;
  struct region *r = region_find(s, id);
  if (r == NULL) return RUM_ENOENT;
  uint64_t limit = region_npages(r->info.size);
  bool zero[RUM_STORE_MAX_BATCH];
  for (uint32_t i = 0; i < n; i++) {
    if (index[i] >= limit) return RUM_EINVAL;
    zero[i] = page_is_zero(data + (size_t)i * RUM_STORE_PAGE_SIZE);
  }
  uint64_t npages, nblocks;
  write_needs(r, n, index, zero, &npages, &nblocks);
  if (!fits(s, npages)) return RUM_ENOSPC;
  struct pools p;
  if (pools_fill(&p, npages, nblocks) != 0) return RUM_ENOMEM;
  if (blocks_reserve(s, r, nblocks) != 0) {
    pools_free(&p);
    return RUM_ENOMEM;
  }
  for (uint32_t i = 0; i < n; i++)
    page_put(s, r, &p, index[i], data + (size_t)i * RUM_STORE_PAGE_SIZE, zero[i]);
  for (uint32_t i = 0; i < n; i++) {
    struct page_block *b = block_find(r, index[i] >> BLOCK_SHIFT);
    if (b != NULL && b->count == 0) block_remove(s, r, b);
  }
  pools_free(&p); /* pages dropped by zero writes, and any the count over-estimated */
  return 0;
}

int rum__page_store_read(const struct rum_page_store *s, uint64_t id, uint64_t first,
                         uint32_t n, const uint8_t **pages) {
  const struct region *r = region_find(s, id);
  if (r == NULL) return RUM_ENOENT;
  uint64_t limit = region_npages(r->info.size);
  if (first > limit || n > limit - first) return RUM_EINVAL;
  for (uint32_t i = 0; i < n; i++) {
    const uint8_t *page = page_get(r, first + i);
    pages[i] = page ? page : zero_page;
  }
  return 0;
}

int rum__page_store_resize(struct rum_page_store *s, uint64_t id, uint64_t new_size) {
  struct region *r = region_find(s, id);
  if (r == NULL) return RUM_ENOENT;
  uint64_t old_pages = region_npages(r->info.size), new_pages = region_npages(new_size);
  if (new_pages < old_pages) {
    struct block_iter it;
    block_iter_init(&it, r, new_pages, old_pages - new_pages);
    struct page_block *b;
    while ((b = block_iter_next(&it)) != NULL) {
      unsigned s0, s1;
      block_slots(b, new_pages, old_pages - new_pages, &s0, &s1);
      for (unsigned k = s0; k < s1; k++)
        if (b->pages[k] != NULL) page_drop(s, r, b, k);
      if (b->count == 0) block_remove(s, r, b);
    }
  }
  if (new_size < r->info.size && new_size % RUM_STORE_PAGE_SIZE != 0) {
    uint8_t *last = page_get(r, new_size / RUM_STORE_PAGE_SIZE);
    size_t keep = new_size % RUM_STORE_PAGE_SIZE;
    if (last != NULL) memset(last + keep, 0, RUM_STORE_PAGE_SIZE - keep);
  }
  r->info.size = new_size;
  return 0;
}

/* Phase 1 of a copy: pages src holds in the range that dst lacks, and the blocks dst
 * lacks for them. */
static void copy_needs(const struct region *src, const struct region *dst, uint64_t first,
                       uint64_t n, uint64_t *npages, uint64_t *nblocks) {
  *npages = *nblocks = 0;
  struct block_iter it;
  block_iter_init(&it, src, first, n);
  const struct page_block *b;
  while ((b = block_iter_next(&it)) != NULL) {
    const struct page_block *db = block_find(dst, b->number);
    unsigned s0, s1, added = 0;
    block_slots(b, first, n, &s0, &s1);
    for (unsigned k = s0; k < s1; k++)
      if (b->pages[k] != NULL && (db == NULL || db->pages[k] == NULL)) added++;
    *npages += added;
    if (db == NULL && added > 0) (*nblocks)++;
  }
}

int rum__page_store_copy(struct rum_page_store *s, uint64_t src_id, uint64_t dst_id,
                         uint64_t first, uint64_t n) {
  struct region *src = region_find(s, src_id), *dst = region_find(s, dst_id);
  if (src == NULL || dst == NULL) return RUM_ENOENT;
  uint64_t src_pages = region_npages(src->info.size), dst_pages = region_npages(dst->info.size);
  if (first > src_pages || n > src_pages - first || first > dst_pages || n > dst_pages - first)
    return RUM_EINVAL;
  if (src == dst || n == 0) return 0;
  uint64_t npages, nblocks;
  copy_needs(src, dst, first, n, &npages, &nblocks);
  if (!fits(s, npages)) return RUM_ENOSPC;
  struct pools p;
  if (pools_fill(&p, npages, nblocks) != 0) return RUM_ENOMEM;
  if (blocks_reserve(s, dst, nblocks) != 0) {
    pools_free(&p);
    return RUM_ENOMEM;
  }
  /* Drop what dst holds where src has nothing (blocks stay until the end). */
  struct block_iter it;
  block_iter_init(&it, dst, first, n);
  struct page_block *b;
  while ((b = block_iter_next(&it)) != NULL) {
    const struct page_block *sb = block_find(src, b->number);
    unsigned s0, s1;
    block_slots(b, first, n, &s0, &s1);
    for (unsigned k = s0; k < s1; k++)
      if (b->pages[k] != NULL && (sb == NULL || sb->pages[k] == NULL)) page_drop(s, dst, b, k);
  }
  block_iter_init(&it, src, first, n);
  while ((b = block_iter_next(&it)) != NULL) {
    unsigned s0, s1;
    block_slots(b, first, n, &s0, &s1);
    for (unsigned k = s0; k < s1; k++)
      if (b->pages[k] != NULL)
        page_put(s, dst, &p, (b->number << BLOCK_SHIFT) + k, b->pages[k], false);
  }
  remove_empty_blocks(s, dst, first, n);
  pools_free(&p);
  return 0;
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
    bytes += r->npages_stored * RUM_STORE_PAGE_SIZE;
    region_unlink(s, r); /* moves the last region into slot i: look at i again */
    region_free_pages(s, r);
    free(r);
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

void rum__page_store_stats(const struct rum_page_store *s, struct rum_page_store_stats *out) {
  memset(out, 0, sizeof *out);
  out->memory_limit = s->memory_limit;
  out->memory_used = s->memory_used;
  out->pages = s->memory_used / RUM_STORE_PAGE_SIZE;
  out->regions = s->nregions;
  out->named_regions = s->named;
  out->blocks = s->blocks;
  out->metadata_bytes = sizeof *s + MALLOC_OVERHEAD +
                        (s->id_buckets + s->name_buckets + s->all_cap) * sizeof(void *) +
                        s->nregions * (sizeof(struct region) + MALLOC_OVERHEAD) +
                        s->blocks * (sizeof(struct page_block) + MALLOC_OVERHEAD) +
                        s->block_bucket_bytes + out->pages * MALLOC_OVERHEAD;
}

/* A region's sparse pages (see page_table.h).
 *
 * Blocks emptied while a change is applied are removed only at its end, so the count
 * of new blocks needed, taken before any change, stays right. */
#include "server/page_table.h"
#include "util/hash.h"

#include <stdlib.h>
#include <string.h>

#include <rum/rum_errors.h>

enum {
  BLOCK_SHIFT = 4, /* log2(RUM_STORE_BLOCK_PAGES) */
  MIN_BUCKETS = 8,
};
_Static_assert((1 << BLOCK_SHIFT) == RUM_STORE_BLOCK_PAGES, "block shift");

struct rum_page_block {
  struct rum_page_block *next; /* hash chain; also links blocks in a pool */
  uint64_t number;             /* first page index / RUM_STORE_BLOCK_PAGES */
  uint32_t count;              /* non-NULL entries of pages[] */
  uint8_t *pages[RUM_STORE_BLOCK_PAGES];
};

const size_t rum__page_block_size = sizeof(struct rum_page_block);
const uint8_t rum__zero_page[RUM_STORE_PAGE_SIZE] __attribute__((aligned(64)));


static bool page_is_zero(const uint8_t *p) {
  uint64_t first;
  memcpy(&first, p, sizeof first);
  return first == 0 && memcmp(p, rum__zero_page, RUM_STORE_PAGE_SIZE) == 0;
}

/* ---- pools: new pages and blocks allocated before a change is applied ----
 * A free page's first bytes link it to the next one, so pools cost no memory of
 * their own. */

struct pools {
  uint8_t *pages;
  struct rum_page_block *blocks;
};

static void pools_free(struct pools *p) {
  while (p->pages != NULL) {
    uint8_t *next;
    memcpy(&next, p->pages, sizeof next);
    free(p->pages);
    p->pages = next;
  }
  while (p->blocks != NULL) {
    struct rum_page_block *next = p->blocks->next;
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
    struct rum_page_block *b = malloc(sizeof *b);
    if (b == NULL) goto err;
    b->next = p->blocks;
    p->blocks = b;
  }
  return 0;
err:
  pools_free(p);
  return RUM_ENOMEM;
}

/* ---- blocks ---- */

static struct rum_page_block *block_find(const struct rum_page_table *t, uint64_t number) {
  if (t->nbuckets == 0) return NULL;
  struct rum_page_block *b = t->buckets[rum__mix64(number) & (t->nbuckets - 1)];
  while (b != NULL && b->number != number) b = b->next;
  return b;
}

/* Make room for nblocks + extra blocks without a later resize (load factor 1). */
static int blocks_reserve(struct rum_page_table *t, struct rum_page_memory *m, uint64_t extra) {
  uint64_t want = t->nblocks + extra;
  if (want <= t->nbuckets) return 0;
  size_t n = t->nbuckets ? t->nbuckets : MIN_BUCKETS;
  while (n < want) n *= 2;
  struct rum_page_block **nb = calloc(n, sizeof *nb);
  if (nb == NULL) return RUM_ENOMEM;
  for (size_t i = 0; i < t->nbuckets; i++) {
    struct rum_page_block *b = t->buckets[i];
    while (b != NULL) {
      struct rum_page_block *next = b->next;
      size_t k = rum__mix64(b->number) & (n - 1);
      b->next = nb[k];
      nb[k] = b;
      b = next;
    }
  }
  free(t->buckets);
  m->bucket_bytes += (n - t->nbuckets) * sizeof *nb;
  t->buckets = nb;
  t->nbuckets = n;
  return 0;
}

/* Insert a block from the pool; room was reserved. */
static struct rum_page_block *block_insert(struct rum_page_table *t, struct rum_page_memory *m,
                                           struct pools *p, uint64_t number) {
  struct rum_page_block *b = p->blocks;
  p->blocks = b->next;
  memset(b, 0, sizeof *b);
  b->number = number;
  size_t k = rum__mix64(number) & (t->nbuckets - 1);
  b->next = t->buckets[k];
  t->buckets[k] = b;
  t->nblocks++;
  m->blocks++;
  return b;
}

static void block_remove(struct rum_page_table *t, struct rum_page_memory *m, struct rum_page_block *b) {
  struct rum_page_block **pp = &t->buckets[rum__mix64(b->number) & (t->nbuckets - 1)];
  while (*pp != b) pp = &(*pp)->next;
  *pp = b->next;
  free(b);
  t->nblocks--;
  m->blocks--;
}

static void page_free(struct rum_page_table *t, struct rum_page_memory *m, struct rum_page_block *b,
                      unsigned slot) {
  free(b->pages[slot]);
  b->pages[slot] = NULL;
  b->count--;
  t->npages--;
  m->used -= RUM_STORE_PAGE_SIZE;
}

/* Visits the blocks that may hold pages in [first, first + n), each once. The block
 * just returned may be removed before asking for the next one. Looks blocks up by
 * number when the range spans few of them, else walks the whole table, so a range of
 * 2^40 pages over a handful of blocks costs a handful of steps. */
struct block_iter {
  const struct rum_page_table *t;
  uint64_t lo, hi; /* block numbers, inclusive; lo > hi: nothing */
  bool by_number;
  uint64_t number;
  size_t bucket;
  struct rum_page_block *next;
};

static void block_iter_init(struct block_iter *it, const struct rum_page_table *t, uint64_t first,
                            uint64_t n) {
  memset(it, 0, sizeof *it);
  it->t = t;
  it->by_number = true;
  it->lo = 1; /* empty unless set below */
  if (n == 0 || t->nblocks == 0) return;
  it->lo = first >> BLOCK_SHIFT;
  it->hi = (first + n - 1) >> BLOCK_SHIFT;
  it->by_number = it->hi - it->lo < 2 * (uint64_t)t->nblocks;
  it->number = it->lo;
}

static struct rum_page_block *block_iter_next(struct block_iter *it) {
  if (it->by_number) {
    while (it->number >= it->lo && it->number <= it->hi) {
      struct rum_page_block *b = block_find(it->t, it->number++);
      if (b != NULL) return b;
    }
    return NULL;
  }
  for (;;) {
    while (it->next == NULL) {
      if (it->bucket >= it->t->nbuckets) return NULL;
      it->next = it->t->buckets[it->bucket++];
    }
    struct rum_page_block *b = it->next;
    it->next = b->next;
    if (b->number >= it->lo && b->number <= it->hi) return b;
  }
}

/* Slots of block b inside [first, first + n): [*s0, *s1). */
static void block_slots(const struct rum_page_block *b, uint64_t first, uint64_t n, unsigned *s0,
                        unsigned *s1) {
  uint64_t base = b->number << BLOCK_SHIFT;
  uint64_t end = first + n; /* within 2^52 pages: no overflow */
  *s0 = (unsigned)(first > base ? first - base : 0);
  *s1 = (unsigned)(end - base < RUM_STORE_BLOCK_PAGES ? end - base : RUM_STORE_BLOCK_PAGES);
}

static void remove_empty_blocks(struct rum_page_table *t, struct rum_page_memory *m, uint64_t first,
                                uint64_t n) {
  struct block_iter it;
  block_iter_init(&it, t, first, n);
  struct rum_page_block *b;
  while ((b = block_iter_next(&it)) != NULL)
    if (b->count == 0) block_remove(t, m, b);
}

/* ---- pages ---- */

const uint8_t *rum__page_table_get(const struct rum_page_table *t, uint64_t index) {
  const struct rum_page_block *b = block_find(t, index >> BLOCK_SHIFT);
  return b ? b->pages[index & (RUM_STORE_BLOCK_PAGES - 1)] : NULL;
}

static bool fits(const struct rum_page_memory *m, uint64_t npages) {
  uint64_t room = m->limit > m->used ? m->limit - m->used : 0;
  return npages <= room / RUM_STORE_PAGE_SIZE;
}

/* Phase 1 of a write: how many new pages (distinct absent indexes written with
 * non-zero bytes) and new blocks (distinct absent block numbers among those). */
static void write_needs(const struct rum_page_table *t, uint32_t n, const uint64_t *index,
                        const bool *zero, uint64_t *npages, uint64_t *nblocks) {
  *npages = *nblocks = 0;
  for (uint32_t i = 0; i < n; i++) {
    if (zero[i] || rum__page_table_get(t, index[i]) != NULL) continue;
    bool seen_page = false, seen_block = false;
    for (uint32_t j = 0; j < i; j++) {
      if (zero[j]) continue;
      if (index[j] == index[i]) seen_page = true;
      if (index[j] >> BLOCK_SHIFT == index[i] >> BLOCK_SHIFT) seen_block = true;
    }
    if (!seen_page) (*npages)++;
    if (!seen_block && block_find(t, index[i] >> BLOCK_SHIFT) == NULL) (*nblocks)++;
  }
}

/* Store (or drop) one page; the pools hold whatever it may need. */
static void page_put(struct rum_page_table *t, struct rum_page_memory *m, struct pools *p,
                     uint64_t index, const uint8_t *bytes, bool zero) {
  uint64_t number = index >> BLOCK_SHIFT;
  unsigned slot = (unsigned)(index & (RUM_STORE_BLOCK_PAGES - 1));
  struct rum_page_block *b = block_find(t, number);
  uint8_t *page = b ? b->pages[slot] : NULL;
  if (page != NULL) {
    if (zero) {
      /* Back to the pool rather than free(): a later repeat of this index in the same
       * batch may need a page again, and the pool was sized without counting drops. */
      b->pages[slot] = NULL;
      b->count--;
      t->npages--;
      m->used -= RUM_STORE_PAGE_SIZE;
      pool_put_page(p, page);
    } else {
      memcpy(page, bytes, RUM_STORE_PAGE_SIZE);
    }
    return;
  }
  if (zero) return;
  if (b == NULL) b = block_insert(t, m, p, number);
  page = pool_take_page(p);
  memcpy(page, bytes, RUM_STORE_PAGE_SIZE);
  b->pages[slot] = page;
  b->count++;
  t->npages++;
  m->used += RUM_STORE_PAGE_SIZE;
}

int rum__page_table_write(struct rum_page_table *t, struct rum_page_memory *m, uint32_t n,
                          const uint64_t *index, const uint8_t *data) {
  bool zero[RUM_STORE_MAX_BATCH];
  if (n > RUM_STORE_MAX_BATCH) return RUM_EINVAL;
  for (uint32_t i = 0; i < n; i++) zero[i] = page_is_zero(data + (size_t)i * RUM_STORE_PAGE_SIZE);
  uint64_t npages, nblocks;
  write_needs(t, n, index, zero, &npages, &nblocks);
  if (!fits(m, npages)) return RUM_ENOSPC;
  struct pools p;
  if (pools_fill(&p, npages, nblocks) != 0) return RUM_ENOMEM;
  if (blocks_reserve(t, m, nblocks) != 0) {
    pools_free(&p);
    return RUM_ENOMEM;
  }
  for (uint32_t i = 0; i < n; i++)
    page_put(t, m, &p, index[i], data + (size_t)i * RUM_STORE_PAGE_SIZE, zero[i]);
  for (uint32_t i = 0; i < n; i++) {
    struct rum_page_block *b = block_find(t, index[i] >> BLOCK_SHIFT);
    if (b != NULL && b->count == 0) block_remove(t, m, b);
  }
  pools_free(&p); /* pages dropped by zero writes, and any the count over-estimated */
  return 0;
}

void rum__page_table_drop(struct rum_page_table *t, struct rum_page_memory *m, uint64_t first,
                          uint64_t n) {
  struct block_iter it;
  block_iter_init(&it, t, first, n);
  struct rum_page_block *b;
  while ((b = block_iter_next(&it)) != NULL) {
    unsigned s0, s1;
    block_slots(b, first, n, &s0, &s1);
    for (unsigned k = s0; k < s1; k++)
      if (b->pages[k] != NULL) page_free(t, m, b, k);
    if (b->count == 0) block_remove(t, m, b);
  }
}

void rum__page_table_zero_tail(struct rum_page_table *t, uint64_t index, size_t offset) {
  struct rum_page_block *b = block_find(t, index >> BLOCK_SHIFT);
  uint8_t *page = b ? b->pages[index & (RUM_STORE_BLOCK_PAGES - 1)] : NULL;
  if (page != NULL && offset < RUM_STORE_PAGE_SIZE) memset(page + offset, 0, RUM_STORE_PAGE_SIZE - offset);
}

/* Phase 1 of a copy: pages src holds in the range that dst lacks, and the blocks dst
 * lacks for them. */
static void copy_needs(const struct rum_page_table *src, const struct rum_page_table *dst, uint64_t first,
                       uint64_t n, uint64_t *npages, uint64_t *nblocks) {
  *npages = *nblocks = 0;
  struct block_iter it;
  block_iter_init(&it, src, first, n);
  const struct rum_page_block *b;
  while ((b = block_iter_next(&it)) != NULL) {
    const struct rum_page_block *db = block_find(dst, b->number);
    unsigned s0, s1, added = 0;
    block_slots(b, first, n, &s0, &s1);
    for (unsigned k = s0; k < s1; k++)
      if (b->pages[k] != NULL && (db == NULL || db->pages[k] == NULL)) added++;
    *npages += added;
    if (db == NULL && added > 0) (*nblocks)++;
  }
}

int rum__page_table_copy(const struct rum_page_table *src, struct rum_page_table *dst,
                         struct rum_page_memory *m, uint64_t first, uint64_t n) {
  uint64_t npages, nblocks;
  copy_needs(src, dst, first, n, &npages, &nblocks);
  if (!fits(m, npages)) return RUM_ENOSPC;
  struct pools p;
  if (pools_fill(&p, npages, nblocks) != 0) return RUM_ENOMEM;
  if (blocks_reserve(dst, m, nblocks) != 0) {
    pools_free(&p);
    return RUM_ENOMEM;
  }
  /* Free what dst holds where src has nothing (its blocks stay until the end). */
  struct block_iter it;
  block_iter_init(&it, dst, first, n);
  struct rum_page_block *b;
  while ((b = block_iter_next(&it)) != NULL) {
    const struct rum_page_block *sb = block_find(src, b->number);
    unsigned s0, s1;
    block_slots(b, first, n, &s0, &s1);
    for (unsigned k = s0; k < s1; k++)
      if (b->pages[k] != NULL && (sb == NULL || sb->pages[k] == NULL)) page_free(dst, m, b, k);
  }
  block_iter_init(&it, src, first, n);
  while ((b = block_iter_next(&it)) != NULL) {
    unsigned s0, s1;
    block_slots(b, first, n, &s0, &s1);
    for (unsigned k = s0; k < s1; k++)
      if (b->pages[k] != NULL) page_put(dst, m, &p, (b->number << BLOCK_SHIFT) + k, b->pages[k], false);
  }
  remove_empty_blocks(dst, m, first, n);
  pools_free(&p);
  return 0;
}

void rum__page_table_clear(struct rum_page_table *t, struct rum_page_memory *m) {
  for (size_t i = 0; i < t->nbuckets; i++) {
    struct rum_page_block *b = t->buckets[i];
    while (b != NULL) {
      struct rum_page_block *next = b->next;
      for (unsigned k = 0; k < RUM_STORE_BLOCK_PAGES; k++) free(b->pages[k]);
      free(b);
      b = next;
    }
  }
  m->used -= t->npages * RUM_STORE_PAGE_SIZE;
  m->blocks -= t->nblocks;
  m->bucket_bytes -= t->nbuckets * sizeof *t->buckets;
  free(t->buckets);
  memset(t, 0, sizeof *t);
}

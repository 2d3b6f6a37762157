/* One region's pages, stored sparsely (internal to the page store).
 *
 * A page table maps page index -> page bytes. Pages sit in blocks of
 * RUM_STORE_BLOCK_PAGES pointers found through a chained hash keyed by block number
 * (page index / RUM_STORE_BLOCK_PAGES); absent pages cost nothing, and a page written
 * with all zeros is not kept. Every change runs in two phases so that a failure
 * changes nothing: count what is needed, check the memory limit, allocate all new
 * pages and blocks; then apply, which cannot fail.
 *
 * The tables of one store share a struct rum_page_memory: the limit is checked against
 * and the use added to it. Callers check page indexes against the region's size; the
 * table itself accepts any index below 2^52. Not thread safe. */
#ifndef RUM_SERVER_PAGE_TABLE_H
#define RUM_SERVER_PAGE_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/page_store.h"

struct rum_page_block;

struct rum_page_table {
  struct rum_page_block **buckets;
  size_t nbuckets; /* 0 or a power of two */
  size_t nblocks;
  uint64_t npages; /* pages stored */
};

/* Shared by every table of a store. */
struct rum_page_memory {
  uint64_t limit;        /* bytes of pages allowed */
  uint64_t used;         /* bytes of pages stored */
  uint64_t blocks;       /* blocks in use */
  uint64_t bucket_bytes; /* bytes of bucket arrays */
};

/* sizeof(struct rum_page_block), for the metadata estimate. */
extern const size_t rum__page_block_size;

/* The page of zeros that absent pages read as. */
extern const uint8_t rum__zero_page[RUM_STORE_PAGE_SIZE];

/* The page at index, or NULL if it is absent. */
const uint8_t *rum__page_table_get(const struct rum_page_table *t, uint64_t index);

/* Write n (<= RUM_STORE_MAX_BATCH) pages as rum__page_store_write() describes.
 * Returns 0, RUM_ENOSPC or RUM_ENOMEM (nothing changed then). */
int rum__page_table_write(struct rum_page_table *t, struct rum_page_memory *m, uint32_t n,
                          const uint64_t *index, const uint8_t *data);

/* Drop every page in [first, first + n). */
void rum__page_table_drop(struct rum_page_table *t, struct rum_page_memory *m, uint64_t first,
                          uint64_t n);

/* Zero the bytes from offset on in the page at index, if it is present. */
void rum__page_table_zero_tail(struct rum_page_table *t, uint64_t index, size_t offset);

/* Make pages [first, first + n) of dst equal to those of src (src != dst).
 * Returns 0, RUM_ENOSPC or RUM_ENOMEM (nothing changed then). */
int rum__page_table_copy(const struct rum_page_table *src, struct rum_page_table *dst,
                         struct rum_page_memory *m, uint64_t first, uint64_t n);

/* Free every page and block. The table is empty (and reusable) afterwards. */
void rum__page_table_clear(struct rum_page_table *t, struct rum_page_memory *m);

#endif

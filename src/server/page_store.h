/* The memory node's page store: regions and their pages, in process memory.
 *
 * A pure data structure: no I/O, no clock, no locks (the node runs its handlers on one
 * thread; a caller that shares a store between threads must serialise all calls).
 *
 * A region is keyed by its 64-bit id and holds this node's share of one allocation:
 * its size is the whole region's size and page indexes are region-wide, so a node may
 * hold any subset of a region's pages. Pages are stored sparsely: a page never
 * written costs nothing and reads as zeros, and a page written with all zeros is
 * dropped again. Pages sit in blocks of RUM_STORE_BLOCK_PAGES page pointers found
 * through a per-region hash of (page index / RUM_STORE_BLOCK_PAGES), which keeps the
 * metadata of densely written regions well under 1% of the data.
 *
 * Memory accounting: a region may reserve bytes at allocation (the client's share
 * of it on this node); stored pages (RUM_PAGE_SIZE bytes each) fill the reservation
 * first. Committed memory = stored pages + unfilled reservations, never above the
 * limit given at create time: an allocation or resize whose reservation does not fit
 * fails with RUM_ENOSPC, so writes inside a reservation never do. A write or copy past
 * the reservation that would exceed the limit fails with RUM_ENOSPC and changes
 * nothing. Every modifying call either completes or leaves the store as it was.
 *
 * Errors: RUM_EINVAL (bad argument, page outside the region), RUM_ENOENT (no such
 * region), RUM_EEXIST, RUM_ENOSPC (memory limit or region count limit), RUM_ENOMEM
 * (the host ran out of memory; nothing changed). */
#ifndef RUM_SERVER_PAGE_STORE_H
#define RUM_SERVER_PAGE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
  RUM_STORE_PAGE_SIZE = 4096,
  RUM_STORE_BLOCK_PAGES = 16,  /* page pointers per metadata block */
  RUM_STORE_MAX_BATCH = 64,    /* pages in one rum__page_store_write() */
  RUM_STORE_NAME_MAX = 255,
  RUM_STORE_DEFAULT_MAX_REGIONS = 1 << 20,
};

enum rum_store_region_flags {
  RUM_STORE_F_NAMED = 1u << 0,  /* permanent, found by name, never reclaimed */
  RUM_STORE_F_PINNED = 1u << 1, /* placed on one node (informational here) */
  RUM_STORE_F_ALL = 0x3u,
};

struct rum_page_store_config {
  uint64_t memory_limit; /* bytes of pages the store may hold */
  size_t max_regions;    /* 0 = RUM_STORE_DEFAULT_MAX_REGIONS */
};

/* A copy of one region's description (no pointers into the store). */
struct rum_region_info {
  uint64_t id;
  uint64_t size;
  uint32_t flags;
  uint32_t owner_id;       /* sender id of the client that allocated it */
  uint64_t owner_session;  /* that client's session */
  uint64_t bytes_stored;   /* pages held here * RUM_STORE_PAGE_SIZE */
  uint64_t reserved;       /* bytes committed at ALLOC/RESIZE (page multiple) */
  uint16_t name_len;
  char name[RUM_STORE_NAME_MAX + 1]; /* NUL-terminated; "" unless named */
};

struct rum_page_store_stats {
  uint64_t memory_limit;
  uint64_t memory_used;    /* committed: stored pages + unfilled reservations */
  uint64_t memory_stored;  /* stored pages * RUM_STORE_PAGE_SIZE */
  uint64_t pages;
  uint64_t regions;
  uint64_t named_regions;
  uint64_t blocks;         /* metadata blocks in use */
  uint64_t metadata_bytes; /* estimate of every byte of bookkeeping, malloc overhead included */
};

struct rum_page_store;

/* Create a store. Returns NULL if out of memory. */
struct rum_page_store *rum__page_store_create(const struct rum_page_store_config *cfg);
/* Free the store and every page in it. NULL is a no-op. */
void rum__page_store_destroy(struct rum_page_store *store);

/* What rum__page_store_alloc() is asked to create. name is borrowed for the call. */
struct rum_store_alloc {
  uint64_t id;
  uint64_t size;
  uint64_t reserve;      /* bytes to commit now (capped at size); 0 = none */
  uint32_t flags;        /* rum_store_region_flags */
  const char *name;      /* name_len bytes, not NUL-terminated; only with F_NAMED */
  size_t name_len;       /* 1..RUM_STORE_NAME_MAX with F_NAMED, else 0 */
  uint32_t owner_id;
  uint64_t owner_session;
};
enum { RUM_STORE_ALLOC_RETRIED = 1 };
/* Create a region. If the id exists already with the same owner session, size, flags
 * and name, the call is a retry of the same allocation and returns
 * RUM_STORE_ALLOC_RETRIED (a success) without changing anything. Returns 0 for a new
 * region, RUM_EEXIST (id or name taken otherwise), RUM_EINVAL (flags, name), RUM_ENOSPC
 * (region count limit) or RUM_ENOMEM. */
int rum__page_store_alloc(struct rum_page_store *store, const struct rum_store_alloc *a);

/* Free a region and all its pages. Returns 0 or RUM_ENOENT. */
int rum__page_store_free(struct rum_page_store *store, uint64_t id);

/* Describe a region. Returns 0 or RUM_ENOENT. */
int rum__page_store_lookup(const struct rum_page_store *store, uint64_t id,
                           struct rum_region_info *out);
/* Find a named region by its name (name_len bytes). Returns 0 or RUM_ENOENT. */
int rum__page_store_lookup_name(const struct rum_page_store *store, const char *name,
                                size_t name_len, struct rum_region_info *out);

/* Write npages (1..RUM_STORE_MAX_BATCH) pages: page k of data (RUM_STORE_PAGE_SIZE bytes
 * each, contiguous) goes to page index[k]. Indexes may come in any order; if one
 * repeats, the last write wins. Pages written with all zeros are not stored.
 * Returns 0, RUM_ENOENT, RUM_EINVAL (an index past the region's end), RUM_ENOSPC or
 * RUM_ENOMEM; on failure nothing changed. */
int rum__page_store_write(struct rum_page_store *store, uint64_t id, uint32_t npages,
                          const uint64_t *index, const uint8_t *data);

/* Point pages[0..npages) at the bytes of pages first_page.. of a region, without
 * copying: a page never written points at one shared page of zeros. The pointers stay
 * valid until the next call that modifies the store. Returns 0, RUM_ENOENT or
 * RUM_EINVAL (range past the region's end). */
int rum__page_store_read(const struct rum_page_store *store, uint64_t id, uint64_t first_page,
                         uint32_t npages, const uint8_t **pages);

/* Change a region's size. Shrinking frees the pages past the new end and zeroes the
 * bytes of the last page past it, so growing again shows zeros. Returns 0, RUM_ENOENT
 * or RUM_ENOMEM. */
int rum__page_store_resize(struct rum_page_store *store, uint64_t id, uint64_t new_size,
                           uint64_t reserve);

/* Drop the stored pages [first_page, first_page + npages) of a region (freed heap
 * blocks): they read as zeros afterwards. The region's size and reservation stay, so
 * writing them again cannot fail for want of room. Returns 0, RUM_ENOENT or RUM_EINVAL
 * (range past the region's end); on failure nothing changed. */
int rum__page_store_discard(struct rum_page_store *store, uint64_t id, uint64_t first_page, uint64_t npages);

/* Make pages first_page..first_page+npages of dst equal to the same pages of src
 * (realloc on the node): pages src lacks become absent in dst. Both regions must span
 * the range. Returns 0, RUM_ENOENT, RUM_EINVAL, RUM_ENOSPC or RUM_ENOMEM; on failure
 * nothing changed. */
int rum__page_store_copy(struct rum_page_store *store, uint64_t src, uint64_t dst,
                         uint64_t first_page, uint64_t npages);

/* List regions: skip the first `start` regions matching the filter (flags_filter
 * RUM_STORE_F_NAMED: named ones only; 0: all), then describe up to max of them in out.
 * *total (if not NULL) receives the number matching. Returns the count written. The
 * order is stable while no region is created or freed. */
size_t rum__page_store_list(const struct rum_page_store *store, uint32_t flags_filter,
                            size_t start, struct rum_region_info *out, size_t max,
                            size_t *total);

/* Free every region that is not named and whose owner is (owner_id, owner_session).
 * Returns the number of regions freed; *bytes_freed (if not NULL) receives the bytes
 * of pages they held. */
size_t rum__page_store_reclaim_owner(struct rum_page_store *store, uint32_t owner_id,
                                     uint64_t owner_session, uint64_t *bytes_freed);

/* Number of regions (any kind) owned by (owner_id, owner_session). */
size_t rum__page_store_count_owner(const struct rum_page_store *store, uint32_t owner_id,
                                   uint64_t owner_session);

/* Bytes committed to regions (any kind) owned by (owner_id, owner_session): stored pages
 * plus unfilled reservations, as the memory limit counts them. O(regions). */
uint64_t rum__page_store_owner_bytes(const struct rum_page_store *store, uint32_t owner_id,
                                     uint64_t owner_session);

void rum__page_store_stats(const struct rum_page_store *store, struct rum_page_store_stats *out);

/* The shared page of zeros that reads of absent pages point at. */
const uint8_t *rum__page_store_zero_page(void);

#endif

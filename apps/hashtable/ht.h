/* A chained hash table that lives entirely in RUM memory: the table header, the
 * bucket array and every entry (with its key and value bytes) are allocated with
 * rum_alloc and friends and used with plain loads and stores. Only the local handle
 * (struct ht) is ordinary memory.
 *
 * Entries come from an arena (arena.c): either one rum_alloc per entry ("rum" mode,
 * which exercises the allocator) or size-classed blocks carved from larger RUM slabs
 * ("slab" mode, what a real data structure on RUM would do).
 *
 * Resizing: the table doubles when count/nbuckets exceeds 3/4 and halves when it
 * drops below 3/16 (so a grow never undoes a shrink at once), never below
 * HT_MIN_BUCKETS. Entries are moved, never copied. Resizes alternate between two
 * methods: rum_realloc of the bucket array and a split/merge of the chains in place,
 * or a fresh rum_calloc'd array that every entry is re-linked into.
 *
 * Not thread safe: one thread uses a table at a time. */
#ifndef HT_H
#define HT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
  HT_MIN_BUCKETS = 16,
  HT_NCLASSES = 5,          /* slab block sizes 64, 128, 256, 512, 1024 */
  HT_SLAB_BYTES = 256 * 1024,
};

#define HT_MAGIC 0x52554d4854424c31ull /* "RUMHTBL1" */

enum ht_alloc_mode { HT_ALLOC_RUM, HT_ALLOC_SLAB };

/* An entry, in RUM memory. data holds the key, then the value. */
struct ht_entry {
  struct ht_entry *next;
  uint64_t hash;
  uint32_t klen, vlen;
  uint32_t cap;              /* bytes from the arena, header included */
  uint32_t reserved;
  unsigned char data[];
};

/* Where entries come from; lives inside the RUM table header. */
struct ht_arena {
  uint32_t mode;             /* enum ht_alloc_mode */
  uint32_t nslabs, slabs_cap;
  void **slabs;              /* RUM array of the slabs, grown with rum_realloc */
  void *free_head[HT_NCLASSES];   /* free blocks, linked through their first word */
  unsigned char *bump[HT_NCLASSES];
  size_t bump_left[HT_NCLASSES];
  uint64_t blocks, bytes;    /* in use */
};

/* The table header, in RUM memory. */
struct ht_table {
  uint64_t magic;
  uint64_t hash_seed;
  struct ht_entry **buckets; /* RUM array of nbuckets chain heads */
  uint64_t nbuckets;         /* a power of two */
  uint64_t count;
  uint64_t grows, shrinks, resize_failures, moved;
  struct ht_arena arena;
};

/* The local handle. */
struct ht {
  struct ht_table *t;
};

/* Create an empty table. Returns 0 or -ENOMEM (errno from RUM in *rum_errno). */
int ht_create(struct ht *h, enum ht_alloc_mode mode, uint64_t hash_seed, int *rum_errno);
/* Free every entry, the buckets, the slabs and the header. */
void ht_destroy(struct ht *h);

/* Insert or replace. Returns 1 inserted, 0 replaced, -ENOMEM (table unchanged). */
int ht_put(struct ht *h, const void *key, uint32_t klen, const void *val, uint32_t vlen);
/* The entry for key or NULL. Valid until the next put/del. */
const struct ht_entry *ht_get(const struct ht *h, const void *key, uint32_t klen);
/* Returns 1 deleted, 0 absent. */
int ht_del(struct ht *h, const void *key, uint32_t klen);

uint64_t ht_hash(uint64_t seed, const void *key, uint32_t klen);
static inline const unsigned char *ht_entry_key(const struct ht_entry *e) { return e->data; }
static inline const unsigned char *ht_entry_value(const struct ht_entry *e) { return e->data + e->klen; }

/* Arena (arena.c). Sizes include the entry header. */
int ht_arena_init(struct ht_arena *a, enum ht_alloc_mode mode);
/* A block of at least size bytes (*cap receives its real size), or NULL. */
void *ht_arena_alloc(struct ht_arena *a, size_t size, uint32_t *cap);
/* Resize a block keeping min(old, new) bytes (moves it; RUM mode uses rum_realloc). */
void *ht_arena_resize(struct ht_arena *a, void *p, uint32_t old_cap, size_t size, uint32_t *cap);
void ht_arena_free(struct ht_arena *a, void *p, uint32_t cap);
/* Free the slabs (RUM mode: nothing; entries must have been freed one by one). */
void ht_arena_destroy(struct ht_arena *a);

#endif

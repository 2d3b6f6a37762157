/* A chained hash table in the persistent heap, with Redis's incremental rehashing:
 * while the table grows or shrinks both bucket arrays are live, every lookup and
 * update moves one bucket, and a timer moves more, so no call pauses for a time
 * proportional to the number of keys. The same table holds the keyspace (aux = expiry
 * time), hash fields, set members and sorted-set members (aux = the score's bits).
 *
 * Every function takes the heap and the dict's kv_ref; entries are returned as kv_ref
 * (turn them into pointers with ph_ptr, valid until the entry is unlinked). */
#ifndef KVS_DICT_H
#define KVS_DICT_H

#include <stddef.h>
#include <stdint.h>

#include "pheap.h"

struct pd_entry {
  kv_ref next;
  kv_ref val;     /* owned by the dict's user */
  int64_t aux;    /* keyspace: absolute expiry in ms (0 none); zset: score bits */
  uint32_t hash;
  uint32_t klen;
  uint8_t type;   /* keyspace: value type; otherwise 0 */
  uint8_t pad[7];
  unsigned char key[];
};

struct pd_dict {
  kv_ref table[2];
  uint64_t size[2];
  uint64_t used[2];
  int64_t rehash_idx; /* -1 when not rehashing */
  uint64_t naux;      /* entries with aux != 0, kept by the user of aux */
};

uint32_t pd_hash(const void *key, size_t klen);

/* A new empty dict, KV_NULL when the heap is full. */
kv_ref pd_create(struct ph_heap *h);

/* Free every entry (calling free_val on each first, when not NULL), the buckets and
 * the dict itself. */
void pd_destroy(struct ph_heap *h, kv_ref d, void (*free_val)(struct ph_heap *, struct pd_entry *, void *),
                void *arg);

/* pd_destroy in steps, for a dict nobody else uses any more: frees up to about
 * `budget` entries from bucket *cursor on (start at 0). Returns 1 while entries
 * remain, 0 once the dict itself is freed. */
int pd_destroy_step(struct ph_heap *h, kv_ref d, uint64_t *cursor,
                    void (*free_val)(struct ph_heap *, struct pd_entry *, void *), void *arg, uint64_t budget);

kv_ref pd_find(struct ph_heap *h, kv_ref d, const void *key, size_t klen);

/* Find key or insert it with val, aux and type zero. *existed says which. KV_NULL when
 * the heap is full. */
kv_ref pd_add(struct ph_heap *h, kv_ref d, const void *key, size_t klen, int *existed);

/* Remove key from the table and return its entry (the caller frees entry and value
 * with ph_free), KV_NULL when absent. */
kv_ref pd_unlink(struct ph_heap *h, kv_ref d, const void *key, size_t klen);

uint64_t pd_count(struct ph_heap *h, kv_ref d);

/* Redis's reverse-binary cursor scan: every entry present for the whole scan is
 * visited at least once even across resizes. Returns the next cursor, 0 at the end. */
uint64_t pd_scan(struct ph_heap *h, kv_ref d, uint64_t cursor, void (*fn)(struct ph_heap *, kv_ref, void *),
                 void *arg);

/* A random entry chosen with rnd (a random 64-bit number), KV_NULL when empty. */
kv_ref pd_random(struct ph_heap *h, kv_ref d, uint64_t rnd);

/* Move up to n buckets of an ongoing rehash. Returns 1 while rehashing remains. */
int pd_rehash(struct ph_heap *h, kv_ref d, int n);

/* Shrink the table when it is mostly empty (called after deletions). */
void pd_maybe_shrink(struct ph_heap *h, kv_ref d);

#endif

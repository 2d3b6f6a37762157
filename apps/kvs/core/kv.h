/* The rum-kvs core: a keyspace of typed values in a persistent heap on RUM named
 * regions (pheap.h), found again by a later process that opens the same store name.
 *
 * Values: strings are blobs; a list is a ring of blob refs; a set a dict of members; a
 * hash a dict of field -> blob; a sorted set a dict of member -> score plus a skip list
 * of (score, member) in order. Expiry is an absolute time in ms in the key's entry.
 *
 * Time is an input (now_ms) everywhere: the core reads no clock except for the lock's
 * wall-clock heartbeat. Not thread safe: the server's one thread owns a store. */
#ifndef KVS_KV_H
#define KVS_KV_H

#include <stddef.h>
#include <stdint.h>

#include <rum/rum_errors.h>

#include "dict.h"
#include "pheap.h"

enum kv_type { KV_NONE = 0, KV_STRING = 1, KV_LIST = 2, KV_SET = 3, KV_ZSET = 4, KV_HASH = 5 };

enum {
  KV_LOCK_STALE_MS = 10000, /* an owner silent this long is dead */
  KV_MAX_VALUE = 512u << 20,
};

/* A string value. flags and cas serve the memcached front end: flags are the
 * client's opaque 32 bits (0 when the Redis side wrote the value), cas a number
 * unique in the store, renewed whenever the value changes (kv_blob_new,
 * kv_blob_resize, kv_blob_touch), so that a memcached `cas` fails after any change
 * made from either protocol. len fits 32 bits: KV_MAX_VALUE is 512 MB. */
struct kv_blob {
  uint32_t len;
  uint32_t flags;
  uint64_t cas;
  unsigned char data[];
};

struct kv_list {
  kv_ref arr; /* kv_ref[cap] ring of blobs */
  uint64_t cap, head, len;
};

enum { KV_ZSL_MAXLEVEL = 32 };

struct kv_zlevel {
  kv_ref fwd;    /* next node on this level */
  uint64_t span; /* ranks crossed by following fwd */
};

/* A skip-list node (Redis's zskiplistNode on kv_refs). */
struct kv_znode {
  double score;
  kv_ref ent;  /* the member's entry in the zset's dict (KV_NULL in the header) */
  kv_ref back; /* previous node on level 0 (KV_NULL for the first) */
  kv_ref user; /* the zset user's payload, kept across score changes (rum-s3's records; 0 in rum-kvs) */
  uint32_t level, pad;
  struct kv_zlevel lv[];
};

struct kv_zset {
  kv_ref dict; /* member -> entry with aux = score bits, val = its node */
  kv_ref head; /* header node with KV_ZSL_MAXLEVEL levels */
  kv_ref tail;
  uint64_t len;
  uint64_t level;
};

struct kv_store {
  struct ph_heap *heap;
  kv_ref keys;      /* the keyspace dict */
  void *lock;       /* owner record region */
  uint64_t sweep_cursor;
  uint64_t expired; /* keys removed because their time passed */
  int created;      /* this open made a new store */
  int journaled;    /* kv_open opened the store's journal */
};

/* Released big values wait for a sync before their regions are freed; past this
 * much, kv_sync_wanted asks for one. */
#define KV_PENDING_SYNC_BYTES (64ull << 20)

/* Lock (lock.c). */
int kv_lock_acquire(const char *store, void **region, char *err, size_t errlen);
int kv_lock_heartbeat(void *region);
void kv_lock_release(void *region);

/* Open store `name` (creating it), taking its lock. RUM_EBUSY with a message naming
 * the owner when another live rum-kvs holds it. journal_bytes > 0 opens the store's
 * undo journal (region kvs.NAME.journal, rum_journal_open) first, so that every
 * kv_sync is atomic: after a crash the store is as the last kv_sync left it. */
int kv_open(const char *name, size_t journal_bytes, struct kv_store **out, char *err, size_t errlen);
/* Write back, detach, release the lock. */
int kv_close(struct kv_store *s);
/* rum_sync, then free what the store released before it (ph_synced). Use this,
 * not rum_sync, for the store's changes. */
int kv_sync(struct kv_store *s);
/* A sync is due before the epoch outgrows the journal or released segments pile up. */
int kv_sync_wanted(struct kv_store *s);

static inline struct pd_entry *kv_entry(struct kv_store *s, kv_ref e) { return ph_ptr(s->heap, e); }
static inline void *kv_at(struct kv_store *s, kv_ref r) { return ph_ptr(s->heap, r); }

/* The key's entry, or KV_NULL when absent or expired at now_ms (an expired key is
 * deleted on the way). */
kv_ref kv_lookup(struct kv_store *s, const void *key, size_t klen, int64_t now_ms);
/* Bring the pages that commands on keys[0..n) will touch into the cache, a few
 * round trips for all of them instead of up to three per key: the keys' buckets,
 * their entries, then the first bytes of string values (pd_prefetch, rum_prefetchv).
 * Any n (done PD_PREFETCH_MAX keys at a time). A hint: changes nothing. */
void kv_prefetch(struct kv_store *s, const unsigned char *const *keys, const size_t *klens, int n);
/* Delete key; 1 if it existed. */
int kv_delete(struct kv_store *s, const void *key, size_t klen);
/* Set key to a new value of type (replacing any old value and, unless keep_ttl, its
 * TTL). Returns the entry or KV_NULL when the heap is full (the old value is kept). */
kv_ref kv_put(struct kv_store *s, const void *key, size_t klen, uint8_t type, kv_ref val, int keep_ttl);
/* Move src's value and TTL to dst (replacing dst). 1 done, 0 no src, RUM_ENOMEM. */
int kv_rename(struct kv_store *s, const void *src, size_t slen, const void *dst, size_t dlen);
/* Set (when_ms > 0) or clear (0) the expiry of an entry. */
void kv_set_expire(struct kv_store *s, kv_ref e, int64_t when_ms);
uint64_t kv_dbsize(struct kv_store *s);
uint64_t kv_nexpires(struct kv_store *s);
/* Remove every key. */
int kv_flush(struct kv_store *s);
/* Free a value of type (a large aggregate through the lazy-free queue). */
void kv_value_free(struct kv_store *s, uint8_t type, kv_ref val);
/* Visit up to max_buckets of the keyspace, deleting expired keys; returns how many. */
int kv_expire_sweep(struct kv_store *s, int64_t now_ms, int max_buckets);
/* Move a few buckets of any rehash in progress; 1 while more remain. */
int kv_rehash_step(struct kv_store *s, int n);

/* Lazy freeing (lazyfree.c): values of more than KV_LAZYFREE_MIN elements that are
 * deleted or overwritten are freed by kv_lazyfree_step, not at once. */
enum { KV_LAZYFREE_MIN = 1024, KV_ROOT_GARBAGE = 2 /* heap root slot of the garbage list */ };
uint64_t kv_value_elements(struct kv_store *s, uint8_t type, kv_ref val);
/* Queue a detached value; RUM_ENOMEM when not even the record fits (then free it now). */
int kv_lazyfree_push(struct kv_store *s, uint8_t type, kv_ref val);
/* Free about `budget` elements of queued values; 1 while more remain. */
int kv_lazyfree_step(struct kv_store *s, uint64_t budget);
/* Values waiting to be freed. */
uint64_t kv_lazyfree_pending(struct kv_store *s);

/* Blobs (blob.c). A new blob has flags 0 and a fresh cas. */
kv_ref kv_blob_new(struct kv_store *s, const void *data, size_t len);
/* Make room for len bytes (contents and flags kept up to the old length, a fresh
 * cas); the ref may change. KV_NULL when the heap is full (the old blob is kept). */
kv_ref kv_blob_resize(struct kv_store *s, kv_ref b, size_t len);
/* The blob's bytes were changed in place: give it a fresh cas. */
void kv_blob_touch(struct kv_store *s, kv_ref b);
/* The next CAS number of the store (persistent, never 0, never repeated). */
uint64_t kv_next_cas(struct kv_store *s);
static inline struct kv_blob *kv_blob(struct kv_store *s, kv_ref b) { return ph_ptr(s->heap, b); }

/* Lists (list.c). Positions are 0..len-1 from the head. */
kv_ref kv_list_new(struct kv_store *s);
int kv_list_push(struct kv_store *s, kv_ref l, int tail, kv_ref blob);
kv_ref kv_list_pop(struct kv_store *s, kv_ref l, int tail);
kv_ref *kv_list_slot(struct kv_store *s, kv_ref l, uint64_t i);
int kv_list_insert(struct kv_store *s, kv_ref l, uint64_t i, kv_ref blob);
kv_ref kv_list_remove(struct kv_store *s, kv_ref l, uint64_t i);
void kv_list_free(struct kv_store *s, kv_ref l);

/* Sorted sets (zset.c): a dict from member to score and a skip list with spans in
 * (score, member) order, both in the heap; every operation is O(log n) and touches
 * O(log n) nodes, so a large sorted set is never copied or shifted whole. Ranks are
 * 0-based. */
kv_ref kv_zset_new(struct kv_store *s);
/* Set member's score; *added is 1 for a new member. Returns 0 or RUM_ENOMEM (then the
 * set is unchanged). */
int kv_zset_set(struct kv_store *s, kv_ref z, const void *m, size_t mlen, double score, int *added);
/* Current score; 0 if member is absent, 1 if present. */
int kv_zset_score(struct kv_store *s, kv_ref z, const void *m, size_t mlen, double *score);
int kv_zset_remove(struct kv_store *s, kv_ref z, const void *m, size_t mlen);
/* 0-based rank of a member (-1 when absent). */
int64_t kv_zset_rank(struct kv_store *s, kv_ref z, const void *m, size_t mlen);
/* The payload slot of a member (NULL when absent): an ordered map for rum-s3. */
kv_ref *kv_zset_user(struct kv_store *s, kv_ref z, const void *m, size_t mlen);
/* The node of a rank (< len), then neighbours on level 0 (KV_NULL past the ends). */
kv_ref kv_zset_node_at(struct kv_store *s, kv_ref z, uint64_t rank);
static inline struct kv_znode *kv_znode(struct kv_store *s, kv_ref n) { return ph_ptr(s->heap, n); }
static inline kv_ref kv_zset_next(struct kv_store *s, kv_ref n) { return kv_znode(s, n)->lv[0].fwd; }
static inline kv_ref kv_zset_prev(struct kv_store *s, kv_ref n) { return kv_znode(s, n)->back; }
/* First rank whose score is >= min (or > min when exclusive); len when none. */
uint64_t kv_zset_lower_score(struct kv_store *s, kv_ref z, double min, int exclusive);
/* First rank whose member is >= (> when exclusive) the given bytes; len when none. */
uint64_t kv_zset_lower_lex(struct kv_store *s, kv_ref z, const void *m, size_t mlen, int exclusive);
/* Remove n members from rank `start` on. */
void kv_zset_remove_range(struct kv_store *s, kv_ref z, uint64_t start, uint64_t n);
void kv_zset_free(struct kv_store *s, kv_ref z);

/* Hashes and sets are dicts: these free a dict whose values are blobs (hash) or
 * nothing (set). */
void kv_hash_free(struct kv_store *s, kv_ref d);

#endif

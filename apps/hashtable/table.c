/* The hash table proper: lookup, insert, delete and the two resize methods. Every
 * structure touched here is RUM memory (see ht.h). */
#include <errno.h>
#include <string.h>

#include <rum/rum.h>

#include "ht.h"


uint64_t ht_hash(uint64_t seed, const void *key, uint32_t klen) {
  const unsigned char *k = key;
  uint64_t h = 0xcbf29ce484222325ull ^ seed;
  for (uint32_t i = 0; i < klen; i++) h = (h ^ k[i]) * 0x100000001b3ull;
  /* FNV-1a alone leaves the low bits weak for short keys; the buckets use them. */
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return h;
}

int ht_create(struct ht *h, enum ht_alloc_mode mode, uint64_t hash_seed, int *rum_errno) {
  struct ht_table *t = rum_calloc(1, sizeof *t);
  if (t == NULL) {
    *rum_errno = errno;
    return -ENOMEM;
  }
  t->buckets = rum_calloc(HT_MIN_BUCKETS, sizeof *t->buckets);
  if (t->buckets == NULL) {
    *rum_errno = errno;
    rum_free(t);
    return -ENOMEM;
  }
  t->magic = HT_MAGIC;
  t->hash_seed = hash_seed;
  t->nbuckets = HT_MIN_BUCKETS;
  ht_arena_init(&t->arena, mode);
  h->t = t;
  return 0;
}

void ht_destroy(struct ht *h) {
  struct ht_table *t = h->t;
  if (t == NULL) return;
  for (uint64_t i = 0; i < t->nbuckets; i++) {
    struct ht_entry *e = t->buckets[i];
    while (e != NULL) {
      struct ht_entry *next = e->next;
      ht_arena_free(&t->arena, e, e->cap);
      e = next;
    }
  }
  ht_arena_destroy(&t->arena);
  rum_free(t->buckets);
  rum_free(t);
  h->t = NULL;
}

/* The link that points at key's entry (or the chain's terminating NULL link). */
static struct ht_entry **find_link(const struct ht_table *t, const void *key, uint32_t klen, uint64_t hash) {
  struct ht_entry **link = &t->buckets[hash & (t->nbuckets - 1)];
  while (*link != NULL) {
    const struct ht_entry *e = *link;
    if (e->hash == hash && e->klen == klen && memcmp(e->data, key, klen) == 0) break;
    link = &(*link)->next;
  }
  return link;
}

/* Split every chain i into i and i+n (by hash bit n) in a rum_realloc'ed array. */
static int grow_in_place(struct ht_table *t) {
  uint64_t n = t->nbuckets;
  struct ht_entry **b = rum_realloc(t->buckets, 2 * n * sizeof *b);
  if (b == NULL) return -1;
  memset(b + n, 0, n * sizeof *b);
  for (uint64_t i = 0; i < n; i++) {
    struct ht_entry **lo = &b[i], **hi = &b[i + n];
    struct ht_entry *e = b[i];
    while (e != NULL) {
      struct ht_entry *next = e->next;
      if (e->hash & n) {
        *hi = e;
        hi = &e->next;
        t->moved++;
      } else {
        *lo = e;
        lo = &e->next;
      }
      e = next;
    }
    *lo = NULL;
    *hi = NULL;
  }
  t->buckets = b;
  t->nbuckets = 2 * n;
  return 0;
}

/* Append chain i+m to chain i for i < m = n/2, then shrink the array. */
static int shrink_in_place(struct ht_table *t) {
  uint64_t m = t->nbuckets / 2;
  struct ht_entry **b = t->buckets;
  for (uint64_t i = 0; i < m; i++) {
    if (b[i + m] == NULL) continue;
    struct ht_entry **tail = &b[i];
    while (*tail != NULL) tail = &(*tail)->next;
    *tail = b[i + m];
    for (struct ht_entry *e = b[i + m]; e != NULL; e = e->next) t->moved++;
    b[i + m] = NULL;
  }
  t->nbuckets = m;
  /* Shrinking the array may fail; the table is already correct with its first m
   * buckets, so keep the larger allocation then. */
  struct ht_entry **s = rum_realloc(b, m * sizeof *b);
  if (s != NULL) t->buckets = s;
  return 0;
}

/* Re-link every entry into a new zeroed array of nb buckets. */
static int rehash_into_new(struct ht_table *t, uint64_t nb) {
  struct ht_entry **fresh = rum_calloc(nb, sizeof *fresh);
  if (fresh == NULL) return -1;
  for (uint64_t i = 0; i < t->nbuckets; i++) {
    struct ht_entry *e = t->buckets[i];
    while (e != NULL) {
      struct ht_entry *next = e->next;
      uint64_t j = e->hash & (nb - 1);
      e->next = fresh[j];
      fresh[j] = e;
      t->moved++;
      e = next;
    }
  }
  rum_free(t->buckets);
  t->buckets = fresh;
  t->nbuckets = nb;
  return 0;
}

static void maybe_resize(struct ht_table *t) {
  bool grow = t->count * 4 > t->nbuckets * 3;
  bool shrink = t->nbuckets > HT_MIN_BUCKETS && t->count * 16 < t->nbuckets * 3;
  if (!grow && !shrink) return;
  bool in_place = ((t->grows + t->shrinks) & 1) == 0;
  int rc;
  if (grow) rc = in_place ? grow_in_place(t) : rehash_into_new(t, 2 * t->nbuckets);
  else rc = in_place ? shrink_in_place(t) : rehash_into_new(t, t->nbuckets / 2);
  if (rc != 0) {
    t->resize_failures++;
    return;
  }
  if (grow) t->grows++;
  else t->shrinks++;
}

const struct ht_entry *ht_get(const struct ht *h, const void *key, uint32_t klen) {
  const struct ht_table *t = h->t;
  return *find_link(t, key, klen, ht_hash(t->hash_seed, key, klen));
}

int ht_put(struct ht *h, const void *key, uint32_t klen, const void *val, uint32_t vlen) {
  struct ht_table *t = h->t;
  uint64_t hash = ht_hash(t->hash_seed, key, klen);
  struct ht_entry **link = find_link(t, key, klen, hash);
  size_t need = sizeof(struct ht_entry) + klen + vlen;
  struct ht_entry *e = *link;
  if (e != NULL) {
    if (need > e->cap) {
      uint32_t cap;
      struct ht_entry *moved = ht_arena_resize(&t->arena, e, e->cap, need, &cap);
      if (moved == NULL) return -ENOMEM;
      moved->cap = cap;
      *link = e = moved;
    }
    memcpy(e->data + klen, val, vlen);
    e->vlen = vlen;
    return 0;
  }
  uint32_t cap;
  e = ht_arena_alloc(&t->arena, need, &cap);
  if (e == NULL) return -ENOMEM;
  e->next = NULL;
  e->hash = hash;
  e->klen = klen;
  e->vlen = vlen;
  e->cap = cap;
  e->reserved = 0;
  memcpy(e->data, key, klen);
  memcpy(e->data + klen, val, vlen);
  *link = e;
  t->count++;
  maybe_resize(t);
  return 1;
}

int ht_del(struct ht *h, const void *key, uint32_t klen) {
  struct ht_table *t = h->t;
  struct ht_entry **link = find_link(t, key, klen, ht_hash(t->hash_seed, key, klen));
  struct ht_entry *e = *link;
  if (e == NULL) return 0;
  *link = e->next;
  ht_arena_free(&t->arena, e, e->cap);
  t->count--;
  maybe_resize(t);
  return 1;
}

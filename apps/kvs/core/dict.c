/* Chained hash table with incremental rehashing, after Redis's dict.c, on kv_refs. */
#include "dict.h"

#include <string.h>

#include <xxhash.h>

enum { PD_INITIAL = 4, PD_EMPTY_VISITS = 10 };

#define D(h, d) ((struct pd_dict *)ph_ptr((h), (d)))
#define E(h, e) ((struct pd_entry *)ph_ptr((h), (e)))

static kv_ref *buckets(struct ph_heap *h, struct pd_dict *t, int i) {
  return (kv_ref *)ph_ptr(h, t->table[i]);
}

uint32_t pd_hash(const void *key, size_t klen) { return (uint32_t)XXH3_64bits(key, klen); }

kv_ref pd_create(struct ph_heap *h) {
  kv_ref d = ph_zalloc(h, sizeof(struct pd_dict));
  if (d != KV_NULL) D(h, d)->rehash_idx = -1;
  return d;
}

static int rehashing(const struct pd_dict *t) { return t->rehash_idx != -1; }

static uint64_t next_pow2(uint64_t n) {
  uint64_t s = PD_INITIAL;
  while (s < n && s < (1ull << 32)) s *= 2;
  return s;
}

/* Start moving to a table of `size` buckets (or just make the first table). */
static int resize_to(struct ph_heap *h, kv_ref d, uint64_t size) {
  struct pd_dict *t = D(h, d);
  if (rehashing(t) || size == t->size[0]) return 0;
  kv_ref nb = ph_zalloc(h, size * sizeof(kv_ref));
  if (nb == KV_NULL) return -1;
  t = D(h, d);
  if (t->table[0] == KV_NULL) {
    t->table[0] = nb;
    t->size[0] = size;
    return 0;
  }
  t->table[1] = nb;
  t->size[1] = size;
  t->used[1] = 0;
  t->rehash_idx = 0;
  return 0;
}

int pd_rehash(struct ph_heap *h, kv_ref d, int n) {
  struct pd_dict *t = D(h, d);
  if (!rehashing(t)) return 0;
  int empty_visits = n * PD_EMPTY_VISITS;
  kv_ref *b0 = buckets(h, t, 0), *b1 = buckets(h, t, 1);
  uint64_t mask1 = t->size[1] - 1;
  while (n-- && t->used[0] != 0) {
    while (b0[t->rehash_idx] == KV_NULL) {
      t->rehash_idx++;
      if (--empty_visits == 0) return 1;
    }
    kv_ref e = b0[t->rehash_idx];
    while (e != KV_NULL) {
      struct pd_entry *pe = E(h, e);
      kv_ref next = pe->next;
      uint64_t idx = pe->hash & mask1;
      pe->next = b1[idx];
      b1[idx] = e;
      t->used[0]--;
      t->used[1]++;
      e = next;
    }
    b0[t->rehash_idx] = KV_NULL;
    t->rehash_idx++;
  }
  if (t->used[0] == 0) {
    ph_free(h, t->table[0]);
    t->table[0] = t->table[1];
    t->size[0] = t->size[1];
    t->used[0] = t->used[1];
    t->table[1] = KV_NULL;
    t->size[1] = t->used[1] = 0;
    t->rehash_idx = -1;
    return 0;
  }
  return 1;
}

static void step(struct ph_heap *h, kv_ref d) {
  if (rehashing(D(h, d))) pd_rehash(h, d, 1);
}

static int key_equal(struct pd_entry *e, uint32_t hash, const void *key, size_t klen) {
  return e->hash == hash && e->klen == klen && memcmp(e->key, key, klen) == 0;
}

/* The link (bucket slot or an entry's next) that points at key's entry, or NULL;
 * *table gets which of the two tables holds it. One rehash step first. */
static kv_ref *link_of(struct ph_heap *h, kv_ref d, const void *key, size_t klen, int *table) {
  step(h, d);
  struct pd_dict *t = D(h, d);
  if (t->table[0] == KV_NULL) return NULL;
  uint32_t hash = pd_hash(key, klen);
  for (int i = 0; i <= 1; i++) {
    if (i == 1 && !rehashing(t)) break;
    kv_ref *link = &buckets(h, t, i)[hash & (t->size[i] - 1)];
    while (*link != KV_NULL) {
      struct pd_entry *pe = E(h, *link);
      if (key_equal(pe, hash, key, klen)) {
        *table = i;
        return link;
      }
      link = &pe->next;
    }
  }
  return NULL;
}

kv_ref pd_find(struct ph_heap *h, kv_ref d, const void *key, size_t klen) {
  int table;
  kv_ref *link = link_of(h, d, key, klen, &table);
  return link != NULL ? *link : KV_NULL;
}

kv_ref pd_add(struct ph_heap *h, kv_ref d, const void *key, size_t klen, int *existed) {
  kv_ref found = pd_find(h, d, key, klen);
  *existed = found != KV_NULL;
  if (found != KV_NULL) return found;
  struct pd_dict *t = D(h, d);
  if (t->table[0] == KV_NULL && resize_to(h, d, PD_INITIAL) != 0) return KV_NULL;
  t = D(h, d);
  if (!rehashing(t) && t->used[0] >= t->size[0]) (void)resize_to(h, d, next_pow2(t->used[0] * 2));
  if (klen > UINT32_MAX) return KV_NULL;
  kv_ref e = ph_alloc(h, sizeof(struct pd_entry) + klen);
  if (e == KV_NULL) return KV_NULL;
  t = D(h, d);
  struct pd_entry *pe = E(h, e);
  memset(pe, 0, sizeof *pe);
  pe->hash = pd_hash(key, klen);
  pe->klen = (uint32_t)klen;
  memcpy(pe->key, key, klen);
  int i = rehashing(t) ? 1 : 0;
  kv_ref *slot = &buckets(h, t, i)[pe->hash & (t->size[i] - 1)];
  pe->next = *slot;
  *slot = e;
  t->used[i]++;
  return e;
}

kv_ref pd_unlink(struct ph_heap *h, kv_ref d, const void *key, size_t klen) {
  int table;
  kv_ref *link = link_of(h, d, key, klen, &table);
  if (link == NULL) return KV_NULL;
  kv_ref e = *link;
  *link = E(h, e)->next;
  D(h, d)->used[table]--;
  return e;
}

void pd_maybe_shrink(struct ph_heap *h, kv_ref d) {
  struct pd_dict *t = D(h, d);
  if (rehashing(t) || t->size[0] <= PD_INITIAL) return;
  if (t->used[0] * 10 < t->size[0]) (void)resize_to(h, d, next_pow2(t->used[0] ? t->used[0] : 1));
}

uint64_t pd_count(struct ph_heap *h, kv_ref d) {
  struct pd_dict *t = D(h, d);
  return t->used[0] + t->used[1];
}

static void free_chain(struct ph_heap *h, kv_ref e, void (*free_val)(struct ph_heap *, struct pd_entry *, void *),
                       void *arg) {
  while (e != KV_NULL) {
    struct pd_entry *pe = E(h, e);
    kv_ref next = pe->next;
    if (free_val != NULL) free_val(h, pe, arg);
    ph_free(h, e);
    e = next;
  }
}

void pd_destroy(struct ph_heap *h, kv_ref d, void (*free_val)(struct ph_heap *, struct pd_entry *, void *),
                void *arg) {
  struct pd_dict *t = D(h, d);
  for (int i = 0; i <= 1; i++) {
    if (t->table[i] == KV_NULL) continue;
    for (uint64_t b = 0; b < t->size[i]; b++) free_chain(h, buckets(h, t, i)[b], free_val, arg);
    ph_free(h, t->table[i]);
  }
  ph_free(h, d);
}

int pd_destroy_step(struct ph_heap *h, kv_ref d, uint64_t *cursor,
                    void (*free_val)(struct ph_heap *, struct pd_entry *, void *), void *arg, uint64_t budget) {
  struct pd_dict *t = D(h, d);
  uint64_t done = 0;
  /* Buckets of table 0 are 0..size0-1, those of table 1 follow. */
  while (done < budget && *cursor < t->size[0] + t->size[1]) {
    int i = *cursor < t->size[0] ? 0 : 1;
    uint64_t b = i == 0 ? *cursor : *cursor - t->size[0];
    kv_ref *slot = &buckets(h, t, i)[b];
    while (*slot != KV_NULL && done < budget) {
      kv_ref e = *slot;
      struct pd_entry *pe = E(h, e);
      *slot = pe->next;
      if (free_val != NULL) free_val(h, pe, arg);
      ph_free(h, e);
      done++;
    }
    if (*slot == KV_NULL) (*cursor)++;
  }
  if (*cursor < t->size[0] + t->size[1]) return 1;
  ph_free(h, t->table[0]);
  ph_free(h, t->table[1]);
  ph_free(h, d);
  return 0;
}

static uint64_t rev(uint64_t v) {
  uint64_t s = 64, mask = ~0ull;
  while ((s >>= 1) > 0) {
    mask ^= (mask << s);
    v = ((v >> s) & mask) | ((v << s) & ~mask);
  }
  return v;
}

static void emit(struct ph_heap *h, kv_ref e, void (*fn)(struct ph_heap *, kv_ref, void *), void *arg) {
  while (e != KV_NULL) {
    kv_ref next = E(h, e)->next; /* fn may unlink e (lazy expiry) */
    fn(h, e, arg);
    e = next;
  }
}

uint64_t pd_scan(struct ph_heap *h, kv_ref d, uint64_t v, void (*fn)(struct ph_heap *, kv_ref, void *),
                 void *arg) {
  struct pd_dict *t = D(h, d);
  if (pd_count(h, d) == 0) return 0;
  if (!rehashing(t)) {
    uint64_t m0 = t->size[0] - 1;
    emit(h, buckets(h, t, 0)[v & m0], fn, arg);
    v |= ~m0;
    v = rev(v);
    v++;
    return rev(v);
  }
  int small = t->size[0] <= t->size[1] ? 0 : 1, large = 1 - small;
  uint64_t m0 = t->size[small] - 1, m1 = t->size[large] - 1;
  kv_ref b0 = t->table[small], b1 = t->table[large];
  emit(h, ((kv_ref *)ph_ptr(h, b0))[v & m0], fn, arg);
  do {
    emit(h, ((kv_ref *)ph_ptr(h, b1))[v & m1], fn, arg);
    v |= ~m1;
    v = rev(v);
    v++;
    v = rev(v);
  } while (v & (m0 ^ m1));
  return v;
}

kv_ref pd_random(struct ph_heap *h, kv_ref d, uint64_t rnd) {
  struct pd_dict *t = D(h, d);
  if (pd_count(h, d) == 0) return KV_NULL;
  /* Probe buckets from a random start; then a random position in the chain. */
  uint64_t total = t->size[0] + (rehashing(t) ? t->size[1] : 0);
  uint64_t start = rnd % total;
  for (uint64_t n = 0; n < total; n++) {
    uint64_t idx = (start + n) % total;
    int i = idx < t->size[0] ? 0 : 1;
    uint64_t b = i == 0 ? idx : idx - t->size[0];
    if (i == 0 && rehashing(t) && (int64_t)b < t->rehash_idx) continue;
    kv_ref e = buckets(h, t, i)[b];
    if (e == KV_NULL) continue;
    uint64_t len = 0;
    for (kv_ref x = e; x != KV_NULL; x = E(h, x)->next) len++;
    uint64_t k = (rnd >> 32) % len;
    while (k--) e = E(h, e)->next;
    return e;
  }
  return KV_NULL;
}

/* Sorted sets: a dict from member to score (for ZSCORE and membership) and an array
 * of (score, member entry) in Redis's order: by score, ties by member bytes. Ranks are
 * array positions, so ZRANK and ZRANGE by rank are O(log n) and O(1) per element;
 * inserting and removing shift the array (memmove), fine for the sizes clients keep
 * in one sorted set and simpler to keep consistent on the nodes than a skip list. */
#include "kv.h"

#include <string.h>

#define Z(s, z) ((struct kv_zset *)kv_at((s), (z)))

static double bits_to_double(int64_t b) {
  double d;
  memcpy(&d, &b, sizeof d);
  return d;
}

static int64_t double_to_bits(double d) {
  int64_t b;
  memcpy(&b, &d, sizeof b);
  return b;
}

kv_ref kv_zset_new(struct kv_store *s) {
  kv_ref z = ph_zalloc(s->heap, sizeof(struct kv_zset));
  if (z == KV_NULL) return KV_NULL;
  kv_ref d = pd_create(s->heap);
  if (d == KV_NULL) {
    ph_free(s->heap, z);
    return KV_NULL;
  }
  Z(s, z)->dict = d;
  return z;
}

static int mem_cmp(const void *a, size_t alen, const void *b, size_t blen) {
  int c = memcmp(a, b, alen < blen ? alen : blen);
  if (c != 0) return c;
  return alen < blen ? -1 : alen > blen;
}

static int item_cmp(struct kv_store *s, const struct kv_zitem *it, double score, const void *m, size_t mlen) {
  if (it->score < score) return -1;
  if (it->score > score) return 1;
  struct pd_entry *e = kv_entry(s, it->ent);
  return mem_cmp(e->key, e->klen, m, mlen);
}

static struct kv_zitem *items(struct kv_store *s, struct kv_zset *z) { return kv_at(s, z->arr); }

/* First position whose item is >= (score, member). */
static uint64_t lower_bound(struct kv_store *s, kv_ref zr, double score, const void *m, size_t mlen) {
  struct kv_zset *z = Z(s, zr);
  uint64_t lo = 0, hi = z->len;
  struct kv_zitem *a = z->len ? items(s, z) : NULL;
  while (lo < hi) {
    uint64_t mid = lo + (hi - lo) / 2;
    if (item_cmp(s, &a[mid], score, m, mlen) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

static int grow(struct kv_store *s, kv_ref zr) {
  struct kv_zset *z = Z(s, zr);
  if (z->len < z->cap) return 0;
  uint64_t cap = z->cap ? z->cap * 2 : 4;
  kv_ref na = ph_alloc(s->heap, cap * sizeof(struct kv_zitem));
  if (na == KV_NULL) return RUM_ENOMEM;
  z = Z(s, zr);
  if (z->len) memcpy(kv_at(s, na), items(s, z), z->len * sizeof(struct kv_zitem));
  ph_free(s->heap, z->arr);
  z->arr = na;
  z->cap = cap;
  return 0;
}

static void array_remove(struct kv_store *s, kv_ref zr, double score, const void *m, size_t mlen) {
  struct kv_zset *z = Z(s, zr);
  uint64_t pos = lower_bound(s, zr, score, m, mlen);
  struct kv_zitem *a = items(s, z);
  memmove(&a[pos], &a[pos + 1], (z->len - pos - 1) * sizeof *a);
  z->len--;
}

static void array_insert(struct kv_store *s, kv_ref zr, double score, kv_ref ent) {
  struct pd_entry *e = kv_entry(s, ent);
  uint64_t pos = lower_bound(s, zr, score, e->key, e->klen);
  struct kv_zset *z = Z(s, zr);
  struct kv_zitem *a = items(s, z);
  memmove(&a[pos + 1], &a[pos], (z->len - pos) * sizeof *a);
  a[pos].score = score;
  a[pos].ent = ent;
  z->len++;
}

int kv_zset_set(struct kv_store *s, kv_ref zr, const void *m, size_t mlen, double score, int *added) {
  if (grow(s, zr) != 0) return RUM_ENOMEM;
  int existed = 0;
  kv_ref ent = pd_add(s->heap, Z(s, zr)->dict, m, mlen, &existed);
  if (ent == KV_NULL) return RUM_ENOMEM;
  *added = !existed;
  struct pd_entry *e = kv_entry(s, ent);
  if (existed) {
    double old = bits_to_double(e->aux);
    if (old == score) return 0;
    array_remove(s, zr, old, m, mlen);
  }
  e->aux = double_to_bits(score);
  array_insert(s, zr, score, ent);
  return 0;
}

int kv_zset_score(struct kv_store *s, kv_ref zr, const void *m, size_t mlen, double *score) {
  kv_ref ent = pd_find(s->heap, Z(s, zr)->dict, m, mlen);
  if (ent == KV_NULL) return 0;
  *score = bits_to_double(kv_entry(s, ent)->aux);
  return 1;
}

int kv_zset_remove(struct kv_store *s, kv_ref zr, const void *m, size_t mlen) {
  double score;
  if (!kv_zset_score(s, zr, m, mlen, &score)) return 0;
  array_remove(s, zr, score, m, mlen);
  kv_ref ent = pd_unlink(s->heap, Z(s, zr)->dict, m, mlen);
  ph_free(s->heap, ent);
  pd_maybe_shrink(s->heap, Z(s, zr)->dict);
  return 1;
}

int64_t kv_zset_rank(struct kv_store *s, kv_ref zr, const void *m, size_t mlen) {
  double score;
  if (!kv_zset_score(s, zr, m, mlen, &score)) return -1;
  return (int64_t)lower_bound(s, zr, score, m, mlen);
}

struct kv_zitem *kv_zset_at(struct kv_store *s, kv_ref zr, uint64_t rank) {
  return &items(s, Z(s, zr))[rank];
}

uint64_t kv_zset_lower_score(struct kv_store *s, kv_ref zr, double min, int exclusive) {
  struct kv_zset *z = Z(s, zr);
  uint64_t lo = 0, hi = z->len;
  struct kv_zitem *a = z->len ? items(s, z) : NULL;
  while (lo < hi) {
    uint64_t mid = lo + (hi - lo) / 2;
    if (exclusive ? a[mid].score <= min : a[mid].score < min) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

uint64_t kv_zset_lower_lex(struct kv_store *s, kv_ref zr, const void *m, size_t mlen, int exclusive) {
  struct kv_zset *z = Z(s, zr);
  uint64_t lo = 0, hi = z->len;
  struct kv_zitem *a = z->len ? items(s, z) : NULL;
  while (lo < hi) {
    uint64_t mid = lo + (hi - lo) / 2;
    struct pd_entry *e = kv_entry(s, a[mid].ent);
    int c = mem_cmp(e->key, e->klen, m, mlen);
    if (exclusive ? c <= 0 : c < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

void kv_zset_remove_range(struct kv_store *s, kv_ref zr, uint64_t start, uint64_t n) {
  struct kv_zset *z = Z(s, zr);
  if (start >= z->len || n == 0) return;
  if (n > z->len - start) n = z->len - start;
  struct kv_zitem *a = items(s, z);
  for (uint64_t i = start; i < start + n; i++) {
    struct pd_entry *e = kv_entry(s, a[i].ent);
    /* The key bytes live in the entry being unlinked: look it up by its own ref. */
    kv_ref ent = pd_unlink(s->heap, z->dict, e->key, e->klen);
    ph_free(s->heap, ent);
  }
  memmove(&a[start], &a[start + n], (z->len - start - n) * sizeof *a);
  z->len -= n;
  pd_maybe_shrink(s->heap, z->dict);
}

void kv_zset_free(struct kv_store *s, kv_ref zr) {
  struct kv_zset *z = Z(s, zr);
  pd_destroy(s->heap, z->dict, NULL, NULL);
  ph_free(s->heap, z->arr);
  ph_free(s->heap, zr);
}

/* Sorted sets: a dict from member to score (ZSCORE, membership) and a skip list with
 * spans in Redis's order, by score and ties by member bytes (Redis's zskiplist, on
 * kv_refs in the heap). Ranks, inserts, deletes and range starts are O(log n) and read
 * O(log n) nodes, so a sorted set of millions of members is never moved or copied.
 *
 * A node's level comes from a hash of its member seeded with the sorted set's own
 * heap offset: the core takes no randomness, the distribution is Redis's (p = 1/4),
 * and a client cannot pick members that all land on level 1 without knowing where
 * the set lives in the heap. */
#include "kv.h"

#include <string.h>

#include <xxhash.h>

#define Z(s, z) ((struct kv_zset *)kv_at((s), (z)))
#define N(s, n) kv_znode((s), (n))

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

static kv_ref node_new(struct kv_store *s, uint32_t level, double score, kv_ref ent) {
  kv_ref n = ph_zalloc(s->heap, sizeof(struct kv_znode) + level * sizeof(struct kv_zlevel));
  if (n == KV_NULL) return KV_NULL;
  struct kv_znode *p = N(s, n);
  p->score = score;
  p->ent = ent;
  p->level = level;
  return n;
}

kv_ref kv_zset_new(struct kv_store *s) {
  kv_ref z = ph_zalloc(s->heap, sizeof(struct kv_zset));
  kv_ref d = pd_create(s->heap);
  kv_ref head = node_new(s, KV_ZSL_MAXLEVEL, 0, KV_NULL);
  if (z == KV_NULL || d == KV_NULL || head == KV_NULL) {
    ph_free(s->heap, z);
    if (d != KV_NULL) pd_destroy(s->heap, d, NULL, NULL);
    ph_free(s->heap, head);
    return KV_NULL;
  }
  struct kv_zset *pz = Z(s, z);
  pz->dict = d;
  pz->head = head;
  pz->level = 1;
  return z;
}

static int mem_cmp(const void *a, size_t alen, const void *b, size_t blen) {
  int c = memcmp(a, b, alen < blen ? alen : blen);
  if (c != 0) return c;
  return alen < blen ? -1 : alen > blen;
}

/* Node n sorts before (score, m)? */
static int before(struct kv_store *s, kv_ref n, double score, const void *m, size_t mlen) {
  struct kv_znode *p = N(s, n);
  if (p->score != score) return p->score < score;
  struct pd_entry *e = kv_entry(s, p->ent);
  return mem_cmp(e->key, e->klen, m, mlen) < 0;
}

static uint32_t level_for(kv_ref z, const void *m, size_t mlen) {
  uint64_t h = XXH3_64bits_withSeed(m, mlen, (uint64_t)z);
  uint32_t level = 1;
  while ((h & 3) == 0 && level < KV_ZSL_MAXLEVEL) {
    level++;
    h >>= 2;
  }
  return level;
}

/* zslInsert: link a node for (score, ent) with the member's bytes m. */
static kv_ref zsl_insert(struct kv_store *s, kv_ref zr, double score, kv_ref ent, const void *m, size_t mlen) {
  struct kv_zset *z = Z(s, zr);
  kv_ref update[KV_ZSL_MAXLEVEL];
  uint64_t rank[KV_ZSL_MAXLEVEL];
  uint32_t level = level_for(zr, m, mlen);
  kv_ref n = node_new(s, level, score, ent);
  if (n == KV_NULL) return KV_NULL;
  kv_ref x = z->head;
  for (int i = (int)z->level - 1; i >= 0; i--) {
    rank[i] = i == (int)z->level - 1 ? 0 : rank[i + 1];
    while (N(s, x)->lv[i].fwd != KV_NULL && before(s, N(s, x)->lv[i].fwd, score, m, mlen)) {
      rank[i] += N(s, x)->lv[i].span;
      x = N(s, x)->lv[i].fwd;
    }
    update[i] = x;
  }
  if (level > z->level) {
    for (uint32_t i = (uint32_t)z->level; i < level; i++) {
      rank[i] = 0;
      update[i] = z->head;
      N(s, z->head)->lv[i].span = z->len;
    }
    z->level = level;
  }
  struct kv_znode *pn = N(s, n);
  for (uint32_t i = 0; i < level; i++) {
    struct kv_znode *u = N(s, update[i]);
    pn->lv[i].fwd = u->lv[i].fwd;
    u->lv[i].fwd = n;
    pn->lv[i].span = u->lv[i].span - (rank[0] - rank[i]);
    u->lv[i].span = (rank[0] - rank[i]) + 1;
  }
  for (uint32_t i = level; i < z->level; i++) N(s, update[i])->lv[i].span++;
  pn->back = update[0] == z->head ? KV_NULL : update[0];
  if (pn->lv[0].fwd != KV_NULL) N(s, pn->lv[0].fwd)->back = n;
  else z->tail = n;
  z->len++;
  return n;
}

/* zslDelete: unlink and free the node of (score, m), which must be present. */
static void zsl_delete(struct kv_store *s, kv_ref zr, double score, const void *m, size_t mlen) {
  struct kv_zset *z = Z(s, zr);
  kv_ref update[KV_ZSL_MAXLEVEL];
  kv_ref x = z->head;
  for (int i = (int)z->level - 1; i >= 0; i--) {
    while (N(s, x)->lv[i].fwd != KV_NULL && before(s, N(s, x)->lv[i].fwd, score, m, mlen))
      x = N(s, x)->lv[i].fwd;
    update[i] = x;
  }
  kv_ref n = N(s, x)->lv[0].fwd;
  struct kv_znode *pn = N(s, n);
  for (uint32_t i = 0; i < z->level; i++) {
    struct kv_znode *u = N(s, update[i]);
    if (u->lv[i].fwd == n) {
      u->lv[i].span += pn->lv[i].span - 1;
      u->lv[i].fwd = pn->lv[i].fwd;
    } else {
      u->lv[i].span--;
    }
  }
  if (pn->lv[0].fwd != KV_NULL) N(s, pn->lv[0].fwd)->back = pn->back;
  else z->tail = pn->back;
  while (z->level > 1 && N(s, z->head)->lv[z->level - 1].fwd == KV_NULL) z->level--;
  z->len--;
  ph_free(s->heap, n);
}

int kv_zset_set(struct kv_store *s, kv_ref zr, const void *m, size_t mlen, double score, int *added) {
  int existed = 0;
  kv_ref ent = pd_add(s->heap, Z(s, zr)->dict, m, mlen, &existed);
  if (ent == KV_NULL) return RUM_ENOMEM;
  *added = !existed;
  struct pd_entry *e = kv_entry(s, ent);
  if (existed) {
    double old = bits_to_double(e->aux);
    if (old == score) return 0;
    /* Insert the new node first: if that fails the old one is still in place. */
    kv_ref n = zsl_insert(s, zr, score, ent, m, mlen);
    if (n == KV_NULL) return RUM_ENOMEM;
    e = kv_entry(s, ent);
    N(s, n)->user = N(s, e->val)->user;
    zsl_delete(s, zr, old, m, mlen);
    e = kv_entry(s, ent);
    e->val = n;
    e->aux = double_to_bits(score);
    return 0;
  }
  kv_ref n = zsl_insert(s, zr, score, ent, m, mlen);
  if (n == KV_NULL) {
    ph_free(s->heap, pd_unlink(s->heap, Z(s, zr)->dict, m, mlen));
    *added = 0;
    return RUM_ENOMEM;
  }
  e = kv_entry(s, ent);
  e->val = n;
  e->aux = double_to_bits(score);
  return 0;
}

kv_ref *kv_zset_user(struct kv_store *s, kv_ref zr, const void *m, size_t mlen) {
  kv_ref ent = pd_find(s->heap, Z(s, zr)->dict, m, mlen);
  return ent == KV_NULL ? NULL : &N(s, kv_entry(s, ent)->val)->user;
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
  zsl_delete(s, zr, score, m, mlen);
  ph_free(s->heap, pd_unlink(s->heap, Z(s, zr)->dict, m, mlen));
  pd_maybe_shrink(s->heap, Z(s, zr)->dict);
  return 1;
}

int64_t kv_zset_rank(struct kv_store *s, kv_ref zr, const void *m, size_t mlen) {
  double score;
  if (!kv_zset_score(s, zr, m, mlen, &score)) return -1;
  struct kv_zset *z = Z(s, zr);
  uint64_t rank = 0;
  kv_ref x = z->head;
  for (int i = (int)z->level - 1; i >= 0; i--) {
    while (N(s, x)->lv[i].fwd != KV_NULL && before(s, N(s, x)->lv[i].fwd, score, m, mlen)) {
      rank += N(s, x)->lv[i].span;
      x = N(s, x)->lv[i].fwd;
    }
  }
  return (int64_t)rank; /* the member's node is the next one: rank+1 in 1-based terms */
}

kv_ref kv_zset_node_at(struct kv_store *s, kv_ref zr, uint64_t rank) {
  struct kv_zset *z = Z(s, zr);
  uint64_t want = rank + 1, traversed = 0;
  kv_ref x = z->head;
  for (int i = (int)z->level - 1; i >= 0; i--) {
    while (N(s, x)->lv[i].fwd != KV_NULL && traversed + N(s, x)->lv[i].span <= want) {
      traversed += N(s, x)->lv[i].span;
      x = N(s, x)->lv[i].fwd;
    }
    if (traversed == want) return x;
  }
  return KV_NULL;
}

/* How many nodes come before the first one for which go_on() no longer holds. */
static uint64_t count_before(struct kv_store *s, kv_ref zr, int (*go_on)(struct kv_store *, kv_ref, const void *),
                             const void *arg) {
  struct kv_zset *z = Z(s, zr);
  uint64_t rank = 0;
  kv_ref x = z->head;
  for (int i = (int)z->level - 1; i >= 0; i--) {
    while (N(s, x)->lv[i].fwd != KV_NULL && go_on(s, N(s, x)->lv[i].fwd, arg)) {
      rank += N(s, x)->lv[i].span;
      x = N(s, x)->lv[i].fwd;
    }
  }
  return rank;
}

struct score_bound {
  double v;
  int exclusive;
};

static int below_score(struct kv_store *s, kv_ref n, const void *arg) {
  const struct score_bound *b = arg;
  return b->exclusive ? N(s, n)->score <= b->v : N(s, n)->score < b->v;
}

uint64_t kv_zset_lower_score(struct kv_store *s, kv_ref zr, double min, int exclusive) {
  struct score_bound b = {min, exclusive};
  return count_before(s, zr, below_score, &b);
}

struct lex_bound {
  const void *m;
  size_t len;
  int exclusive;
};

static int below_lex(struct kv_store *s, kv_ref n, const void *arg) {
  const struct lex_bound *b = arg;
  struct pd_entry *e = kv_entry(s, N(s, n)->ent);
  int c = mem_cmp(e->key, e->klen, b->m, b->len);
  return b->exclusive ? c <= 0 : c < 0;
}

uint64_t kv_zset_lower_lex(struct kv_store *s, kv_ref zr, const void *m, size_t mlen, int exclusive) {
  struct lex_bound b = {m, mlen, exclusive};
  return count_before(s, zr, below_lex, &b);
}

void kv_zset_remove_range(struct kv_store *s, kv_ref zr, uint64_t start, uint64_t n) {
  struct kv_zset *z = Z(s, zr);
  if (start >= z->len || n == 0) return;
  if (n > z->len - start) n = z->len - start;
  kv_ref x = kv_zset_node_at(s, zr, start);
  for (uint64_t i = 0; i < n; i++) {
    kv_ref next = kv_zset_next(s, x);
    struct pd_entry *e = kv_entry(s, N(s, x)->ent);
    /* The member bytes live in the entry: unlink the node first, the entry last. */
    kv_ref ent = N(s, x)->ent;
    zsl_delete(s, zr, N(s, x)->score, e->key, e->klen);
    e = kv_entry(s, ent);
    ph_free(s->heap, pd_unlink(s->heap, Z(s, zr)->dict, e->key, e->klen));
    x = next;
  }
  pd_maybe_shrink(s->heap, Z(s, zr)->dict);
}

void kv_zset_free(struct kv_store *s, kv_ref zr) {
  struct kv_zset *z = Z(s, zr);
  kv_ref x = N(s, z->head)->lv[0].fwd;
  while (x != KV_NULL) {
    kv_ref next = N(s, x)->lv[0].fwd;
    ph_free(s->heap, x);
    x = next;
  }
  ph_free(s->heap, z->head);
  pd_destroy(s->heap, z->dict, NULL, NULL);
  ph_free(s->heap, zr);
}

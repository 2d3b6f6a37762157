/* The reference table and the comparisons (see check.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

int checker_init(struct checker *c, uint32_t nkeys) {
  memset(c, 0, sizeof *c);
  c->ref = calloc(nkeys, sizeof *c->ref);
  c->seen = calloc(nkeys, 1);
  c->nkeys = nkeys;
  if (c->ref == NULL || c->seen == NULL) {
    checker_uninit(c);
    return -1;
  }
  return 0;
}

void checker_uninit(struct checker *c) {
  if (c->ref != NULL)
    for (uint32_t i = 0; i < c->nkeys; i++) free(c->ref[i].val);
  free(c->ref);
  free(c->seen);
  c->ref = NULL;
  c->seen = NULL;
}

bool checker_put(struct checker *c, uint32_t id, const unsigned char *val, uint32_t vlen) {
  struct ref_slot *s = &c->ref[id];
  unsigned char *copy = NULL;
  if (vlen > 0) {
    copy = malloc(vlen);
    if (copy == NULL) return false;
    memcpy(copy, val, vlen);
  }
  free(s->val);
  s->val = copy;
  s->vlen = vlen;
  if (!s->present) c->count++;
  s->present = true;
  return true;
}

void checker_del(struct checker *c, uint32_t id) {
  struct ref_slot *s = &c->ref[id];
  if (s->present) c->count--;
  free(s->val);
  *s = (struct ref_slot){0};
}

uint32_t key_encode(uint32_t id, unsigned char out[HT_KEY_MAX]) {
  char head[16];
  snprintf(head, sizeof head, "k%08x", id);
  memcpy(out, head, 9);
  /* A filler of 1..29 letters, also a function of the id, so lengths vary. */
  uint32_t fill = 1 + (id * 7u) % 29u;
  for (uint32_t j = 0; j < fill; j++) out[9 + j] = (unsigned char)('a' + (id + j) % 26u);
  return 9 + fill;
}

bool key_decode(const unsigned char *key, uint32_t klen, uint32_t *id) {
  if (klen < 10 || klen > HT_KEY_MAX || key[0] != 'k') return false;
  uint32_t v = 0;
  for (int i = 1; i < 9; i++) {
    unsigned char ch = key[i];
    int d = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
    if (d < 0) return false;
    v = v * 16 + (uint32_t)d;
  }
  unsigned char expect[HT_KEY_MAX];
  if (key_encode(v, expect) != klen || memcmp(expect, key, klen) != 0) return false;
  *id = v;
  return true;
}

void check_fail(struct checker *c, const char *fmt, ...) {
  if (++c->failures > HT_MAX_REPORTS) return;
  va_list ap;
  va_start(ap, fmt);
  printf("  FAIL ");
  vprintf(fmt, ap);
  printf("\n");
  va_end(ap);
  if (c->failures == HT_MAX_REPORTS) printf("  FAIL (further failures not shown)\n");
  fflush(stdout);
}

void check_lookup(struct checker *c, uint32_t id, const struct ht_entry *e) {
  const struct ref_slot *s = &c->ref[id];
  if (!s->present) {
    if (e != NULL) check_fail(c, "lookup of absent key %u found an entry (vlen %u)", id, e->vlen);
    return;
  }
  if (e == NULL) {
    check_fail(c, "lookup of key %u (vlen %u) found nothing", id, s->vlen);
    return;
  }
  if (e->vlen != s->vlen) {
    check_fail(c, "key %u: value length %u, want %u", id, e->vlen, s->vlen);
    return;
  }
  if (s->vlen > 0 && memcmp(ht_entry_value(e), s->val, s->vlen) != 0)
    check_fail(c, "key %u: value bytes differ from the reference (%u bytes)", id, s->vlen);
}

/* Checks one entry found in bucket b; returns false if the walk must stop. */
static bool check_entry(struct checker *c, const struct ht_table *t, uint64_t b,
                        const struct ht_entry *e, const char *when) {
  uint32_t id;
  if (!key_decode(ht_entry_key(e), e->klen, &id) || id >= c->nkeys) {
    check_fail(c, "%s: bucket %llu holds an entry with a malformed key (klen %u)", when,
               (unsigned long long)b, e->klen);
    return e->klen <= HT_KEY_MAX;
  }
  if (e->hash != ht_hash(t->hash_seed, ht_entry_key(e), e->klen))
    check_fail(c, "%s: key %u: stored hash is wrong", when, id);
  if ((e->hash & (t->nbuckets - 1)) != b)
    check_fail(c, "%s: key %u in bucket %llu, belongs in %llu", when, id, (unsigned long long)b,
               (unsigned long long)(e->hash & (t->nbuckets - 1)));
  if (e->cap < sizeof *e + e->klen + e->vlen)
    check_fail(c, "%s: key %u: cap %u smaller than the entry", when, id, e->cap);
  if (c->seen[id]) check_fail(c, "%s: key %u is in the table twice", when, id);
  c->seen[id] = 1;
  check_lookup(c, id, e);
  return true;
}

void check_table(struct checker *c, const struct ht *h, const char *when) {
  const struct ht_table *t = h->t;
  c->full_verifies++;
  if (t->magic != HT_MAGIC) {
    check_fail(c, "%s: table header magic is 0x%016llx", when, (unsigned long long)t->magic);
    return;
  }
  uint64_t nb = t->nbuckets;
  if (nb < HT_MIN_BUCKETS || (nb & (nb - 1)) != 0) {
    check_fail(c, "%s: nbuckets %llu is not a power of two >= %d", when, (unsigned long long)nb, HT_MIN_BUCKETS);
    return;
  }
  memset(c->seen, 0, c->nkeys);
  uint64_t n = 0, longest = 0, used = 0;
  for (uint64_t b = 0; b < nb; b++) {
    uint64_t len = 0;
    for (const struct ht_entry *e = t->buckets[b]; e != NULL; e = e->next) {
      if (++n > c->count + t->count + 1) {
        check_fail(c, "%s: more entries than ever inserted: a cycle in bucket %llu?", when, (unsigned long long)b);
        return;
      }
      len++;
      if (!check_entry(c, t, b, e, when)) return;
    }
    if (len > longest) longest = len;
    used += len > 0;
  }
  if (n != c->count || t->count != c->count)
    check_fail(c, "%s: %llu entries walked, header count %llu, reference %llu", when, (unsigned long long)n,
               (unsigned long long)t->count, (unsigned long long)c->count);
  if (t->arena.blocks != t->count)
    check_fail(c, "%s: arena holds %llu blocks for %llu entries", when,
               (unsigned long long)t->arena.blocks, (unsigned long long)t->count);
  if (t->resize_failures == 0 && t->count * 4 > nb * 3)
    check_fail(c, "%s: load %llu/%llu above 3/4 without a failed resize", when,
               (unsigned long long)t->count, (unsigned long long)nb);
  c->longest_chain = longest;
  c->mean_chain = used ? (double)n / (double)used : 0.0;
}

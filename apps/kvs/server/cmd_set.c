/* Set commands (Redis 7.0's t_set.c behaviour). A set is a dict in the heap whose
 * entries are the members (no values). SUNION collects into a scratch dict in the
 * heap, so no set is ever copied into local memory; SINTER and SDIFF stream the
 * smallest (or first) set and probe the others. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cmds.h"

#define S srv.store

/* Most repeated picks one SRANDMEMBER with a negative count returns. Redis has no such
 * bound; a reply this large would exhaust the server's memory before it is sent. */
enum { KVS_RANDOM_MAX = 10000000 };

static kv_ref set_dict(kv_ref e) { return kv_entry(S, e)->val; }

void cmd_sadd(struct client *c) {
  int bad;
  kv_ref e = agg_lookup(c, 1, KV_SET, kv_set_new_dict, &bad);
  if (bad) return;
  long long added = 0;
  for (int i = 2; i < c->argc; i++) {
    int existed;
    if (pd_add(S->heap, set_dict(e), c->argv[i], c->argl[i], &existed) == KV_NULL) {
      agg_changed(c, 1, pd_count(S->heap, set_dict(e)));
      return add_oom(c);
    }
    added += !existed;
  }
  if (added) agg_changed(c, 1, 1);
  add_int(c, added);
}

void cmd_srem(struct client *c) {
  int bad;
  kv_ref e = agg_lookup(c, 1, KV_SET, NULL, &bad);
  if (bad) return;
  if (e == KV_NULL) return add_int(c, 0);
  add_int(c, dict_remove_args(c, set_dict(e), 2, 0));
}

void cmd_sismember(struct client *c) {
  int bad;
  kv_ref e = agg_lookup(c, 1, KV_SET, NULL, &bad);
  if (bad) return;
  add_int(c, e != KV_NULL && pd_find(S->heap, set_dict(e), c->argv[2], c->argl[2]) != KV_NULL);
}

void cmd_smismember(struct client *c) {
  int bad;
  kv_ref e = agg_lookup(c, 1, KV_SET, NULL, &bad);
  if (bad) return;
  add_array(c, c->argc - 2);
  for (int i = 2; i < c->argc; i++)
    add_int(c, e != KV_NULL && pd_find(S->heap, set_dict(e), c->argv[i], c->argl[i]) != KV_NULL);
}

void cmd_scard(struct client *c) {
  int bad;
  kv_ref e = agg_lookup(c, 1, KV_SET, NULL, &bad);
  if (bad) return;
  add_int(c, e == KV_NULL ? 0 : (long long)pd_count(S->heap, set_dict(e)));
}

static void member_visit(struct ph_heap *h, kv_ref m, void *arg) {
  struct pd_entry *pm = ph_ptr(h, m);
  add_bulk(arg, pm->key, pm->klen);
}

/* Every member of dict d into the reply (the set header already sent). */
static void emit_all(struct client *c, kv_ref d) {
  uint64_t cursor = 0;
  if (pd_count(S->heap, d) == 0) return;
  do cursor = pd_scan(S->heap, d, cursor, member_visit, c);
  while (cursor != 0);
}

/* Look up keys argv[from..]; dicts[i] is KV_NULL for a missing key. -1 on WRONGTYPE. */
static int lookup_sets(struct client *c, int from, kv_ref *dicts) {
  for (int i = from; i < c->argc; i++) {
    int bad;
    kv_ref e = agg_lookup(c, i, KV_SET, NULL, &bad);
    if (bad) return -1;
    dicts[i - from] = e == KV_NULL ? KV_NULL : set_dict(e);
  }
  return 0;
}

struct probe {
  struct client *c;
  kv_ref scanned; /* the set being walked */
  kv_ref *others;
  int nothers;
  int want_in; /* 1: member of every other (SINTER), 0: of none (SDIFF) */
  long long n;
};

static void probe_visit(struct ph_heap *h, kv_ref m, void *arg) {
  struct probe *p = arg;
  struct pd_entry *pm = ph_ptr(h, m);
  for (int i = 0; i < p->nothers; i++) {
    /* A lookup moves a rehash step, which must not happen to the set being walked
     * (SINTER s s): a member is always in its own set. */
    int in = p->others[i] == p->scanned ||
             (p->others[i] != KV_NULL && pd_find(h, p->others[i], pm->key, pm->klen) != KV_NULL);
    if (in != p->want_in) return;
  }
  add_bulk(p->c, pm->key, pm->klen);
  p->n++;
}

static int by_size(const void *a, const void *b) {
  uint64_t x = pd_count(S->heap, *(const kv_ref *)a), y = pd_count(S->heap, *(const kv_ref *)b);
  return x < y ? -1 : x > y;
}

static void probe_generic(struct client *c, int from, int intersect) {
  int n = c->argc - from;
  kv_ref *dicts = calloc((size_t)n, sizeof *dicts);
  if (dicts == NULL) return add_oom(c);
  if (lookup_sets(c, from, dicts) != 0) goto out;
  if (dicts[0] == KV_NULL) {
    add_set(c, 0);
    goto out;
  }
  if (intersect) {
    for (int i = 0; i < n; i++)
      if (dicts[i] == KV_NULL) {
        add_set(c, 0);
        goto out;
      }
    qsort(dicts, (size_t)n, sizeof *dicts, by_size);
  }
  struct probe p = {c, dicts[0], dicts + 1, n - 1, intersect, 0};
  size_t at = add_deferred_len(c);
  uint64_t cursor = 0;
  do cursor = pd_scan(S->heap, dicts[0], cursor, probe_visit, &p);
  while (cursor != 0);
  set_deferred_array(c, at, p.n);
  /* set_deferred_array writes '*'; a RESP3 set header is '~' with the same digits. */
  if (c->proto == 3 && c->close_asap != 2) c->out.p[at] = '~';
out:
  free(dicts);
}

void cmd_smembers(struct client *c) {
  int bad;
  kv_ref e = agg_lookup(c, 1, KV_SET, NULL, &bad);
  if (bad) return;
  uint64_t n = e == KV_NULL ? 0 : pd_count(S->heap, set_dict(e));
  add_set(c, (long long)n);
  if (n) emit_all(c, set_dict(e));
}

void cmd_sinter(struct client *c) { probe_generic(c, 1, 1); }
void cmd_sdiff(struct client *c) { probe_generic(c, 1, 0); }

struct gather {
  kv_ref into;
  int oom;
};

static void gather_visit(struct ph_heap *h, kv_ref m, void *arg) {
  struct gather *g = arg;
  struct pd_entry *pm = ph_ptr(h, m);
  int existed;
  if (!g->oom && pd_add(h, g->into, pm->key, pm->klen, &existed) == KV_NULL) g->oom = 1;
}

void cmd_sunion(struct client *c) {
  int n = c->argc - 1;
  kv_ref *dicts = calloc((size_t)n, sizeof *dicts);
  if (dicts == NULL) return add_oom(c);
  if (lookup_sets(c, 1, dicts) != 0) goto out;
  kv_ref tmp = pd_create(S->heap);
  struct gather g = {tmp, tmp == KV_NULL};
  for (int i = 0; i < n && !g.oom; i++) {
    if (dicts[i] == KV_NULL || pd_count(S->heap, dicts[i]) == 0) continue;
    uint64_t cursor = 0;
    do cursor = pd_scan(S->heap, dicts[i], cursor, gather_visit, &g);
    while (cursor != 0 && !g.oom);
  }
  if (g.oom) {
    add_oom(c);
  } else {
    add_set(c, (long long)pd_count(S->heap, tmp));
    emit_all(c, tmp);
  }
  if (tmp != KV_NULL) pd_destroy(S->heap, tmp, NULL, NULL);
out:
  free(dicts);
}

/* Unlink member entry m of dict d and free it. */
static void drop_member(kv_ref d, kv_ref m) {
  struct pd_entry *pm = kv_entry(S, m);
  unsigned char small[256];
  size_t len = pm->klen;
  unsigned char *key = len <= sizeof small ? small : malloc(len);
  if (key == NULL) return;
  memcpy(key, pm->key, len);
  ph_free(S->heap, pd_unlink(S->heap, d, key, len));
  if (key != small) free(key);
}

void cmd_spop(struct client *c) {
  if (c->argc > 3) return add_syntax(c);
  long long count = -1;
  if (c->argc == 3 && arg_long_range(c, 2, 0, LLONG_MAX, "value is out of range, must be positive", &count) != 0)
    return;
  int bad;
  kv_ref e = agg_lookup(c, 1, KV_SET, NULL, &bad);
  if (bad) return;
  if (e == KV_NULL) return count == -1 ? add_null(c) : add_set(c, 0);
  if (count == 0) return add_set(c, 0);
  kv_ref d = set_dict(e);
  uint64_t size = pd_count(S->heap, d);
  if (count == -1 || (uint64_t)count < size) {
    uint64_t n = count == -1 ? 1 : (uint64_t)count;
    if (count != -1) add_set(c, (long long)n);
    for (uint64_t i = 0; i < n; i++) {
      kv_ref m = pd_random(S->heap, d, kvs_random());
      add_bulk(c, kv_entry(S, m)->key, kv_entry(S, m)->klen);
      drop_member(d, m);
    }
    pd_maybe_shrink(S->heap, d);
    agg_changed(c, 1, pd_count(S->heap, d));
    return;
  }
  /* Popping at least the whole set: reply with it and delete the key. */
  add_set(c, (long long)size);
  emit_all(c, d);
  agg_changed(c, 1, 0);
}

/* SRANDMEMBER key count with count < size, distinct members: pick at random into a
 * scratch dict in the heap (or, when most of the set is wanted, copy the set there and
 * drop random members), then reply with the scratch dict. */
static void srandmember_distinct(struct client *c, kv_ref d, uint64_t count, uint64_t size) {
  kv_ref tmp = pd_create(S->heap);
  struct gather g = {tmp, tmp == KV_NULL};
  if (!g.oom && count * 3 > size) {
    uint64_t cursor = 0;
    do cursor = pd_scan(S->heap, d, cursor, gather_visit, &g);
    while (cursor != 0 && !g.oom);
    while (!g.oom && pd_count(S->heap, tmp) > count) drop_member(tmp, pd_random(S->heap, tmp, kvs_random()));
  } else {
    while (!g.oom && pd_count(S->heap, tmp) < count) gather_visit(S->heap, pd_random(S->heap, d, kvs_random()), &g);
  }
  if (g.oom) {
    add_oom(c);
  } else {
    add_array(c, (long long)count);
    emit_all(c, tmp);
  }
  if (tmp != KV_NULL) pd_destroy(S->heap, tmp, NULL, NULL);
}

void cmd_srandmember(struct client *c) {
  if (c->argc > 3) return add_syntax(c);
  long long count = 0;
  int has_count = c->argc == 3;
  if (has_count && arg_long_range(c, 2, -LLONG_MAX, LLONG_MAX, NULL, &count) != 0) return;
  int bad;
  kv_ref e = agg_lookup(c, 1, KV_SET, NULL, &bad);
  if (bad) return;
  if (e == KV_NULL) return has_count ? add_array(c, 0) : add_null(c);
  kv_ref d = set_dict(e);
  if (!has_count) {
    kv_ref m = pd_random(S->heap, d, kvs_random());
    return add_bulk(c, kv_entry(S, m)->key, kv_entry(S, m)->klen);
  }
  if (count == 0) return add_array(c, 0);
  uint64_t size = pd_count(S->heap, d);
  if (count < -KVS_RANDOM_MAX)
    return add_errorf(c, "SRANDMEMBER count below -%d is refused: the reply would not fit in memory",
                      KVS_RANDOM_MAX);
  if (count < 0) {
    /* Repetitions allowed: -count independent picks. */
    add_array(c, -count);
    for (long long i = 0; i < -count; i++) {
      kv_ref m = pd_random(S->heap, d, kvs_random());
      add_bulk(c, kv_entry(S, m)->key, kv_entry(S, m)->klen);
    }
    return;
  }
  if ((uint64_t)count >= size) {
    add_array(c, (long long)size);
    return emit_all(c, d);
  }
  srandmember_distinct(c, d, (uint64_t)count, size);
}

void cmd_sscan(struct client *c) {
  if (scan_cursor_ok(c, 2) != 0) return;
  int bad;
  kv_ref e = agg_lookup(c, 1, KV_SET, NULL, &bad);
  if (bad) return;
  if (e == KV_NULL) return add_empty_scan(c);
  scan_generic(c, set_dict(e), 2, SCAN_SET);
}

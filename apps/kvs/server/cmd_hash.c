/* Hash commands (Redis 7.0's t_hash.c behaviour). A hash is a dict in the heap whose
 * entries are the fields and whose values are blobs. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cmds.h"

#define S srv.store

static kv_ref hash_dict(kv_ref e) { return kv_entry(S, e)->val; }

static kv_ref field_find(kv_ref e, struct client *c, int i) {
  return pd_find(S->heap, hash_dict(e), c->argv[i], c->argl[i]);
}

/* Set field argv[fi] to bytes; 1 new field, 0 replaced, -1 OOM (replied). */
static int field_set(struct client *c, kv_ref e, const void *f, size_t flen, const void *v, size_t vlen) {
  kv_ref b = kv_blob_new(S, v, vlen);
  if (b == KV_NULL) return add_oom(c), -1;
  int existed;
  kv_ref fe = pd_add(S->heap, hash_dict(e), f, flen, &existed);
  if (fe == KV_NULL) {
    ph_free(S->heap, b);
    return add_oom(c), -1;
  }
  struct pd_entry *pf = kv_entry(S, fe);
  if (existed) ph_free(S->heap, pf->val);
  pf->val = b;
  return !existed;
}

static void hset_generic(struct client *c, int count_reply, const char *name) {
  if (c->argc % 2 == 1) return add_errorf(c, "wrong number of arguments for '%s' command", name);
  int bad;
  kv_ref e = agg_lookup(c, 1, KV_HASH, kv_set_new_dict, &bad);
  if (bad) return;
  long long created = 0;
  for (int i = 2; i < c->argc; i += 2) {
    int r = field_set(c, e, c->argv[i], c->argl[i], c->argv[i + 1], c->argl[i + 1]);
    if (r < 0) {
      agg_changed(c, 1, pd_count(S->heap, hash_dict(e)));
      return;
    }
    created += r;
  }
  agg_changed(c, 1, 1);
  if (count_reply) add_int(c, created);
  else add_ok(c);
}

void cmd_hset(struct client *c) { hset_generic(c, 1, "hset"); }
void cmd_hmset(struct client *c) { hset_generic(c, 0, "hmset"); }

void cmd_hsetnx(struct client *c) {
  int bad;
  kv_ref e = agg_lookup(c, 1, KV_HASH, kv_set_new_dict, &bad);
  if (bad) return;
  if (field_find(e, c, 2) != KV_NULL) return add_int(c, 0);
  int r = field_set(c, e, c->argv[2], c->argl[2], c->argv[3], c->argl[3]);
  agg_changed(c, 1, pd_count(S->heap, hash_dict(e)));
  if (r >= 0) add_int(c, 1);
}

void cmd_hget(struct client *c) {
  int bad;
  kv_ref e = agg_lookup(c, 1, KV_HASH, NULL, &bad);
  if (bad) return;
  kv_ref fe = e == KV_NULL ? KV_NULL : field_find(e, c, 2);
  if (fe == KV_NULL) return add_null(c);
  add_bulk_ref(c, kv_entry(S, fe)->val);
}

void cmd_hmget(struct client *c) {
  int bad;
  kv_ref e = agg_lookup(c, 1, KV_HASH, NULL, &bad);
  if (bad) return;
  add_array(c, c->argc - 2);
  for (int i = 2; i < c->argc; i++) {
    kv_ref fe = e == KV_NULL ? KV_NULL : field_find(e, c, i);
    if (fe == KV_NULL) add_null(c);
    else add_bulk_ref(c, kv_entry(S, fe)->val);
  }
}

void cmd_hdel(struct client *c) {
  int bad;
  kv_ref e = agg_lookup(c, 1, KV_HASH, NULL, &bad);
  if (bad) return;
  if (e == KV_NULL) return add_int(c, 0);
  add_int(c, dict_remove_args(c, hash_dict(e), 2, 1));
}

void cmd_hlen(struct client *c) {
  int bad;
  kv_ref e = agg_lookup(c, 1, KV_HASH, NULL, &bad);
  if (bad) return;
  add_int(c, e == KV_NULL ? 0 : (long long)pd_count(S->heap, hash_dict(e)));
}

void cmd_hexists(struct client *c) {
  int bad;
  kv_ref e = agg_lookup(c, 1, KV_HASH, NULL, &bad);
  if (bad) return;
  add_int(c, e != KV_NULL && field_find(e, c, 2) != KV_NULL);
}

void cmd_hstrlen(struct client *c) {
  int bad;
  kv_ref e = agg_lookup(c, 1, KV_HASH, NULL, &bad);
  if (bad) return;
  kv_ref fe = e == KV_NULL ? KV_NULL : field_find(e, c, 2);
  add_int(c, fe == KV_NULL ? 0 : (long long)kv_blob(S, kv_entry(S, fe)->val)->len);
}

/* HINCRBY*: the hash (created when absent) and the field's current value (NULL when
 * the field is absent). -1 when WRONGTYPE or OOM was replied. */
static int incr_target(struct client *c, kv_ref *e, struct kv_blob **old) {
  int bad;
  *e = agg_lookup(c, 1, KV_HASH, kv_set_new_dict, &bad);
  if (bad) return -1;
  kv_ref fe = field_find(*e, c, 2);
  *old = fe == KV_NULL ? NULL : kv_blob(S, kv_entry(S, fe)->val);
  return 0;
}

void cmd_hincrby(struct client *c) {
  long long by, v = 0;
  if (arg_ll(c, 3, &by) != 0) return;
  kv_ref e;
  struct kv_blob *b;
  if (incr_target(c, &e, &b) != 0) return;
  if (b != NULL && parse_ll_buf(b->data, b->len, &v) != 0) return add_error(c, "hash value is not an integer");
  if ((by < 0 && v < 0 && by < LLONG_MIN - v) || (by > 0 && v > 0 && by > LLONG_MAX - v))
    return add_error(c, "increment or decrement would overflow");
  v += by;
  char buf[32];
  int n = snprintf(buf, sizeof buf, "%lld", v);
  int r = field_set(c, e, c->argv[2], c->argl[2], buf, (size_t)n);
  agg_changed(c, 1, pd_count(S->heap, hash_dict(e)));
  if (r >= 0) add_int(c, v);
}

void cmd_hincrbyfloat(struct client *c) {
  long double by, v = 0;
  if (parse_ldouble_buf(c->argv[3], c->argl[3], &by) != 0) return add_error(c, "value is not a valid float");
  if (isnan(by) || isinf(by)) return add_error(c, "value is NaN or Infinity");
  kv_ref e;
  struct kv_blob *b;
  if (incr_target(c, &e, &b) != 0) return;
  if (b != NULL && parse_ldouble_buf(b->data, b->len, &v) != 0) return add_error(c, "hash value is not a float");
  v += by;
  if (isnan(v) || isinf(v)) return add_error(c, "increment would produce NaN or Infinity");
  char buf[5200];
  int n = fmt_ldouble(buf, sizeof buf, v);
  if (n < 0) return add_error(c, "value is not a valid float");
  int r = field_set(c, e, c->argv[2], c->argl[2], buf, (size_t)n);
  agg_changed(c, 1, pd_count(S->heap, hash_dict(e)));
  if (r >= 0) add_bulk(c, buf, (size_t)n);
}

enum { WANT_KEYS = 1, WANT_VALS = 2 };

struct hwalk {
  struct client *c;
  int what;
};

static void hash_visit(struct ph_heap *h, kv_ref fe, void *arg) {
  struct hwalk *w = arg;
  struct pd_entry *pf = ph_ptr(h, fe);
  if (w->what & WANT_KEYS) add_bulk(w->c, pf->key, pf->klen);
  if (w->what & WANT_VALS) add_bulk_ref(w->c, pf->val);
}

static void hgetall_generic(struct client *c, int what) {
  int bad;
  kv_ref e = agg_lookup(c, 1, KV_HASH, NULL, &bad);
  if (bad) return;
  uint64_t n = e == KV_NULL ? 0 : pd_count(S->heap, hash_dict(e));
  if (what == (WANT_KEYS | WANT_VALS)) add_map(c, (long long)n);
  else add_array(c, (long long)n);
  if (n == 0) return;
  /* Walk the buckets straight into the reply: nothing of the hash is copied first. */
  struct hwalk w = {c, what};
  uint64_t cursor = 0;
  do cursor = pd_scan(S->heap, hash_dict(e), cursor, hash_visit, &w);
  while (cursor != 0);
}

void cmd_hgetall(struct client *c) { hgetall_generic(c, WANT_KEYS | WANT_VALS); }
void cmd_hkeys(struct client *c) { hgetall_generic(c, WANT_KEYS); }
void cmd_hvals(struct client *c) { hgetall_generic(c, WANT_VALS); }

void cmd_hscan(struct client *c) {
  if (scan_cursor_ok(c, 2) != 0) return;
  int bad;
  kv_ref e = agg_lookup(c, 1, KV_HASH, NULL, &bad);
  if (bad) return;
  if (e == KV_NULL) return add_empty_scan(c);
  scan_generic(c, hash_dict(e), 2, SCAN_HASH);
}

/* What the hash, list, set and sorted-set commands share: typed lookup that creates
 * the value on a write, deleting a key whose aggregate became empty (Redis never keeps
 * an empty hash, list, set or sorted set), range-checked integer arguments with
 * Redis's texts, and Redis's score formatting. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmds.h"

#define S srv.store

int arg_long_range(struct client *c, int i, long long min, long long max, const char *msg, long long *out) {
  if (parse_ll_buf(c->argv[i], c->argl[i], out) != 0) {
    add_error(c, msg != NULL ? msg : "value is not an integer or out of range");
    return -1;
  }
  if (*out < min || *out > max) {
    if (msg != NULL) add_error(c, msg);
    else add_errorf(c, "value is out of range, value must between %lld and %lld", min, max);
    return -1;
  }
  return 0;
}

kv_ref kv_set_new_dict(struct kv_store *s) { return pd_create(s->heap); }

kv_ref agg_lookup(struct client *c, int key_arg, uint8_t type, kv_ref (*create)(struct kv_store *), int *bad) {
  kv_ref e = db_lookup_type(c, c->argv[key_arg], c->argl[key_arg], type, bad);
  if (*bad || e != KV_NULL || create == NULL) return e;
  kv_ref v = create(S);
  if (v == KV_NULL) goto oom;
  e = kv_put(S, c->argv[key_arg], c->argl[key_arg], type, v, 0);
  if (e == KV_NULL) {
    kv_value_free(S, type, v);
    goto oom;
  }
  return e;
oom:
  add_oom(c);
  *bad = 1;
  return KV_NULL;
}

void agg_changed(struct client *c, int key_arg, uint64_t remaining) {
  if (remaining == 0) kv_delete(S, c->argv[key_arg], c->argl[key_arg]);
  db_touched(c->argv[key_arg], c->argl[key_arg]);
}

int fmt_score(char *buf, size_t len, double d) {
  if (isnan(d)) return snprintf(buf, len, "nan");
  if (isinf(d)) return snprintf(buf, len, "%s", d > 0 ? "inf" : "-inf");
  if (d == 0) return snprintf(buf, len, "%s", signbit(d) ? "-0" : "0");
  /* double2ll: an integral double within +-LLONG_MAX/2 prints as an integer. */
  if (d >= (double)(-LLONG_MAX / 2) && d <= (double)(LLONG_MAX / 2) && d == (double)(long long)d)
    return snprintf(buf, len, "%lld", (long long)d);
  return snprintf(buf, len, "%.17g", d);
}

void add_empty_scan(struct client *c) {
  add_array(c, 2);
  add_bulk(c, "0", 1);
  add_array(c, 0);
}

/* parseScanCursorOrReply: strtoul's rules, so "" is 0 and "-1" wraps, as in Redis. */
int scan_cursor_ok(struct client *c, int i) {
  char cbuf[32];
  if (c->argl[i] >= sizeof cbuf) return add_error(c, "invalid cursor"), -1;
  memcpy(cbuf, c->argv[i], c->argl[i]);
  cbuf[c->argl[i]] = 0;
  char *end;
  errno = 0;
  (void)strtoull(cbuf, &end, 10);
  if (isspace((unsigned char)cbuf[0]) || *end != 0 || errno == ERANGE) return add_error(c, "invalid cursor"), -1;
  return 0;
}

long long dict_remove_args(struct client *c, kv_ref d, int from, int free_vals) {
  long long n = 0;
  for (int i = from; i < c->argc; i++) {
    kv_ref m = pd_unlink(S->heap, d, c->argv[i], c->argl[i]);
    if (m == KV_NULL) continue;
    if (free_vals) ph_free(S->heap, kv_entry(S, m)->val);
    ph_free(S->heap, m);
    n++;
  }
  if (n) {
    pd_maybe_shrink(S->heap, d);
    agg_changed(c, 1, pd_count(S->heap, d));
  }
  return n;
}

/* Up to LAZYFREE_MS of every tick (10% of the time at 10 Hz) frees deleted large
 * aggregates, in steps small enough to check the clock between them. */
enum { LAZYFREE_MS = 10, LAZYFREE_STEP = 256 };

void lazyfree_tick(int64_t now) {
  if (*ph_root(S->heap, KV_ROOT_GARBAGE) == KV_NULL) return;
  int64_t deadline = now + LAZYFREE_MS;
  while (kv_lazyfree_step(S, LAZYFREE_STEP) && now_ms() < deadline) {
  }
  /* Freeing changes the heap like a command does: sync it on the same schedule. */
  srv.dirty++;
}

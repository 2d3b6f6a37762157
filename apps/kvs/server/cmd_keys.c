/* Generic key commands and the SCAN family. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmds.h"

#define S srv.store

static const char *type_name(uint8_t t) {
  switch (t) {
  case KV_STRING: return "string";
  case KV_LIST: return "list";
  case KV_SET: return "set";
  case KV_ZSET: return "zset";
  case KV_HASH: return "hash";
  default: return "none";
  }
}

static void del_generic(struct client *c) {
  long long n = 0;
  for (int i = 1; i < c->argc; i++) {
    if (db_lookup(c, c->argv[i], c->argl[i]) == KV_NULL) continue;
    n += kv_delete(S, c->argv[i], c->argl[i]);
    db_touched(c->argv[i], c->argl[i]);
  }
  add_int(c, n);
}

void cmd_del(struct client *c) { del_generic(c); }
void cmd_unlink(struct client *c) { del_generic(c); }

void cmd_exists(struct client *c) {
  long long n = 0;
  for (int i = 1; i < c->argc; i++) n += db_lookup(c, c->argv[i], c->argl[i]) != KV_NULL;
  add_int(c, n);
}

void cmd_type(struct client *c) {
  kv_ref e = db_lookup(c, c->argv[1], c->argl[1]);
  add_simple(c, e == KV_NULL ? "none" : type_name(kv_entry(S, e)->type));
}

enum { X_NX = 1, X_XX = 2, X_GT = 4, X_LT = 8 };

static void expire_generic(struct client *c, int64_t base, int seconds, const char *cmd) {
  int flags = 0;
  for (int j = 3; j < c->argc; j++) {
    if (arg_eq(c, j, "nx")) flags |= X_NX;
    else if (arg_eq(c, j, "xx")) flags |= X_XX;
    else if (arg_eq(c, j, "gt")) flags |= X_GT;
    else if (arg_eq(c, j, "lt")) flags |= X_LT;
    else return add_errorf(c, "Unsupported option %.*s", (int)c->argl[j], (const char *)c->argv[j]);
  }
  if ((flags & X_NX) && (flags & (X_XX | X_GT | X_LT)))
    return add_error(c, "NX and XX, GT or LT options at the same time are not compatible");
  if ((flags & X_GT) && (flags & X_LT)) return add_error(c, "GT and LT options at the same time are not compatible");
  long long when;
  if (arg_ll(c, 2, &when) != 0) return;
  if (seconds) {
    if (when > LLONG_MAX / 1000 || when < LLONG_MIN / 1000)
      return add_errorf(c, "invalid expire time in '%s' command", cmd);
    when *= 1000;
  }
  if (when > LLONG_MAX - base) return add_errorf(c, "invalid expire time in '%s' command", cmd);
  when += base;
  kv_ref e = db_lookup(c, c->argv[1], c->argl[1]);
  if (e == KV_NULL) return add_int(c, 0);
  int64_t cur = kv_entry(S, e)->aux ? kv_entry(S, e)->aux : -1;
  if ((flags & X_NX) && cur != -1) return add_int(c, 0);
  if ((flags & X_XX) && cur == -1) return add_int(c, 0);
  if ((flags & X_GT) && (when <= cur || cur == -1)) return add_int(c, 0);
  if ((flags & X_LT) && cur != -1 && when >= cur) return add_int(c, 0);
  if (when <= srv.now_ms) kv_delete(S, c->argv[1], c->argl[1]);
  else kv_set_expire(S, e, when);
  db_touched(c->argv[1], c->argl[1]);
  add_int(c, 1);
}

void cmd_expire(struct client *c) { expire_generic(c, srv.now_ms, 1, "expire"); }
void cmd_pexpire(struct client *c) { expire_generic(c, srv.now_ms, 0, "pexpire"); }
void cmd_expireat(struct client *c) { expire_generic(c, 0, 1, "expireat"); }
void cmd_pexpireat(struct client *c) { expire_generic(c, 0, 0, "pexpireat"); }

static void ttl_generic(struct client *c, int ms) {
  kv_ref e = db_lookup(c, c->argv[1], c->argl[1]);
  if (e == KV_NULL) return add_int(c, -2);
  int64_t when = kv_entry(S, e)->aux;
  if (when == 0) return add_int(c, -1);
  int64_t ttl = when - srv.now_ms;
  if (ttl < 0) ttl = 0;
  add_int(c, ms ? ttl : (ttl + 500) / 1000);
}

void cmd_ttl(struct client *c) { ttl_generic(c, 0); }
void cmd_pttl(struct client *c) { ttl_generic(c, 1); }

void cmd_persist(struct client *c) {
  kv_ref e = db_lookup(c, c->argv[1], c->argl[1]);
  if (e == KV_NULL || kv_entry(S, e)->aux == 0) return add_int(c, 0);
  kv_set_expire(S, e, 0);
  db_touched(c->argv[1], c->argl[1]);
  add_int(c, 1);
}

struct collect {
  struct client *c;
  const unsigned char *pat;
  size_t plen;
  int kind;
  int type;  /* SCAN TYPE filter, -1 none */
  long long n;
  int64_t now; /* INT64_MAX: entries without expiry (inside a value) */
};

static void keys_visit(struct ph_heap *h, kv_ref e, void *arg) {
  struct collect *k = arg;
  struct pd_entry *pe = ph_ptr(h, e);
  if (k->now != INT64_MAX && pe->aux != 0 && pe->aux <= k->now) return;
  if (k->type >= 0 && pe->type != k->type) return;
  if (k->pat != NULL && !glob_match(k->pat, k->plen, pe->key, pe->klen, 0)) return;
  add_bulk(k->c, pe->key, pe->klen);
  k->n++;
  if (k->kind == SCAN_HASH) {
    add_bulk_ref(k->c, pe->val);
    k->n++;
  } else if (k->kind == SCAN_ZSET) {
    /* ZSCAN gives scores as bulk strings (d2string), also under RESP3. */
    double d;
    memcpy(&d, &pe->aux, sizeof d);
    char buf[64];
    add_bulk(k->c, buf, (size_t)fmt_score(buf, sizeof buf, d));
    k->n++;
  }
}

void cmd_keys(struct client *c) {
  struct collect k = {.c = c, .pat = c->argv[1], .plen = c->argl[1], .kind = SCAN_KEYS, .type = -1,
                      .now = srv.now_ms};
  if (c->argl[1] == 1 && c->argv[1][0] == '*') k.pat = NULL;
  size_t at = add_deferred_len(c);
  uint64_t cursor = 0;
  do cursor = pd_scan(S->heap, S->keys, cursor, keys_visit, &k);
  while (cursor != 0);
  set_deferred_array(c, at, k.n);
}

static int type_code(struct client *c, int i) {
  static const char *names[] = {"string", "list", "set", "zset", "hash"};
  for (int t = 0; t < 5; t++)
    if (arg_eq(c, i, names[t])) return t + 1;
  return 99; /* an unknown type matches nothing, as in Redis */
}

/* SCAN cursor [MATCH p] [COUNT n] [TYPE t], and HSCAN/SSCAN/ZSCAN key cursor ... */
void scan_generic(struct client *c, kv_ref dict, int ci, int kind) {
  if (scan_cursor_ok(c, ci) != 0) return;
  char cbuf[32];
  memcpy(cbuf, c->argv[ci], c->argl[ci]);
  cbuf[c->argl[ci]] = 0;
  unsigned long long cursor = strtoull(cbuf, NULL, 10);
  struct collect k = {.c = c, .kind = kind, .type = -1, .now = srv.now_ms};
  long long count = 10;
  for (int j = ci + 1; j < c->argc; j++) {
    int last = j + 1 >= c->argc;
    if (arg_eq(c, j, "count") && !last) {
      if (arg_ll(c, j + 1, &count) != 0) return;
      if (count < 1) return add_syntax(c);
      j++;
    } else if (arg_eq(c, j, "match") && !last) {
      k.pat = c->argv[j + 1];
      k.plen = c->argl[j + 1];
      if (k.plen == 1 && k.pat[0] == '*') k.pat = NULL;
      j++;
    } else if (arg_eq(c, j, "type") && !last && kind == SCAN_KEYS) {
      k.type = type_code(c, j + 1);
      j++;
    } else {
      return add_syntax(c);
    }
  }
  if (kind != SCAN_KEYS) k.now = INT64_MAX; /* aux is not an expiry inside a value */
  add_array(c, 2);
  size_t cur_at = add_deferred_len(c);
  size_t at = add_deferred_len(c);
  /* Redis answers a small hash or sorted set (a listpack) whole, with cursor 0. */
  int whole = dict != KV_NULL && (kind == SCAN_HASH || kind == SCAN_ZSET) && pd_count(S->heap, dict) <= 128;
  uint64_t next = cursor;
  if (dict != KV_NULL) {
    long long visits = whole ? LLONG_MAX : count * 10;
    do {
      next = pd_scan(S->heap, dict, next, keys_visit, &k);
    } while (next != 0 && (whole || (visits-- > 0 && k.n < count)));
  } else {
    next = 0;
  }
  /* Fill the two deferred headers: the cursor bulk and the element array. */
  char num[32];
  int len = snprintf(num, sizeof num, "%llu", (unsigned long long)next);
  char head[64];
  int hl = snprintf(head, sizeof head, "$%d\r\n%s\r\n", len, num);
  /* Rewrite the first deferred slot as a bulk string by hand. */
  if (c->close_asap != 2) {
    size_t tail = c->out.len - (cur_at + 24);
    memmove(c->out.p + cur_at + hl, c->out.p + cur_at + 24, tail);
    memcpy(c->out.p + cur_at, head, (size_t)hl);
    c->out.len = cur_at + (size_t)hl + tail;
    at -= 24 - (size_t)hl;
  }
  set_deferred_array(c, at, k.n);
}

void cmd_scan(struct client *c) { scan_generic(c, S->keys, 1, SCAN_KEYS); }

static void rename_generic(struct client *c, int nx) {
  kv_ref src = db_lookup(c, c->argv[1], c->argl[1]);
  if (src == KV_NULL) return add_error(c, "no such key");
  if (c->argl[1] == c->argl[2] && memcmp(c->argv[1], c->argv[2], c->argl[1]) == 0)
    return nx ? add_int(c, 0) : add_ok(c);
  if (nx && db_lookup(c, c->argv[2], c->argl[2]) != KV_NULL) return add_int(c, 0);
  int rc = kv_rename(S, c->argv[1], c->argl[1], c->argv[2], c->argl[2]);
  if (rc < 0) return add_oom(c);
  db_touched(c->argv[1], c->argl[1]);
  db_touched(c->argv[2], c->argl[2]);
  if (nx) add_int(c, 1);
  else add_ok(c);
}

void cmd_rename(struct client *c) { rename_generic(c, 0); }
void cmd_renamenx(struct client *c) { rename_generic(c, 1); }

void cmd_randomkey(struct client *c) {
  for (int tries = 0; tries < 100; tries++) {
    kv_ref e = pd_random(S->heap, S->keys, kvs_random());
    if (e == KV_NULL) break;
    struct pd_entry *pe = kv_entry(S, e);
    if (pe->aux != 0 && pe->aux <= srv.now_ms) continue;
    return add_bulk(c, pe->key, pe->klen);
  }
  add_null(c);
}

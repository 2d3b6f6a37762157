/* The command table and dispatch: lookup, arity, authentication, MULTI queueing,
 * and EXEC/DISCARD/WATCH, with Redis 7.0's checks in Redis's order. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmds.h"

#define W "write"
static const struct kvs_command table[] = {
    {"ping", cmd_ping, -1, "fast", 0, 0, 0, "connection"},
    {"echo", cmd_echo, 2, "fast", 0, 0, 0, "connection"},
    {"quit", cmd_quit, -1, "allow_busy no_auth fast", 0, 0, 0, "connection"},
    {"select", cmd_select, 2, "loading stale fast", 0, 0, 0, "connection"},
    {"auth", cmd_auth, -2, "noscript loading stale fast no_auth allow_busy", 0, 0, 0, "connection"},
    {"hello", cmd_hello, -1, "noscript loading stale fast no_auth allow_busy", 0, 0, 0, "connection"},
    {"client", cmd_client, -2, "", 0, 0, 0, "connection"},
    {"reset", cmd_reset, 1, "noscript loading stale fast no_auth allow_busy", 0, 0, 0, "connection"},
    {"info", cmd_info, -1, "loading stale", 0, 0, 0, "server"},
    {"dbsize", cmd_dbsize, 1, "readonly fast", 0, 0, 0, "server"},
    {"flushdb", cmd_flushdb, -1, W, 0, 0, 0, "server"},
    {"flushall", cmd_flushall, -1, W, 0, 0, 0, "server"},
    {"save", cmd_save, 1, "admin noscript", 0, 0, 0, "server"},
    {"bgsave", cmd_bgsave, -1, "admin noscript", 0, 0, 0, "server"},
    {"lastsave", cmd_lastsave, 1, "loading stale fast", 0, 0, 0, "server"},
    {"time", cmd_time, 1, "loading stale fast", 0, 0, 0, "server"},
    {"command", cmd_command, -1, "loading stale", 0, 0, 0, "server"},
    {"config", cmd_config, -2, "", 0, 0, 0, "server"},
    {"shutdown", cmd_shutdown, -1, "admin noscript loading stale no_multi", 0, 0, 0, "server"},
    {"multi", cmd_multi, 1, "noscript loading stale fast allow_busy", 0, 0, 0, "transactions"},
    {"exec", cmd_exec, 1, "noscript loading stale skip_slowlog", 0, 0, 0, "transactions"},
    {"discard", cmd_discard, 1, "noscript loading stale fast allow_busy", 0, 0, 0, "transactions"},
    {"watch", cmd_watch, -2, "noscript loading stale fast allow_busy", 1, -1, 1, "transactions"},
    {"unwatch", cmd_unwatch, 1, "noscript loading stale fast allow_busy", 0, 0, 0, "transactions"},
    {"get", cmd_get, 2, "readonly fast", 1, 1, 1, "string"},
    {"set", cmd_set, -3, W " denyoom", 1, 1, 1, "string"},
    {"setnx", cmd_setnx, 3, W " denyoom fast", 1, 1, 1, "string"},
    {"setex", cmd_setex, 4, W " denyoom", 1, 1, 1, "string"},
    {"psetex", cmd_psetex, 4, W " denyoom", 1, 1, 1, "string"},
    {"getset", cmd_getset, 3, W " denyoom fast", 1, 1, 1, "string"},
    {"getdel", cmd_getdel, 2, W " fast", 1, 1, 1, "string"},
    {"getex", cmd_getex, -2, W " fast", 1, 1, 1, "string"},
    {"mget", cmd_mget, -2, "readonly fast", 1, -1, 1, "string"},
    {"mset", cmd_mset, -3, W " denyoom", 1, -1, 2, "string"},
    {"msetnx", cmd_msetnx, -3, W " denyoom", 1, -1, 2, "string"},
    {"incr", cmd_incr, 2, W " denyoom fast", 1, 1, 1, "string"},
    {"decr", cmd_decr, 2, W " denyoom fast", 1, 1, 1, "string"},
    {"incrby", cmd_incrby, 3, W " denyoom fast", 1, 1, 1, "string"},
    {"decrby", cmd_decrby, 3, W " denyoom fast", 1, 1, 1, "string"},
    {"incrbyfloat", cmd_incrbyfloat, 3, W " denyoom fast", 1, 1, 1, "string"},
    {"append", cmd_append, 3, W " denyoom fast", 1, 1, 1, "string"},
    {"strlen", cmd_strlen, 2, "readonly fast", 1, 1, 1, "string"},
    {"getrange", cmd_getrange, 4, "readonly", 1, 1, 1, "string"},
    {"setrange", cmd_setrange, 4, W " denyoom", 1, 1, 1, "string"},
    {"del", cmd_del, -2, W, 1, -1, 1, "generic"},
    {"unlink", cmd_unlink, -2, W " fast", 1, -1, 1, "generic"},
    {"exists", cmd_exists, -2, "readonly fast", 1, -1, 1, "generic"},
    {"type", cmd_type, 2, "readonly fast", 1, 1, 1, "generic"},
    {"expire", cmd_expire, -3, W " fast", 1, 1, 1, "generic"},
    {"pexpire", cmd_pexpire, -3, W " fast", 1, 1, 1, "generic"},
    {"expireat", cmd_expireat, -3, W " fast", 1, 1, 1, "generic"},
    {"pexpireat", cmd_pexpireat, -3, W " fast", 1, 1, 1, "generic"},
    {"ttl", cmd_ttl, 2, "readonly fast", 1, 1, 1, "generic"},
    {"pttl", cmd_pttl, 2, "readonly fast", 1, 1, 1, "generic"},
    {"persist", cmd_persist, 2, W " fast", 1, 1, 1, "generic"},
    {"keys", cmd_keys, 2, "readonly", 0, 0, 0, "generic"},
    {"scan", cmd_scan, -2, "readonly", 0, 0, 0, "generic"},
    {"rename", cmd_rename, 3, W, 1, 2, 1, "generic"},
    {"renamenx", cmd_renamenx, 3, W " fast", 1, 2, 1, "generic"},
    {"randomkey", cmd_randomkey, 1, "readonly", 0, 0, 0, "generic"},
    {"hset", cmd_hset, -4, W " denyoom fast", 1, 1, 1, "hash"},
    {"hsetnx", cmd_hsetnx, 4, W " denyoom fast", 1, 1, 1, "hash"},
    {"hget", cmd_hget, 3, "readonly fast", 1, 1, 1, "hash"},
    {"hdel", cmd_hdel, -3, W " fast", 1, 1, 1, "hash"},
    {"hgetall", cmd_hgetall, 2, "readonly", 1, 1, 1, "hash"},
    {"hlen", cmd_hlen, 2, "readonly fast", 1, 1, 1, "hash"},
    {"hexists", cmd_hexists, 3, "readonly fast", 1, 1, 1, "hash"},
    {"hincrby", cmd_hincrby, 4, W " denyoom fast", 1, 1, 1, "hash"},
    {"hincrbyfloat", cmd_hincrbyfloat, 4, W " denyoom fast", 1, 1, 1, "hash"},
    {"hkeys", cmd_hkeys, 2, "readonly", 1, 1, 1, "hash"},
    {"hvals", cmd_hvals, 2, "readonly", 1, 1, 1, "hash"},
    {"hmget", cmd_hmget, -3, "readonly fast", 1, 1, 1, "hash"},
    {"hmset", cmd_hmset, -4, W " denyoom fast", 1, 1, 1, "hash"},
    {"hscan", cmd_hscan, -3, "readonly", 1, 1, 1, "hash"},
    {"hstrlen", cmd_hstrlen, 3, "readonly fast", 1, 1, 1, "hash"},
    {"lpush", cmd_lpush, -3, W " denyoom fast", 1, 1, 1, "list"},
    {"rpush", cmd_rpush, -3, W " denyoom fast", 1, 1, 1, "list"},
    {"lpushx", cmd_lpushx, -3, W " denyoom fast", 1, 1, 1, "list"},
    {"rpushx", cmd_rpushx, -3, W " denyoom fast", 1, 1, 1, "list"},
    {"lpop", cmd_lpop, -2, W " fast", 1, 1, 1, "list"},
    {"rpop", cmd_rpop, -2, W " fast", 1, 1, 1, "list"},
    {"llen", cmd_llen, 2, "readonly fast", 1, 1, 1, "list"},
    {"lrange", cmd_lrange, 4, "readonly", 1, 1, 1, "list"},
    {"lindex", cmd_lindex, 3, "readonly", 1, 1, 1, "list"},
    {"lset", cmd_lset, 4, W " denyoom", 1, 1, 1, "list"},
    {"lrem", cmd_lrem, 4, W, 1, 1, 1, "list"},
    {"ltrim", cmd_ltrim, 4, W, 1, 1, 1, "list"},
    {"linsert", cmd_linsert, 5, W " denyoom", 1, 1, 1, "list"},
    {"lpos", cmd_lpos, -3, "readonly", 1, 1, 1, "list"},
    {"sadd", cmd_sadd, -3, W " denyoom fast", 1, 1, 1, "set"},
    {"srem", cmd_srem, -3, W " fast", 1, 1, 1, "set"},
    {"smembers", cmd_smembers, 2, "readonly", 1, 1, 1, "set"},
    {"sismember", cmd_sismember, 3, "readonly fast", 1, 1, 1, "set"},
    {"smismember", cmd_smismember, -3, "readonly fast", 1, 1, 1, "set"},
    {"scard", cmd_scard, 2, "readonly fast", 1, 1, 1, "set"},
    {"spop", cmd_spop, -2, W " fast", 1, 1, 1, "set"},
    {"srandmember", cmd_srandmember, -2, "readonly", 1, 1, 1, "set"},
    {"sinter", cmd_sinter, -2, "readonly", 1, -1, 1, "set"},
    {"sunion", cmd_sunion, -2, "readonly", 1, -1, 1, "set"},
    {"sdiff", cmd_sdiff, -2, "readonly", 1, -1, 1, "set"},
    {"sscan", cmd_sscan, -3, "readonly", 1, 1, 1, "set"},
    {"zadd", cmd_zadd, -4, W " denyoom fast", 1, 1, 1, "sorted_set"},
    {"zrem", cmd_zrem, -3, W " fast", 1, 1, 1, "sorted_set"},
    {"zscore", cmd_zscore, 3, "readonly fast", 1, 1, 1, "sorted_set"},
    {"zmscore", cmd_zmscore, -3, "readonly fast", 1, 1, 1, "sorted_set"},
    {"zcard", cmd_zcard, 2, "readonly fast", 1, 1, 1, "sorted_set"},
    {"zcount", cmd_zcount, 4, "readonly fast", 1, 1, 1, "sorted_set"},
    {"zrange", cmd_zrange, -4, "readonly", 1, 1, 1, "sorted_set"},
    {"zrevrange", cmd_zrevrange, -4, "readonly", 1, 1, 1, "sorted_set"},
    {"zrangebyscore", cmd_zrangebyscore, -4, "readonly", 1, 1, 1, "sorted_set"},
    {"zrank", cmd_zrank, 3, "readonly fast", 1, 1, 1, "sorted_set"},
    {"zrevrank", cmd_zrevrank, 3, "readonly fast", 1, 1, 1, "sorted_set"},
    {"zincrby", cmd_zincrby, 4, W " denyoom fast", 1, 1, 1, "sorted_set"},
    {"zpopmin", cmd_zpopmin, -2, W " fast", 1, 1, 1, "sorted_set"},
    {"zpopmax", cmd_zpopmax, -2, W " fast", 1, 1, 1, "sorted_set"},
    {"zscan", cmd_zscan, -3, "readonly", 1, 1, 1, "sorted_set"},
};
#undef W

enum { NTABLE = sizeof table / sizeof table[0], NSLOTS = 512 };
static const struct kvs_command *slots[NSLOTS];

static unsigned name_hash(const unsigned char *s, size_t n) {
  unsigned h = 5381;
  for (size_t i = 0; i < n; i++) h = h * 33 + (unsigned)tolower(s[i]);
  return h;
}

void command_table_init(void) {
  for (int i = 0; i < NTABLE; i++) {
    const char *n = table[i].name;
    unsigned h = name_hash((const unsigned char *)n, strlen(n)) % NSLOTS;
    while (slots[h] != NULL) h = (h + 1) % NSLOTS;
    slots[h] = &table[i];
  }
}

const struct kvs_command *command_lookup(const unsigned char *name, size_t len) {
  if (len == 0 || len > 32) return NULL;
  unsigned h = name_hash(name, len) % NSLOTS;
  while (slots[h] != NULL) {
    const struct kvs_command *cmd = slots[h];
    if (strlen(cmd->name) == len && strncasecmp(cmd->name, (const char *)name, len) == 0) return cmd;
    h = (h + 1) % NSLOTS;
  }
  return NULL;
}

int command_count(void) { return NTABLE; }
const struct kvs_command *command_at(int i) { return &table[i]; }

static void reply_unknown(struct client *c) {
  /* Redis: the name up to 128 bytes, then quoted arguments while under 128 bytes. */
  char args[512];
  size_t used = 0;
  args[0] = 0;
  for (int i = 1; i < c->argc && used < 128; i++) {
    int room = 128 - (int)used;
    int n = snprintf(args + used, sizeof args - used, "'%.*s' ",
                     (int)(c->argl[i] < (size_t)room ? c->argl[i] : (size_t)room), (const char *)c->argv[i]);
    if (n < 0) break;
    used += (size_t)n;
    if (used >= sizeof args) used = sizeof args - 1;
  }
  add_errorf(c, "unknown command '%.*s', with args beginning with: %s",
             (int)(c->argl[0] < 128 ? c->argl[0] : 128), (const char *)c->argv[0], args);
}

static void queue_command(struct client *c) {
  if (c->mq_len == c->mq_cap) {
    int cap = c->mq_cap ? c->mq_cap * 2 : 8;
    struct queued_cmd *q = realloc(c->mq, (size_t)cap * sizeof *q);
    if (q == NULL) {
      add_oom(c);
      c->multi_err = 1;
      return;
    }
    c->mq = q;
    c->mq_cap = cap;
  }
  struct queued_cmd *q = &c->mq[c->mq_len];
  q->argc = c->argc;
  q->argv = calloc((size_t)c->argc, sizeof *q->argv);
  q->argl = calloc((size_t)c->argc, sizeof *q->argl);
  if (q->argv == NULL || q->argl == NULL) goto oom;
  for (int i = 0; i < c->argc; i++) {
    q->argv[i] = malloc(c->argl[i] + 1);
    if (q->argv[i] == NULL) goto oom;
    memcpy(q->argv[i], c->argv[i], c->argl[i]);
    q->argl[i] = c->argl[i];
  }
  c->mq_len++;
  add_simple(c, "QUEUED");
  return;
oom:
  for (int i = 0; q->argv != NULL && i < c->argc; i++) free(q->argv[i]);
  free(q->argv);
  free(q->argl);
  add_oom(c);
  c->multi_err = 1;
}

void discard_multi(struct client *c) {
  for (int i = 0; i < c->mq_len; i++) {
    for (int j = 0; j < c->mq[i].argc; j++) free(c->mq[i].argv[j]);
    free(c->mq[i].argv);
    free(c->mq[i].argl);
  }
  free(c->mq);
  c->mq = NULL;
  c->mq_len = c->mq_cap = 0;
  c->in_multi = c->multi_err = 0;
  watch_clear(c);
}

static int is_multi_control(const struct kvs_command *cmd) {
  return cmd->fn == cmd_exec || cmd->fn == cmd_discard || cmd->fn == cmd_multi || cmd->fn == cmd_watch ||
         cmd->fn == cmd_quit || cmd->fn == cmd_reset;
}

void process_command(struct client *c) {
  srv.now_ms = now_ms();
  const struct kvs_command *cmd = command_lookup(c->argv[0], c->argl[0]);
  if (cmd == NULL) {
    reply_unknown(c);
    if (c->in_multi) c->multi_err = 1;
    return;
  }
  if ((cmd->arity > 0 && c->argc != cmd->arity) || (cmd->arity < 0 && c->argc < -cmd->arity)) {
    add_errorf(c, "wrong number of arguments for '%s' command", cmd->name);
    if (c->in_multi) c->multi_err = 1;
    return;
  }
  if (srv.cfg.requirepass != NULL && !c->authed && strstr(cmd->flags, "no_auth") == NULL) {
    add_error(c, "-NOAUTH Authentication required.");
    if (c->in_multi) c->multi_err = 1;
    return;
  }
  if (c->in_multi && !is_multi_control(cmd)) {
    if (strstr(cmd->flags, "no_multi") != NULL) {
      add_error(c, "Command not allowed inside a transaction");
      c->multi_err = 1;
      return;
    }
    queue_command(c);
    return;
  }
  srv.stats.commands++;
  cmd->fn(c);
}

void cmd_multi(struct client *c) {
  if (c->in_multi) {
    add_error(c, "MULTI calls can not be nested");
    return;
  }
  c->in_multi = 1;
  add_ok(c);
}

void cmd_discard(struct client *c) {
  if (!c->in_multi) {
    add_error(c, "DISCARD without MULTI");
    return;
  }
  discard_multi(c);
  add_ok(c);
}

void cmd_exec(struct client *c) {
  if (!c->in_multi) {
    add_error(c, "EXEC without MULTI");
    return;
  }
  if (c->multi_err) {
    discard_multi(c);
    add_error(c, "-EXECABORT Transaction discarded because of previous errors.");
    return;
  }
  if (c->watch_dirty || watch_expired(c)) {
    discard_multi(c);
    add_null_array(c);
    return;
  }
  /* Run the queue with the client's argument view pointed at each queued command. */
  struct queued_cmd *q = c->mq;
  int n = c->mq_len;
  c->mq = NULL;
  c->mq_len = c->mq_cap = 0;
  c->in_multi = 0;
  watch_clear(c);
  add_array(c, n);
  for (int i = 0; i < n; i++) {
    c->argc = q[i].argc;
    c->argv = (const unsigned char **)q[i].argv;
    c->argl = q[i].argl;
    const struct kvs_command *cmd = command_lookup(c->argv[0], c->argl[0]);
    srv.stats.commands++;
    cmd->fn(c);
  }
  for (int i = 0; i < n; i++) {
    for (int j = 0; j < q[i].argc; j++) free(q[i].argv[j]);
    free(q[i].argv);
    free(q[i].argl);
  }
  free(q);
  c->argc = 0;
}

void cmd_watch(struct client *c) {
  if (c->in_multi) {
    add_error(c, "WATCH inside MULTI is not allowed");
    return;
  }
  for (int i = 1; i < c->argc; i++) watch_add(c, c->argv[i], c->argl[i]);
  srv.nwatching++;
  add_ok(c);
}

void cmd_unwatch(struct client *c) {
  watch_clear(c);
  add_ok(c);
}

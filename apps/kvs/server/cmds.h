/* Command handlers, one group per file (cmd_*.c); the table is in command.c. */
#ifndef KVS_CMDS_H
#define KVS_CMDS_H

#include "server.h"

#define KVS_CMD(name) void cmd_##name(struct client *c);
#define KVS_SERVER_CMDS(X) X(ping) X(echo) X(quit) X(select) X(auth) X(hello) X(info) X(dbsize) \
  X(flushdb) X(flushall) X(save) X(bgsave) X(lastsave) X(time) X(command) X(config) X(shutdown) \
  X(client) X(multi) X(exec) X(discard) X(watch) X(unwatch) X(reset)
#define KVS_STRING_CMDS(X) X(get) X(set) X(setnx) X(setex) X(psetex) X(getset) X(getdel) X(getex) \
  X(mget) X(mset) X(msetnx) X(incr) X(decr) X(incrby) X(decrby) X(incrbyfloat) X(append) X(strlen) \
  X(getrange) X(setrange)
#define KVS_KEY_CMDS(X) X(del) X(unlink) X(exists) X(type) X(expire) X(pexpire) X(expireat) \
  X(pexpireat) X(ttl) X(pttl) X(persist) X(keys) X(scan) X(rename) X(renamenx) X(randomkey)
#define KVS_HASH_CMDS(X) X(hset) X(hsetnx) X(hget) X(hdel) X(hgetall) X(hlen) X(hexists) X(hincrby) \
  X(hincrbyfloat) X(hkeys) X(hvals) X(hmget) X(hmset) X(hscan) X(hstrlen)
#define KVS_LIST_CMDS(X) X(lpush) X(rpush) X(lpushx) X(rpushx) X(lpop) X(rpop) X(llen) X(lrange) \
  X(lindex) X(lset) X(lrem) X(ltrim) X(linsert) X(lpos)
#define KVS_SET_CMDS(X) X(sadd) X(srem) X(smembers) X(sismember) X(smismember) X(scard) X(spop) \
  X(srandmember) X(sinter) X(sunion) X(sdiff) X(sscan)
#define KVS_ZSET_CMDS(X) X(zadd) X(zrem) X(zscore) X(zmscore) X(zcard) X(zcount) X(zrange) \
  X(zrevrange) X(zrangebyscore) X(zrank) X(zrevrank) X(zincrby) X(zpopmin) X(zpopmax) X(zscan)

KVS_SERVER_CMDS(KVS_CMD)
KVS_STRING_CMDS(KVS_CMD)
KVS_KEY_CMDS(KVS_CMD)
KVS_HASH_CMDS(KVS_CMD)
KVS_LIST_CMDS(KVS_CMD)
KVS_SET_CMDS(KVS_CMD)
KVS_ZSET_CMDS(KVS_CMD)

/* SCAN's and the *SCAN commands' shared option parsing and reply (cmd_keys.c). */
void scan_generic(struct client *c, kv_ref dict, int cursor_arg, int kind);
enum { SCAN_KEYS, SCAN_HASH, SCAN_SET, SCAN_ZSET };

/* Shared by the aggregate types' commands (aggregate.c). */
/* getRangeLongFromObjectOrReply: msg (or Redis's default texts when NULL) on error. */
int arg_long_range(struct client *c, int i, long long min, long long max, const char *msg, long long *out);
/* The key's entry when it holds `type`; KV_NULL when absent (then, with create != NULL,
 * a new value made by create() is stored and its entry returned). On WRONGTYPE or OOM
 * the reply is sent and *bad is set. */
kv_ref agg_lookup(struct client *c, int key_arg, uint8_t type, kv_ref (*create)(struct kv_store *), int *bad);
/* Delete the key at argv[key_arg] when its aggregate has no elements left (as Redis
 * does), and count the change. */
void agg_changed(struct client *c, int key_arg, uint64_t remaining);
/* Redis's d2string: integral scores without a fraction, others with %.17g. */
int fmt_score(char *buf, size_t len, double d);
/* The reply to *SCAN on a missing key: cursor 0, no elements. */
void add_empty_scan(struct client *c);
/* Parse a SCAN cursor (replies "invalid cursor" and returns -1 when bad). */
int scan_cursor_ok(struct client *c, int i);
kv_ref kv_set_new_dict(struct kv_store *s);
/* HDEL/SREM: remove members argv[from..] of dict d (and their blob values when
 * free_vals), shrink, delete the key at argv[1] when empty. Returns how many. */
long long dict_remove_args(struct client *c, kv_ref d, int from, int free_vals);

#endif

/* rum-kvs: the server's shared state, clients, reply helpers and command table.
 *
 * One thread runs everything (like Redis): the event loop (net.c) reads requests,
 * parses them (resp.c), runs commands (cmd_*.c) against the store (core/kv.h) and
 * queues replies; with --sync always the replies of a loop turn go out only after one
 * rum_sync() of everything the turn changed (a group commit). */
#ifndef KVS_SERVER_H
#define KVS_SERVER_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/kv.h"
#include "resp.h"

enum kvs_sync { KVS_SYNC_ALWAYS, KVS_SYNC_EVERYSEC, KVS_SYNC_NO };

enum {
  KVS_OUT_PAUSE = 64 << 20,          /* stop running a client's requests above this */
  KVS_QUERY_LIMIT = 1024u << 20,     /* client-query-buffer-limit */
  KVS_READ_CHUNK = 64 << 10,
  KVS_HZ = 10,                       /* timer ticks per second */
  KVS_OUT_STALL_MS = 5000,           /* a paused client that reads nothing this long is dropped */
};

struct kbuf {
  char *p;
  size_t len, cap, off; /* off: bytes already written to the socket */
};

struct queued_cmd {
  int argc;
  unsigned char **argv;
  size_t *argl;
};

struct mc_conn; /* the memcached front end's state of a client (mc_cmd.c) */

struct client {
  int fd;
  uint64_t id;
  int proto;         /* 2 or 3 (HELLO 3) */
  int authed;
  int close_asap;    /* close once the output is written */
  int memcached;     /* speaks the memcached text protocol */
  int paused;        /* output too large: stop running requests until it drains */
  int want_write;    /* EPOLLOUT registered */
  int pending;       /* on the list of clients with output to send */
  int64_t out_ms;    /* when the output last drained a little, or the client got paused */
  struct mc_conn *mc;
  struct client *next_pending;
  unsigned char *ibuf;
  size_t ilen, icap, ipos, need;
  struct kbuf out;
  struct resp_req req;
  /* The command being run. */
  int argc;
  const unsigned char **argv;
  const size_t *argl;
  /* MULTI/EXEC/WATCH */
  int in_multi, multi_err, watch_dirty, nwatched;
  struct queued_cmd *mq;
  int mq_len, mq_cap;
  int64_t created_ms, last_ms;
  char addr[64];
  char name[64];
};

struct kvs_config {
  int port, memcached_port;
  const char *bind;
  const char *machines;
  const char *store;
  int cache_mb;
  int journal_mb; /* the store's undo journal (kv_open); 0: syncs are not atomic */
  const char *requirepass;
  int maxclients;
  enum kvs_sync sync;
};

struct kvs_stats {
  uint64_t commands, connections, rejected, hits, misses, net_in, net_out, expired_stale;
};

struct server {
  struct kvs_config cfg;
  struct kv_store *store;
  int epfd, listen_fd, mc_listen_fd;
  struct client **by_fd;
  int by_fd_cap;
  int nclients;
  uint64_t next_id;
  struct client *pending;
  struct kvs_stats stats;
  int64_t start_ms, last_save_ms, now_ms;
  uint64_t dirty;        /* changes since start */
  uint64_t synced_dirty; /* dirty at the last rum_sync */
  uint64_t save_dirty;   /* dirty at the last SAVE */
  int64_t last_sync_ms, last_beat_ms;
  int nwatching;         /* clients with WATCHed keys */
  struct watch *watches;
  uint64_t rng;
  volatile sig_atomic_t stop;
  int sync_error;        /* last rum_sync failure (reported in INFO) */
};

extern struct server srv;

/* Replies (reply.c). Errors: msg without a leading '-' gets "ERR " put in front. */
void add_raw(struct client *c, const void *p, size_t n);
void add_simple(struct client *c, const char *s);
void add_error(struct client *c, const char *msg);
void add_errorf(struct client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void add_int(struct client *c, long long v);
void add_bulk(struct client *c, const void *p, size_t n);
void add_bulk_str(struct client *c, const char *s);
void add_null(struct client *c);
void add_null_array(struct client *c);
void add_array(struct client *c, long long n);
void add_map(struct client *c, long long n);
void add_set(struct client *c, long long n);
void add_double(struct client *c, double d);
void add_verbatim(struct client *c, const char *s, size_t n);
void add_ok(struct client *c);
void add_wrongtype(struct client *c);
void add_syntax(struct client *c);
void add_not_int(struct client *c);
void add_oom(struct client *c);
void add_bulk_ref(struct client *c, kv_ref blob);
/* Reserve room for a reply whose array length is known only afterwards. */
size_t add_deferred_len(struct client *c);
void set_deferred_array(struct client *c, size_t at, long long n);
void set_deferred_map(struct client *c, size_t at, long long n);

/* Argument helpers (args.c). */
int arg_eq(struct client *c, int i, const char *word);
int arg_ll(struct client *c, int i, long long *out);     /* replies on error, returns -1 */
int arg_double(struct client *c, int i, double *out);    /* replies on error */
int parse_ll_buf(const unsigned char *p, size_t n, long long *out);
int parse_double_buf(const unsigned char *p, size_t n, double *out);
int parse_ldouble_buf(const unsigned char *p, size_t n, long double *out);
int fmt_ldouble(char *buf, size_t len, long double v);   /* Redis's human-friendly form */
int glob_match(const unsigned char *pat, size_t plen, const unsigned char *s, size_t slen, int nocase);

/* Keys seen by commands (db.c): lookup with type check and lazy expiry. */
kv_ref db_lookup(struct client *c, const unsigned char *key, size_t klen);
/* Lookup expecting type; on mismatch replies WRONGTYPE and sets *bad. */
kv_ref db_lookup_type(struct client *c, const unsigned char *key, size_t klen, uint8_t type, int *bad);
/* A key changed: count it for sync and SAVE, and void WATCHes on it. */
void db_touched(const unsigned char *key, size_t klen);
void db_touched_all(void);
void watch_add(struct client *c, const unsigned char *key, size_t klen);
void watch_clear(struct client *c);
int watch_expired(struct client *c); /* a WATCHed key expired since WATCH */
int64_t now_ms(void);
uint64_t kvs_random(void);

/* Commands. */
struct kvs_command {
  const char *name;
  void (*fn)(struct client *c);
  int arity;
  const char *flags; /* Redis's flag words, space separated */
  int first, last, step;
  const char *group;
};
const struct kvs_command *command_lookup(const unsigned char *name, size_t len);
void command_table_init(void);
int command_count(void);
const struct kvs_command *command_at(int i);
void process_command(struct client *c);
void discard_multi(struct client *c);

/* The memcached front end (mc_cmd.c). */
void mc_client_init(struct client *c);
void mc_client_free(struct client *c);
void mc_process_input(struct client *c); /* run the requests buffered in c->ibuf */
void mc_timer(void);                     /* a delayed flush_all whose time has come */

/* Net (net.c). */
int net_run(void);
void client_free_request_state(struct client *c);
int do_sync(void);
/* The timer's share of freeing deleted large aggregates (aggregate.c). */
void lazyfree_tick(int64_t now);


#endif

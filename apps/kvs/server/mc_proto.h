/* The memcached text protocol request parser (the classic commands of memcached
 * 1.6: get gets gat gats set add replace append prepend cas delete incr decr touch
 * flush_all stats version verbosity quit).
 *
 * Pure, like resp.h: it reads a buffer and fills a request, never touches a socket,
 * a clock or a global, so libFuzzer can feed it (tests/fuzz/fuzz_memcached.c). It
 * is stateless: the caller keeps the unparsed bytes and calls again when more have
 * arrived; `need` says how many bytes to buffer before another call can progress.
 *
 * Memcached's own rules are reproduced, quirks included, because clients and
 * scripts match on them: a line is cut at its first NUL byte (memcached runs
 * strlen on it); tokens are split on spaces only; a line of more than 2048 bytes
 * without a newline closes the connection unless it starts with "get " or "gets ";
 * numbers are read by strtol/strtoul/strtoull and then truncated to 32 bits where
 * memcached truncates; a value too large for memcached's default 1 MB item
 * (-I 1m, counting its 48-byte item header, the key and the CAS) is refused with
 * "SERVER_ERROR object too large for cache" and its data bytes are swallowed
 * without being buffered. */
#ifndef KVS_MC_PROTO_H
#define KVS_MC_PROTO_H

#include <stddef.h>
#include <stdint.h>

enum {
  MC_KEY_MAX = 250,            /* KEY_MAX_LENGTH */
  MC_LINE_MAX = 2048,          /* a line without '\n' longer than this is junk */
  MC_GET_LINE_MAX = 8 << 20,   /* a multiget line longer than this closes (memcached: no limit) */
  MC_MAX_TOKENS = 24,          /* MAX_TOKENS, the terminal token included */
  MC_ITEM_MAX = 1 << 20,       /* memcached's default item_size_max */
  MC_ITEM_HEADER = 48,         /* sizeof(item) on 64-bit memcached */
  MC_REALTIME_MAXDELTA = 60 * 60 * 24 * 30, /* exptimes above this are unix times */
};

enum mc_cmd {
  MC_NONE, MC_GET, MC_GETS, MC_GAT, MC_GATS, MC_SET, MC_ADD, MC_REPLACE, MC_APPEND, MC_PREPEND,
  MC_CAS, MC_DELETE, MC_INCR, MC_DECR, MC_TOUCH, MC_FLUSH_ALL, MC_STATS, MC_VERSION, MC_VERBOSITY,
  MC_QUIT,
};

enum mc_status { MC_PARSE_CLOSE = -1, MC_PARSE_INCOMPLETE = 0, MC_PARSE_OK = 1 };

struct mc_token {
  const unsigned char *p;
  size_t len;
};

/* One parsed request. Pointers point into the caller's buffer and stay valid until
 * the buffer changes. When `error` is set the request must not run: the error line
 * is the reply (unless noreply), then `swallow` bytes of the input that follow the
 * consumed ones are to be discarded. */
struct mc_req {
  enum mc_cmd cmd;
  int noreply;
  const char *error;    /* the reply line without CRLF, or NULL */
  uint64_t swallow;
  struct mc_token key;  /* storage, delete, arithmetic, touch */
  uint32_t flags;
  int32_t exptime;      /* storage, touch, gat, flush_all (as memcached reads it) */
  int has_exptime;      /* flush_all: a delay was given */
  uint64_t cas;         /* cas */
  uint64_t delta;       /* incr, decr */
  uint32_t level;       /* verbosity */
  const unsigned char *data; /* storage: the value (data_len bytes; CRLF checked) */
  size_t data_len;
  struct mc_token arg;  /* stats: the subcommand (len 0 for none) */
  struct mc_token *keys; /* get family: every key, in order */
  int nkeys, keys_cap;
};

/* Parse one request from buf[0..len). Returns MC_PARSE_OK (*consumed bytes),
 * MC_PARSE_INCOMPLETE (*need = total bytes to wait for) or MC_PARSE_CLOSE (junk:
 * memcached drops such a connection without a reply). The key array grows with
 * malloc; a failed allocation yields the error "SERVER_ERROR out of memory". */
int mc_parse(const unsigned char *buf, size_t len, struct mc_req *r, size_t *consumed, size_t *need);

void mc_req_free(struct mc_req *r);

/* Largest value memcached -I 1m accepts for a key of klen bytes with these flags. */
size_t mc_value_max(size_t klen, uint32_t flags);

/* memcached's safe_strtoull over p[0..n) read as a C string (it stops at a NUL, the
 * end counts as a NUL): 0 and *out, or -1. */
int mc_strtoull(const unsigned char *p, size_t n, uint64_t *out);

#endif

/* memcached text protocol parsing, with memcached 1.6's checks in memcached's order
 * and its reply texts (see mc_proto.h for the quirks kept on purpose). */
#include "mc_proto.h"

#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

static const char E_ERROR[] = "ERROR";
static const char E_FORMAT[] = "CLIENT_ERROR bad command line format";
static const char E_CHUNK[] = "CLIENT_ERROR bad data chunk";
static const char E_EXPTIME[] = "CLIENT_ERROR invalid exptime argument";
static const char E_DELTA[] = "CLIENT_ERROR invalid numeric delta argument";
static const char E_DELETE[] = "CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]";
static const char E_TOO_LARGE[] = "SERVER_ERROR object too large for cache";
static const char E_OOM[] = "SERVER_ERROR out of memory";

/* A line split as memcached's tokenize_command splits it: on spaces only, at most
 * MC_MAX_TOKENS - 1 words; `rest` is set when words remain after the last one. */
struct line {
  struct mc_token tok[MC_MAX_TOKENS];
  int ntokens; /* words + the terminal token, as memcached counts */
  int rest;
};

static void tokenize(const unsigned char *p, size_t n, struct line *l) {
  int nw = 0;
  size_t i = 0;
  l->rest = 0;
  while (i < n) {
    while (i < n && p[i] == ' ') i++;
    if (i >= n) break;
    if (nw == MC_MAX_TOKENS - 1) {
      l->rest = 1;
      break;
    }
    size_t start = i;
    while (i < n && p[i] != ' ') i++;
    l->tok[nw].p = p + start;
    l->tok[nw].len = i - start;
    nw++;
  }
  l->ntokens = nw + 1;
}

static int tok_is(const struct mc_token *t, const char *word) {
  size_t n = strlen(word);
  return t->len == n && memcmp(t->p, word, n) == 0;
}

/* The number strtol/strtoull would read from p[0..n) (the end acts as the string's
 * NUL): leading white space, a sign, digits. Returns 0 when there are no digits or
 * the next character is not white space or the end (memcached's safe_* checks);
 * *mag saturates and *overflow says so. */
static int scan_number(const unsigned char *p, size_t n, int *neg, uint64_t *mag, int *overflow) {
  size_t i = 0;
  while (i < n && isspace(p[i])) i++;
  *neg = 0;
  if (i < n && (p[i] == '+' || p[i] == '-')) *neg = p[i++] == '-';
  size_t digits = i;
  uint64_t v = 0;
  *overflow = 0;
  for (; i < n && p[i] >= '0' && p[i] <= '9'; i++) {
    unsigned d = (unsigned)(p[i] - '0');
    if (v > (UINT64_MAX - d) / 10) *overflow = 1;
    else v = v * 10 + d;
  }
  if (i == digits) return 0;
  if (i < n && !isspace(p[i])) return 0;
  *mag = v;
  return 1;
}

static int has_minus(const unsigned char *p, size_t n) { return memchr(p, '-', n) != NULL; }

/* safe_strtoull (and safe_strtoul, the same on a 64-bit long before truncation). */
int mc_strtoull(const unsigned char *p, size_t n, uint64_t *out) {
  const unsigned char *nul = memchr(p, 0, n);
  if (nul != NULL) n = (size_t)(nul - p);
  int neg, overflow;
  uint64_t mag;
  if (!scan_number(p, n, &neg, &mag, &overflow) || overflow) return -1;
  uint64_t v = neg ? 0 - mag : mag;
  if ((int64_t)v < 0 && has_minus(p, n)) return -1;
  *out = v;
  return 0;
}

static int tok_u32(const struct mc_token *t, uint32_t *out) {
  uint64_t v;
  if (mc_strtoull(t->p, t->len, &v) != 0) return -1;
  *out = (uint32_t)v; /* memcached stores strtoul's long in a uint32_t */
  return 0;
}

/* safe_strtol: strtol's range is a 64-bit long, the result is cut to 32 bits. */
static int tok_i32(const struct mc_token *t, int32_t *out) {
  int neg, overflow;
  uint64_t mag;
  if (!scan_number(t->p, t->len, &neg, &mag, &overflow) || overflow) return -1;
  if (!neg && mag > (uint64_t)LONG_MAX) return -1;
  if (neg && mag > (uint64_t)LONG_MAX + 1) return -1;
  uint64_t v = neg ? 0 - mag : mag;
  *out = (int32_t)(uint32_t)v;
  return 0;
}

size_t mc_value_max(size_t klen, uint32_t flags) {
  size_t overhead = MC_ITEM_HEADER + klen + 1 + (flags ? sizeof(uint32_t) : 0) + sizeof(uint64_t) + 2;
  return overhead >= MC_ITEM_MAX ? 0 : MC_ITEM_MAX - overhead;
}

static void set_noreply(struct mc_req *r, const struct line *l) {
  if (l->ntokens >= 2 && tok_is(&l->tok[l->ntokens - 2], "noreply")) r->noreply = 1;
}

static int fail(struct mc_req *r, const char *msg) {
  r->error = msg;
  return MC_PARSE_OK;
}

/* set add replace append prepend cas: the line, then the data block. */
static int parse_storage(const unsigned char *buf, size_t len, size_t cont, const struct line *l,
                         struct mc_req *r, size_t *consumed, size_t *need) {
  int is_cas = r->cmd == MC_CAS;
  if (l->ntokens != (is_cas ? 7 : 6) && l->ntokens != (is_cas ? 8 : 7)) return fail(r, E_ERROR);
  set_noreply(r, l);
  r->key = l->tok[1];
  if (r->key.len > MC_KEY_MAX) return fail(r, E_FORMAT);
  int32_t vlen;
  if (tok_u32(&l->tok[2], &r->flags) != 0 || tok_i32(&l->tok[3], &r->exptime) != 0 ||
      tok_i32(&l->tok[4], &vlen) != 0)
    return fail(r, E_FORMAT);
  if (is_cas && mc_strtoull(l->tok[5].p, l->tok[5].len, &r->cas) != 0) return fail(r, E_FORMAT);
  if (vlen < 0 || vlen > INT_MAX - 2) return fail(r, E_FORMAT);
  size_t total = (size_t)vlen + 2;
  if ((size_t)vlen > mc_value_max(r->key.len, r->flags)) {
    r->swallow = total;
    return fail(r, E_TOO_LARGE);
  }
  if (len - cont < total) {
    *consumed = 0;
    *need = cont + total;
    return MC_PARSE_INCOMPLETE;
  }
  *consumed = cont + total;
  r->data = buf + cont;
  r->data_len = (size_t)vlen;
  if (buf[cont + (size_t)vlen] != '\r' || buf[cont + (size_t)vlen + 1] != '\n') return fail(r, E_CHUNK);
  return MC_PARSE_OK;
}

static int add_key(struct mc_req *r, const unsigned char *p, size_t n) {
  if (r->nkeys == r->keys_cap) {
    int cap = r->keys_cap ? r->keys_cap * 2 : 16;
    struct mc_token *k = realloc(r->keys, (size_t)cap * sizeof *k);
    if (k == NULL) return -1;
    r->keys = k;
    r->keys_cap = cap;
  }
  r->keys[r->nkeys].p = p;
  r->keys[r->nkeys].len = n;
  r->nkeys++;
  return 0;
}

/* get gets gat gats: every key of the line (memcached re-tokenizes past 23 words). */
static int parse_get(const unsigned char *p, size_t n, const struct line *l, struct mc_req *r) {
  if (l->ntokens < 3) return fail(r, E_ERROR);
  int touch = r->cmd == MC_GAT || r->cmd == MC_GATS;
  if (touch && tok_i32(&l->tok[1], &r->exptime) != 0) return fail(r, E_EXPTIME);
  const unsigned char *from = l->tok[touch ? 1 : 0].p + l->tok[touch ? 1 : 0].len;
  size_t i = (size_t)(from - p);
  while (i < n) {
    while (i < n && p[i] == ' ') i++;
    if (i >= n) break;
    size_t start = i;
    while (i < n && p[i] != ' ') i++;
    if (add_key(r, p + start, i - start) != 0) return fail(r, E_OOM);
  }
  return MC_PARSE_OK;
}

static int parse_delete(const struct line *l, struct mc_req *r) {
  if (l->ntokens < 3 || l->ntokens > 5) return fail(r, E_ERROR);
  if (l->ntokens > 3) {
    int hold_is_zero = tok_is(&l->tok[2], "0");
    set_noreply(r, l);
    int valid = (l->ntokens == 4 && (hold_is_zero || r->noreply)) || (l->ntokens == 5 && hold_is_zero && r->noreply);
    if (!valid) return fail(r, E_DELETE);
  }
  r->key = l->tok[1];
  if (r->key.len > MC_KEY_MAX) return fail(r, E_FORMAT);
  return MC_PARSE_OK;
}

/* incr decr touch: a key and a number. */
static int parse_key_number(const struct line *l, struct mc_req *r) {
  if (l->ntokens != 4 && l->ntokens != 5) return fail(r, E_ERROR);
  set_noreply(r, l);
  r->key = l->tok[1];
  if (r->key.len > MC_KEY_MAX) return fail(r, E_FORMAT);
  if (r->cmd == MC_TOUCH) return tok_i32(&l->tok[2], &r->exptime) == 0 ? MC_PARSE_OK : fail(r, E_EXPTIME);
  return mc_strtoull(l->tok[2].p, l->tok[2].len, &r->delta) == 0 ? MC_PARSE_OK : fail(r, E_DELTA);
}

static int parse_flush_all(const struct line *l, struct mc_req *r) {
  if (l->ntokens < 2 || l->ntokens > 4) return fail(r, E_ERROR);
  set_noreply(r, l);
  if (l->ntokens != (r->noreply ? 3 : 2)) {
    if (tok_i32(&l->tok[1], &r->exptime) != 0) return fail(r, E_EXPTIME);
    r->has_exptime = 1;
  }
  return MC_PARSE_OK;
}

static int parse_verbosity(const struct line *l, struct mc_req *r) {
  if (l->ntokens != 3 && l->ntokens != 4) return fail(r, E_ERROR);
  set_noreply(r, l);
  return tok_u32(&l->tok[1], &r->level) == 0 ? MC_PARSE_OK : fail(r, E_FORMAT);
}

static enum mc_cmd command_of(const struct mc_token *t) {
  static const struct {
    const char *name;
    enum mc_cmd cmd;
  } names[] = {{"get", MC_GET},         {"bget", MC_GET},         {"gets", MC_GETS},   {"gat", MC_GAT},
               {"gats", MC_GATS},       {"set", MC_SET},          {"add", MC_ADD},     {"replace", MC_REPLACE},
               {"append", MC_APPEND},   {"prepend", MC_PREPEND},  {"cas", MC_CAS},     {"delete", MC_DELETE},
               {"incr", MC_INCR},       {"decr", MC_DECR},        {"touch", MC_TOUCH}, {"flush_all", MC_FLUSH_ALL},
               {"stats", MC_STATS},     {"version", MC_VERSION},  {"verbosity", MC_VERBOSITY},
               {"quit", MC_QUIT}};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (tok_is(t, names[i].name)) return names[i].cmd;
  return MC_NONE;
}

/* No newline yet: wait, or give up on junk as memcached does. */
static int incomplete_line(const unsigned char *buf, size_t len, size_t *need) {
  if (len > MC_LINE_MAX) {
    size_t i = 0;
    while (i < len && buf[i] == ' ') i++;
    int is_get = (len - i >= 4 && memcmp(buf + i, "get ", 4) == 0) ||
                 (len - i >= 5 && memcmp(buf + i, "gets ", 5) == 0);
    if (i > 100 || !is_get || len > MC_GET_LINE_MAX) return MC_PARSE_CLOSE;
  }
  *need = len + 1;
  return MC_PARSE_INCOMPLETE;
}

int mc_parse(const unsigned char *buf, size_t len, struct mc_req *r, size_t *consumed, size_t *need) {
  struct mc_token *keys = r->keys;
  int keys_cap = r->keys_cap;
  memset(r, 0, sizeof *r);
  r->keys = keys;
  r->keys_cap = keys_cap;
  *consumed = 0;
  *need = 0;
  if (len == 0) return (*need = 1), MC_PARSE_INCOMPLETE;
  const unsigned char *nl = memchr(buf, '\n', len);
  if (nl == NULL) return incomplete_line(buf, len, need);
  size_t end = (size_t)(nl - buf), cont = end + 1;
  if (end > 1 && buf[end - 1] == '\r') end--;
  const unsigned char *nul = memchr(buf, 0, end);
  if (nul != NULL) end = (size_t)(nul - buf); /* memcached sees a C string */
  *consumed = cont;
  struct line l;
  tokenize(buf, end, &l);
  if (l.ntokens < 2 || l.tok[0].len < 2) return fail(r, E_ERROR);
  r->cmd = command_of(&l.tok[0]);
  switch (r->cmd) {
  case MC_GET: case MC_GETS: case MC_GAT: case MC_GATS: return parse_get(buf, end, &l, r);
  case MC_SET: case MC_ADD: case MC_REPLACE: case MC_APPEND: case MC_PREPEND: case MC_CAS:
    return parse_storage(buf, len, cont, &l, r, consumed, need);
  case MC_DELETE: return parse_delete(&l, r);
  case MC_INCR: case MC_DECR: case MC_TOUCH: return parse_key_number(&l, r);
  case MC_FLUSH_ALL: return parse_flush_all(&l, r);
  case MC_VERBOSITY: return parse_verbosity(&l, r);
  case MC_STATS:
    if (l.ntokens > 2) r->arg = l.tok[1];
    return MC_PARSE_OK;
  case MC_VERSION: case MC_QUIT: return MC_PARSE_OK;
  case MC_NONE: break;
  }
  return fail(r, E_ERROR);
}

void mc_req_free(struct mc_req *r) {
  free(r->keys);
  memset(r, 0, sizeof *r);
}

/* RESP2 multibulk and inline request parsing, with Redis's limits and messages. */
#include "resp.h"

#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

static int reserve_args(struct resp_req *r, int n) {
  if (n <= r->cap) return 0;
  int cap = r->cap ? r->cap : 16;
  while (cap < n) cap *= 2;
  const unsigned char **argv = realloc(r->argv, (size_t)cap * sizeof *argv);
  if (argv == NULL) return -1;
  r->argv = argv;
  size_t *argl = realloc(r->argl, (size_t)cap * sizeof *argl);
  if (argl == NULL) return -1;
  r->argl = argl;
  r->cap = cap;
  return 0;
}

/* Redis's string2ll: an optional '-', digits, no leading zeros, no spaces. */
static int parse_ll(const unsigned char *p, size_t n, long long *out) {
  if (n == 0 || n > 20) return -1;
  size_t i = 0;
  int neg = 0;
  if (p[0] == '-') {
    neg = 1;
    i = 1;
    if (n == 1) return -1;
  }
  if (p[i] == '0' && n - i > 1) return -1;
  unsigned long long v = 0;
  for (; i < n; i++) {
    if (p[i] < '0' || p[i] > '9') return -1;
    if (v > (ULLONG_MAX - (unsigned)(p[i] - '0')) / 10) return -1;
    v = v * 10 + (unsigned)(p[i] - '0');
  }
  if (neg) {
    if (v > (unsigned long long)LLONG_MAX + 1) return -1;
    *out = (long long)(0 - v);
  } else {
    if (v > LLONG_MAX) return -1;
    *out = (long long)v;
  }
  return 0;
}

static int hex_digit(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static unsigned char unescape(unsigned char c) {
  switch (c) {
  case 'n': return '\n';
  case 'r': return '\r';
  case 't': return '\t';
  case 'b': return '\b';
  case 'a': return '\a';
  default: return c;
  }
}

/* One quoted token starting at line[*i] (the quote). Appends to out; -1 when the
 * quotes do not balance, or the closing quote is not followed by a space or the end. */
static int quoted_token(const unsigned char *line, size_t n, size_t *i, unsigned char *out, size_t *o) {
  unsigned char q = line[(*i)++];
  for (;;) {
    if (*i >= n) return -1;
    unsigned char c = line[*i];
    if (q == '"' && c == '\\' && *i + 3 < n && line[*i + 1] == 'x' && hex_digit(line[*i + 2]) >= 0 &&
        hex_digit(line[*i + 3]) >= 0) {
      out[(*o)++] = (unsigned char)(hex_digit(line[*i + 2]) * 16 + hex_digit(line[*i + 3]));
      *i += 4;
    } else if (q == '"' && c == '\\' && *i + 1 < n) {
      out[(*o)++] = unescape(line[*i + 1]);
      *i += 2;
    } else if (q == '\'' && c == '\\' && *i + 1 < n && line[*i + 1] == '\'') {
      out[(*o)++] = '\'';
      *i += 2;
    } else if (c == q) {
      (*i)++;
      if (*i < n && !isspace(line[*i])) return -1;
      return 0;
    } else {
      out[(*o)++] = c;
      (*i)++;
    }
  }
}

/* Redis's sdssplitargs over one line, into r->scratch. */
static int split_inline(const unsigned char *line, size_t n, struct resp_req *r, const char **err) {
  if (n + 1 > r->scratch_cap) {
    unsigned char *s = realloc(r->scratch, n + 1);
    if (s == NULL) return (*err = "out of memory"), -1;
    r->scratch = s;
    r->scratch_cap = n + 1;
  }
  size_t i = 0, o = 0;
  r->argc = 0;
  for (;;) {
    while (i < n && isspace(line[i])) i++;
    if (i >= n) return 0;
    size_t start = o;
    if (line[i] == '"' || line[i] == '\'') {
      if (quoted_token(line, n, &i, r->scratch, &o) != 0) {
        *err = "Protocol error: unbalanced quotes in request";
        return -1;
      }
    } else {
      while (i < n && !isspace(line[i])) r->scratch[o++] = line[i++];
    }
    if (reserve_args(r, r->argc + 1) != 0) return (*err = "out of memory"), -1;
    r->argv[r->argc] = r->scratch + start;
    r->argl[r->argc] = o - start;
    r->argc++;
  }
}

static int parse_inline(const unsigned char *buf, size_t len, struct resp_req *r, size_t *consumed,
                        size_t *need, const char **err) {
  const unsigned char *nl = memchr(buf, '\n', len);
  if (nl == NULL) {
    if (len > RESP_MAX_INLINE) {
      *err = "Protocol error: too big inline request";
      return RESP_ERROR;
    }
    *need = len + 1;
    return RESP_INCOMPLETE;
  }
  size_t n = (size_t)(nl - buf);
  *consumed = n + 1;
  if (n > 0 && buf[n - 1] == '\r') n--;
  if (split_inline(buf, n, r, err) != 0) return RESP_ERROR;
  return RESP_COMPLETE;
}

/* A "<prefix><integer>\r\n" line at buf[*pos]. 1 parsed, 0 incomplete, -1 too long. */
static int length_line(const unsigned char *buf, size_t len, size_t *pos, long long *value, int *bad) {
  const unsigned char *cr = memchr(buf + *pos, '\r', len - *pos);
  *bad = 0;
  if (cr == NULL) return len - *pos > RESP_MAX_INLINE ? -1 : 0;
  size_t end = (size_t)(cr - buf);
  if (end + 1 >= len) return 0; /* the \n has not arrived */
  if (parse_ll(buf + *pos + 1, end - *pos - 1, value) != 0) *bad = 1;
  *pos = end + 2;
  return 1;
}

static int parse_multibulk(const unsigned char *buf, size_t len, int authed, struct resp_req *r,
                           size_t *consumed, size_t *need, const char **err) {
  size_t pos = 0;
  long long count = 0;
  int bad = 0, rc = length_line(buf, len, &pos, &count, &bad);
  if (rc < 0) return (*err = "Protocol error: too big mbulk count string"), RESP_ERROR;
  if (rc == 0) return (*need = len + 1), RESP_INCOMPLETE;
  if (bad || count > INT_MAX) return (*err = "Protocol error: invalid multibulk length"), RESP_ERROR;
  if (!authed && count > RESP_UNAUTH_MULTIBULK)
    return (*err = "Protocol error: unauthenticated multibulk length"), RESP_ERROR;
  r->argc = 0;
  for (long long i = 0; i < count; i++) {
    if (pos >= len) return (*need = pos + 1), RESP_INCOMPLETE;
    if (buf[pos] != '$') {
      static const char expected[] = "Protocol error: expected '$', got ' '";
      memcpy(r->errbuf, expected, sizeof expected);
      r->errbuf[sizeof expected - 3] = (char)buf[pos];
      *err = r->errbuf;
      return RESP_ERROR;
    }
    long long blen = 0;
    rc = length_line(buf, len, &pos, &blen, &bad);
    if (rc < 0) return (*err = "Protocol error: too big bulk count string"), RESP_ERROR;
    if (rc == 0) return (*need = len + 1), RESP_INCOMPLETE;
    if (bad || blen < 0 || blen > RESP_MAX_BULK) return (*err = "Protocol error: invalid bulk length"), RESP_ERROR;
    if (!authed && blen > RESP_UNAUTH_BULK)
      return (*err = "Protocol error: unauthenticated bulk length"), RESP_ERROR;
    if (len - pos < (size_t)blen + 2) return (*need = pos + (size_t)blen + 2), RESP_INCOMPLETE;
    if (reserve_args(r, r->argc + 1) != 0) return (*err = "out of memory"), RESP_ERROR;
    r->argv[r->argc] = buf + pos;
    r->argl[r->argc] = (size_t)blen;
    r->argc++;
    pos += (size_t)blen + 2;
  }
  *consumed = pos;
  return RESP_COMPLETE;
}

int resp_parse(const unsigned char *buf, size_t len, int authed, struct resp_req *r, size_t *consumed,
               size_t *need, const char **err) {
  *consumed = 0;
  *need = 0;
  r->argc = 0;
  if (len == 0) return (*need = 1), RESP_INCOMPLETE;
  if (buf[0] == '*') return parse_multibulk(buf, len, authed, r, consumed, need, err);
  return parse_inline(buf, len, r, consumed, need, err);
}

void resp_req_free(struct resp_req *r) {
  free(r->argv);
  free(r->argl);
  free(r->scratch);
  memset(r, 0, sizeof *r);
}

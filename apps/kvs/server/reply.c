/* The reply encoder: RESP2, or RESP3 after HELLO 3, appended to a client's output. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"

static int reserve(struct kbuf *b, size_t n) {
  if (b->len + n <= b->cap) return 0;
  size_t cap = b->cap ? b->cap : 16384;
  while (cap < b->len + n) cap *= 2;
  char *p = realloc(b->p, cap);
  if (p == NULL) return -1;
  b->p = p;
  b->cap = cap;
  return 0;
}

void add_raw(struct client *c, const void *p, size_t n) {
  if (c->close_asap == 2) return; /* output was lost to an allocation failure */
  if (reserve(&c->out, n) != 0) {
    c->close_asap = 2;
    return;
  }
  memcpy(c->out.p + c->out.len, p, n);
  c->out.len += n;
}

static void add_line(struct client *c, char prefix, long long v) {
  char buf[32];
  int n = snprintf(buf, sizeof buf, "%c%lld\r\n", prefix, v);
  add_raw(c, buf, (size_t)n);
}

void add_simple(struct client *c, const char *s) {
  add_raw(c, "+", 1);
  add_raw(c, s, strlen(s));
  add_raw(c, "\r\n", 2);
}

void add_ok(struct client *c) { add_raw(c, "+OK\r\n", 5); }

void add_error(struct client *c, const char *msg) {
  /* Redis turns newlines inside an error into spaces: a reply is one line. */
  if (msg[0] == '-') {
    add_raw(c, "-", 1);
    msg++;
  } else {
    add_raw(c, "-ERR ", 5);
  }
  char chunk[256];
  size_t n = 0;
  for (; *msg; msg++) {
    chunk[n++] = (*msg == '\r' || *msg == '\n') ? ' ' : *msg;
    if (n == sizeof chunk) {
      add_raw(c, chunk, n);
      n = 0;
    }
  }
  add_raw(c, chunk, n);
  add_raw(c, "\r\n", 2);
}

void add_errorf(struct client *c, const char *fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  add_error(c, buf);
}

void add_int(struct client *c, long long v) { add_line(c, ':', v); }

void add_bulk(struct client *c, const void *p, size_t n) {
  add_line(c, '$', (long long)n);
  add_raw(c, p, n);
  add_raw(c, "\r\n", 2);
}

void add_bulk_str(struct client *c, const char *s) { add_bulk(c, s, strlen(s)); }

void add_bulk_ref(struct client *c, kv_ref blob) {
  struct kv_blob *b = kv_blob(srv.store, blob);
  add_bulk(c, b->data, b->len);
}

void add_null(struct client *c) {
  if (c->proto == 3) add_raw(c, "_\r\n", 3);
  else add_raw(c, "$-1\r\n", 5);
}

void add_null_array(struct client *c) {
  if (c->proto == 3) add_raw(c, "_\r\n", 3);
  else add_raw(c, "*-1\r\n", 5);
}

void add_array(struct client *c, long long n) { add_line(c, '*', n); }
void add_map(struct client *c, long long n) {
  if (c->proto == 3) add_line(c, '%', n);
  else add_line(c, '*', 2 * n);
}
void add_set(struct client *c, long long n) { add_line(c, c->proto == 3 ? '~' : '*', n); }

void add_double(struct client *c, double d) {
  char buf[64];
  int n;
  if (isinf(d)) n = snprintf(buf, sizeof buf, "%s", d > 0 ? "inf" : "-inf");
  else n = snprintf(buf, sizeof buf, "%.17g", d);
  if (c->proto == 3) {
    add_raw(c, ",", 1);
    add_raw(c, buf, (size_t)n);
    add_raw(c, "\r\n", 2);
  } else {
    add_bulk(c, buf, (size_t)n);
  }
}

void add_verbatim(struct client *c, const char *s, size_t n) {
  if (c->proto != 3) {
    add_bulk(c, s, n);
    return;
  }
  add_line(c, '=', (long long)n + 4);
  add_raw(c, "txt:", 4);
  add_raw(c, s, n);
  add_raw(c, "\r\n", 2);
}

void add_wrongtype(struct client *c) {
  add_error(c, "-WRONGTYPE Operation against a key holding the wrong kind of value");
}
void add_syntax(struct client *c) { add_error(c, "syntax error"); }
void add_not_int(struct client *c) { add_error(c, "value is not an integer or out of range"); }
void add_oom(struct client *c) { add_error(c, "-OOM command not allowed when used memory > 'maxmemory'."); }

/* A deferred length: 24 bytes of room, filled in later and closed up. */
enum { DEFERRED = 24 };
size_t add_deferred_len(struct client *c) {
  size_t at = c->out.len;
  char pad[DEFERRED];
  memset(pad, 0, sizeof pad);
  add_raw(c, pad, sizeof pad);
  return at;
}

static void set_deferred(struct client *c, size_t at, char prefix, long long n) {
  if (c->close_asap == 2 || at + DEFERRED > c->out.len) return;
  char buf[DEFERRED];
  int len = snprintf(buf, sizeof buf, "%c%lld\r\n", prefix, n);
  memcpy(c->out.p + at, buf, (size_t)len);
  memmove(c->out.p + at + len, c->out.p + at + DEFERRED, c->out.len - at - DEFERRED);
  c->out.len -= DEFERRED - (size_t)len;
}

void set_deferred_array(struct client *c, size_t at, long long n) { set_deferred(c, at, '*', n); }
void set_deferred_map(struct client *c, size_t at, long long n) {
  if (c->proto == 3) set_deferred(c, at, '%', n);
  else set_deferred(c, at, '*', 2 * n);
}

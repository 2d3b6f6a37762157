/* Buffer-level helpers of rum-s3: query strings, URL coding, XML escaping, hex, the
 * HTTP and ISO dates, and S3's naming rules. No system calls, no clock. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <rum/rum_errors.h>

#include "s3.h"

const char *s3_header(const struct s3_request *r, const char *lname) {
  for (int i = 0; i < r->nhdr; i++)
    if (strcmp(r->hdr[i].name, lname) == 0) return r->hdr[i].value;
  return NULL;
}

const char *s3_param(const struct s3_request *r, const char *name) {
  for (int i = 0; i < r->nparam; i++)
    if (strcmp(r->param[i].name, name) == 0) return r->param[i].value;
  return NULL;
}

int s3_has_param(const struct s3_request *r, const char *name) { return s3_param(r, name) != NULL; }

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

long s3_url_decode(char *dst, const char *src, size_t len, int plus_space) {
  size_t o = 0;
  for (size_t i = 0; i < len; i++) {
    int c = (unsigned char)src[i];
    if (c == '%') {
      if (i + 2 >= len) return -1;
      int h = hexval(src[i + 1]), l = hexval(src[i + 2]);
      if (h < 0 || l < 0) return -1;
      c = h * 16 + l;
      i += 2;
    } else if (c == '+' && plus_space) {
      c = ' ';
    }
    if (c == 0) return -1;
    dst[o++] = (char)c;
  }
  dst[o] = 0;
  return (long)o;
}

void s3_request_free_params(struct s3_request *r) {
  for (int i = 0; i < r->nparam; i++) {
    free(r->param[i].name);
    free(r->param[i].value);
  }
  r->nparam = 0;
}

int s3_parse_query(struct s3_request *r) {
  const char *q = r->raw_query;
  while (*q) {
    const char *end = strchr(q, '&');
    size_t n = end ? (size_t)(end - q) : strlen(q);
    if (n > 0) {
      if (r->nparam == S3_MAX_PARAMS) return RUM_EINVAL;
      const char *eq = memchr(q, '=', n);
      size_t nl = eq ? (size_t)(eq - q) : n, vl = eq ? n - nl - 1 : 0;
      char *name = malloc(nl + 1), *value = malloc(vl + 1);
      struct s3_kv *kv = &r->param[r->nparam++];
      kv->name = name;
      kv->value = value;
      if (name == NULL || value == NULL) return RUM_ENOMEM;
      if (s3_url_decode(name, q, nl, 1) < 0) return RUM_EINVAL;
      if (s3_url_decode(value, eq ? eq + 1 : "", vl, 1) < 0) return RUM_EINVAL;
    }
    q += n + (end != NULL);
  }
  return 0;
}

static int reserve(struct s3_buf *b, size_t n) {
  if (b->oom) return -1;
  if (b->len + n + 1 <= b->cap) return 0;
  size_t cap = b->cap ? b->cap * 2 : 256;
  while (cap < b->len + n + 1) cap *= 2;
  char *d = realloc(b->data, cap);
  if (d == NULL) {
    b->oom = 1;
    return -1;
  }
  b->data = d;
  b->cap = cap;
  return 0;
}

void s3_buf_put(struct s3_buf *b, const void *p, size_t n) {
  if (reserve(b, n) != 0) return;
  if (n > 0) memcpy(b->data + b->len, p, n); /* p may be NULL when n is 0 */
  b->len += n;
  b->data[b->len] = 0;
}

void s3_buf_puts(struct s3_buf *b, const char *s) { s3_buf_put(b, s, strlen(s)); }

void s3_buf_printf(struct s3_buf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0 || reserve(b, (size_t)n) != 0) return;
  va_start(ap, fmt);
  vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
}

void s3_buf_xml(struct s3_buf *b, const char *s, size_t n) {
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    switch (c) {
    case '&': s3_buf_puts(b, "&amp;"); break;
    case '<': s3_buf_puts(b, "&lt;"); break;
    case '>': s3_buf_puts(b, "&gt;"); break;
    case '"': s3_buf_puts(b, "&quot;"); break;
    case '\'': s3_buf_puts(b, "&apos;"); break;
    case 0: break;
    default:
      if (c < 0x20 && c != '\t' && c != '\n') s3_buf_printf(b, "&#x%X;", c);
      else s3_buf_put(b, &s[i], 1);
    }
  }
}

void s3_buf_uri(struct s3_buf *b, const char *s, size_t n, int keep_slash) {
  static const char hex[] = "0123456789ABCDEF";
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || (c == '/' && keep_slash)) {
      s3_buf_put(b, &s[i], 1);
    } else {
      char e[3] = {'%', hex[c >> 4], hex[c & 15]};
      s3_buf_put(b, e, 3);
    }
  }
}

void s3_buf_free(struct s3_buf *b) {
  free(b->data);
  memset(b, 0, sizeof *b);
}

void s3_hex(char *out, const unsigned char *in, size_t n) {
  static const char hex[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = hex[in[i] >> 4];
    out[2 * i + 1] = hex[in[i] & 15];
  }
  out[2 * n] = 0;
}

int s3_unhex(unsigned char *out, const char *in, size_t n) {
  for (size_t i = 0; i < n; i++) {
    int h = hexval(in[2 * i]), l = h < 0 ? -1 : hexval(in[2 * i + 1]);
    if (h < 0 || l < 0) return -1;
    out[i] = (unsigned char)(h * 16 + l);
  }
  return in[2 * n] == 0 ? 0 : -1;
}

static const char *const wday[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const month[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm), and back. */
static int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  *d = (int)(doy - (153 * mp + 2) / 5 + 1);
  *m = (int)(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2);
}

struct civil {
  int64_t y;
  int mo, d, h, mi, s, ms, wd;
};

static struct civil split(int64_t ms) {
  struct civil c;
  int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
  int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
  int64_t rem = secs - days * 86400;
  civil_from_days(days, &c.y, &c.mo, &c.d);
  c.h = (int)(rem / 3600);
  c.mi = (int)(rem / 60 % 60);
  c.s = (int)(rem % 60);
  c.ms = (int)(ms - secs * 1000);
  c.wd = (int)(((days % 7) + 11) % 7); /* 1970-01-01 was a Thursday */
  return c;
}

void s3_http_date(char out[32], int64_t ms) {
  struct civil c = split(ms);
  snprintf(out, 32, "%s, %02d %s %04lld %02d:%02d:%02d GMT", wday[c.wd], c.d, month[c.mo - 1],
           (long long)c.y % 10000, c.h, c.mi, c.s);
}

void s3_iso_date(char out[32], int64_t ms) {
  struct civil c = split(ms);
  snprintf(out, 32, "%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ", (long long)c.y % 10000, c.mo, c.d, c.h, c.mi,
           c.s, c.ms);
}

static int month_of(const char *s) {
  for (int i = 0; i < 12; i++)
    if (strncasecmp(s, month[i], 3) == 0) return i + 1;
  return 0;
}

static int64_t make(int64_t y, int mo, int d, int h, int mi, int s) {
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 60 ||
      y < 1970 || y > 9999)
    return -1;
  return (days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s) * 1000;
}

int64_t s3_parse_date(const char *s) {
  int d, y, h, mi, sec, n = 0;
  char mon[4], wd[16];
  if (strlen(s) > 64) return -1;
  /* ISO 8601 basic, as x-amz-date. */
  int mo;
  if (sscanf(s, "%4d%2d%2dT%2d%2d%2dZ%n", &y, &mo, &d, &h, &mi, &sec, &n) == 6 && n == 16 && s[n] == 0)
    return make(y, mo, d, h, mi, sec);
  n = 0;
  char zone[8];
  if (sscanf(s, "%15[A-Za-z], %d %3s %d %d:%d:%d %7s%n", wd, &d, mon, &y, &h, &mi, &sec, zone, &n) == 8 && n > 0 &&
      s[n] == 0 && (!strcmp(zone, "GMT") || !strcmp(zone, "UTC") || !strcmp(zone, "+0000")))
    return make(y, month_of(mon), d, h, mi, sec);
  n = 0;
  if (sscanf(s, "%15[A-Za-z], %d-%3s-%d %d:%d:%d GMT%n", wd, &d, mon, &y, &h, &mi, &sec, &n) == 7 && n > 0 &&
      s[n] == 0)
    return make(y < 100 ? y + (y < 70 ? 2000 : 1900) : y, month_of(mon), d, h, mi, sec);
  n = 0;
  if (sscanf(s, "%15[A-Za-z] %3s %d %d:%d:%d %d%n", wd, mon, &d, &h, &mi, &sec, &y, &n) == 7 && n > 0 &&
      s[n] == 0)
    return make(y, month_of(mon), d, h, mi, sec);
  return -1;
}

int s3_bucket_name_ok(const char *name) {
  size_t n = strlen(name);
  if (n < 3 || n > S3_MAX_BUCKET) return 0;
  for (size_t i = 0; i < n; i++) {
    char c = name[i];
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-')) return 0;
  }
  if (!isalnum((unsigned char)name[0]) || !isalnum((unsigned char)name[n - 1])) return 0;
  if (strstr(name, "..") || strstr(name, ".-") || strstr(name, "-.")) return 0;
  if (strncmp(name, "xn--", 4) == 0 || (n > 8 && strcmp(name + n - 8, "-s3alias") == 0)) return 0;
  unsigned a, b, c, d;
  int used = 0;
  if (sscanf(name, "%u.%u.%u.%u%n", &a, &b, &c, &d, &used) == 4 && (size_t)used == n) return 0;
  return 1;
}

int s3_key_ok(const char *key, size_t len) {
  if (len == 0 || len > S3_MAX_KEY) return 0;
  const unsigned char *p = (const unsigned char *)key;
  for (size_t i = 0; i < len;) {
    unsigned c = p[i];
    size_t extra = c < 0x80 ? 0 : (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2 : (c & 0xf8) == 0xf0 ? 3 : 9;
    if (extra == 9 || (c & 0xfe) == 0xc0) return 0;
    for (size_t k = 1; k <= extra; k++)
      if (i + k >= len || (p[i + k] & 0xc0) != 0x80) return 0;
    i += extra + 1;
  }
  return 1;
}

/* Argument parsing as Redis does it: integers by string2ll, floats by strtod with
 * Redis's rejections, and glob-style patterns by stringmatchlen. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server.h"

int arg_eq(struct client *c, int i, const char *word) {
  size_t n = strlen(word);
  return c->argl[i] == n && strncasecmp((const char *)c->argv[i], word, n) == 0;
}

int parse_ll_buf(const unsigned char *p, size_t n, long long *out) {
  if (n == 0 || n > 20) return -1;
  if (n == 1 && p[0] == '0') return (*out = 0), 0;
  size_t i = 0;
  int neg = p[0] == '-';
  if (neg) i = 1;
  if (i >= n || p[i] < '1' || p[i] > '9') return -1;
  unsigned long long v = 0;
  for (; i < n; i++) {
    if (p[i] < '0' || p[i] > '9') return -1;
    unsigned d = (unsigned)(p[i] - '0');
    if (v > (ULLONG_MAX - d) / 10) return -1;
    v = v * 10 + d;
  }
  if (neg) {
    if (v > (unsigned long long)LLONG_MAX + 1) return -1;
    *out = v == (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN : -(long long)v;
  } else {
    if (v > LLONG_MAX) return -1;
    *out = (long long)v;
  }
  return 0;
}

int parse_double_buf(const unsigned char *p, size_t n, double *out) {
  char buf[256];
  if (n == 0 || n >= sizeof buf || isspace(p[0])) return -1;
  memcpy(buf, p, n);
  buf[n] = 0;
  char *end;
  errno = 0;
  double v = strtod(buf, &end);
  if ((size_t)(end - buf) != n) return -1;
  if (errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL || fpclassify(v) == FP_ZERO)) return -1;
  if (isnan(v)) return -1;
  *out = v;
  return 0;
}

int parse_ldouble_buf(const unsigned char *p, size_t n, long double *out) {
  char buf[5200];
  if (n == 0 || n >= sizeof buf || isspace(p[0])) return -1;
  memcpy(buf, p, n);
  buf[n] = 0;
  char *end;
  errno = 0;
  long double v = strtold(buf, &end);
  if ((size_t)(end - buf) != n) return -1;
  if (errno == ERANGE && (v == HUGE_VALL || v == -HUGE_VALL || fpclassify(v) == FP_ZERO)) return -1;
  if (isnan(v)) return -1;
  *out = v;
  return 0;
}

int fmt_ldouble(char *buf, size_t len, long double v) {
  if (isinf(v)) return snprintf(buf, len, "%s", v > 0 ? "inf" : "-inf");
  int l = snprintf(buf, len, "%.17Lf", v);
  if (l < 0 || (size_t)l + 1 > len) return -1;
  if (strchr(buf, '.') != NULL) {
    char *p = buf + l - 1;
    while (*p == '0') {
      p--;
      l--;
    }
    if (*p == '.') l--;
  }
  if (l == 2 && buf[0] == '-' && buf[1] == '0') {
    buf[0] = '0';
    l = 1;
  }
  buf[l] = 0;
  return l;
}

int arg_ll(struct client *c, int i, long long *out) {
  if (parse_ll_buf(c->argv[i], c->argl[i], out) == 0) return 0;
  add_not_int(c);
  return -1;
}

int arg_double(struct client *c, int i, double *out) {
  if (parse_double_buf(c->argv[i], c->argl[i], out) == 0) return 0;
  add_error(c, "value is not a valid float");
  return -1;
}

/* Redis's stringmatchlen. */
int glob_match(const unsigned char *pat, size_t plen, const unsigned char *s, size_t slen, int nocase) {
  while (plen && slen) {
    switch (pat[0]) {
    case '*':
      while (plen > 1 && pat[1] == '*') {
        pat++;
        plen--;
      }
      if (plen == 1) return 1;
      while (slen) {
        if (glob_match(pat + 1, plen - 1, s, slen, nocase)) return 1;
        s++;
        slen--;
      }
      return 0;
    case '?':
      s++;
      slen--;
      break;
    case '[': {
      pat++;
      plen--;
      int not = plen && pat[0] == '^';
      if (not) {
        pat++;
        plen--;
      }
      int match = 0;
      for (;;) {
        if (plen == 0) break;
        if (pat[0] == '\\' && plen >= 2) {
          pat++;
          plen--;
          if (pat[0] == s[0]) match = 1;
        } else if (pat[0] == ']') {
          break;
        } else if (plen >= 3 && pat[1] == '-') {
          int start = pat[0], end = pat[2], c = s[0];
          if (start > end) {
            int t = start;
            start = end;
            end = t;
          }
          if (nocase) {
            start = tolower(start);
            end = tolower(end);
            c = tolower(c);
          }
          pat += 2;
          plen -= 2;
          if (c >= start && c <= end) match = 1;
        } else if (nocase ? tolower(pat[0]) == tolower(s[0]) : pat[0] == s[0]) {
          match = 1;
        }
        pat++;
        plen--;
      }
      if (plen == 0) {
        pat--; /* the pattern ended inside [...]: Redis backs up onto the last char */
        plen++;
      }
      if (not) match = !match;
      if (!match) return 0;
      s++;
      slen--;
      break;
    }
    case '\\':
      if (plen >= 2) {
        pat++;
        plen--;
      }
      /* fall through */
    default:
      if (nocase ? tolower(pat[0]) != tolower(s[0]) : pat[0] != s[0]) return 0;
      s++;
      slen--;
      break;
    }
    pat++;
    plen--;
    if (slen == 0) {
      while (plen && *pat == '*') {
        pat++;
        plen--;
      }
      break;
    }
  }
  return plen == 0 && slen == 0;
}

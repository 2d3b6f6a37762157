/* rum-s3: shared definitions of the gateway's buffer-level parts (request model,
 * names, dates, URL coding, a growable output buffer). Nothing here touches a socket
 * or reads a clock: time comes in as arguments, so every parser can be fuzzed. */
#ifndef RUM_S3_H
#define RUM_S3_H

#include <stddef.h>
#include <stdint.h>

enum {
  S3_MAX_HEADERS = 96,         /* headers kept per request (more -> 400) */
  S3_MAX_PARAMS = 48,          /* query parameters kept per request */
  S3_MAX_KEY = 1024,           /* longest object key, bytes */
  S3_MAX_BUCKET = 63,
  S3_MAX_XML_BODY = 2u << 20,  /* CompleteMultipartUpload / Delete bodies */
  S3_MAX_META = 2048,          /* x-amz-meta-* bytes, as S3 */
  S3_SKEW_MS = 15 * 60 * 1000, /* RequestTimeTooSkewed beyond this */
  S3_MAX_PRESIGN_S = 7 * 24 * 3600,
  S3_MIN_PART = 5u << 20,      /* EntityTooSmall below this, except the last part */
  S3_MAX_PART_NUMBER = 10000,
};
#define S3_MAX_PUT (5ull << 30) /* largest single PUT, as S3 */

struct s3_kv {
  char *name;  /* headers: lower-cased; params: decoded */
  char *value; /* headers: trimmed; params: decoded ("" when absent) */
};

/* One request as the gateway sees it before routing. Strings point into memory the
 * request owns (see s3_request_free in http.c); parsers here only read them. */
struct s3_request {
  const char *method;
  char *raw_path;  /* as received, still %-encoded */
  char *raw_query; /* after '?', "" when none */
  struct s3_kv hdr[S3_MAX_HEADERS];
  int nhdr;
  struct s3_kv param[S3_MAX_PARAMS];
  int nparam;
};

const char *s3_header(const struct s3_request *r, const char *lname);
const char *s3_param(const struct s3_request *r, const char *name);
int s3_has_param(const struct s3_request *r, const char *name);

/* Split raw_query into decoded params. RUM_EINVAL on more than S3_MAX_PARAMS or a bad
 * %-escape. Allocates the strings (freed with s3_request_free_params). */
int s3_parse_query(struct s3_request *r);
void s3_request_free_params(struct s3_request *r);

/* %-decode len bytes of src into dst (room for len+1); plus_space turns '+' into ' '.
 * Returns the decoded length or -1 on a bad escape or an embedded NUL. */
long s3_url_decode(char *dst, const char *src, size_t len, int plus_space);

/* A growable byte buffer on the process heap, for responses and canonical strings. */
struct s3_buf {
  char *data;
  size_t len, cap;
  int oom; /* an append failed: the content is incomplete */
};
void s3_buf_put(struct s3_buf *b, const void *p, size_t n);
void s3_buf_puts(struct s3_buf *b, const char *s);
void s3_buf_printf(struct s3_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append s with XML's five special characters escaped, and control characters other
 * than tab/newline as numeric references (XML 1.0 cannot carry NUL: it is dropped). */
void s3_buf_xml(struct s3_buf *b, const char *s, size_t n);
/* Append AWS's URI encoding of s: everything but A-Za-z0-9-._~ as %XX, '/' kept when
 * keep_slash. */
void s3_buf_uri(struct s3_buf *b, const char *s, size_t n, int keep_slash);
void s3_buf_free(struct s3_buf *b);

void s3_hex(char *out, const unsigned char *in, size_t n); /* out: 2n+1 */
int s3_unhex(unsigned char *out, const char *in, size_t n); /* n output bytes; 0 ok */

/* Dates. Times are ms since the epoch. */
void s3_http_date(char out[32], int64_t ms);  /* RFC 1123 "Sun, 06 Nov 1994 08:49:37 GMT" */
void s3_iso_date(char out[32], int64_t ms);   /* "2006-02-03T16:45:09.000Z" */
/* Parse an RFC 1123, RFC 850 or asctime date (HTTP's three), or ISO 8601 basic
 * "20130524T000000Z". -1 when it is none of them. */
int64_t s3_parse_date(const char *s);

/* S3's bucket naming rules: 3..63 of a-z0-9.-, starting and ending with a letter or
 * digit, no "..", not an IPv4 address, no "xn--" prefix or "-s3alias" suffix. */
int s3_bucket_name_ok(const char *name);
/* Keys: 1..S3_MAX_KEY bytes of valid UTF-8. */
int s3_key_ok(const char *key, size_t len);

#endif

/* Signature Version 2 (s3cmd's fallback, older tools): HMAC-SHA1 over the method,
 * Content-MD5, Content-Type, Date (or Expires for a query-signed URL), the x-amz-*
 * headers and the resource with its sub-resources. */
#include "sig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

/* Sub-resources that are part of the signed resource, in the order V2 sorts them. */
static const char *const subresources[] = {
    "acl", "cors", "delete", "lifecycle", "location", "logging", "notification", "partNumber", "policy",
    "requestPayment", "response-cache-control", "response-content-disposition", "response-content-encoding",
    "response-content-language", "response-content-type", "response-expires", "restore", "tagging",
    "torrent", "uploadId", "uploads", "versionId", "versioning", "versions", "website"};

static int str_cmp(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void amz_headers(const struct s3_request *r, struct s3_buf *out) {
  const char *names[S3_MAX_HEADERS];
  int n = 0;
  for (int i = 0; i < r->nhdr; i++) {
    if (strncmp(r->hdr[i].name, "x-amz-", 6) != 0) continue;
    int dup = 0;
    for (int k = 0; k < n; k++) dup |= !strcmp(names[k], r->hdr[i].name);
    if (!dup) names[n++] = r->hdr[i].name;
  }
  qsort(names, (size_t)n, sizeof names[0], str_cmp);
  for (int k = 0; k < n; k++) {
    s3_buf_puts(out, names[k]);
    s3_buf_puts(out, ":");
    int first = 1;
    for (int i = 0; i < r->nhdr; i++) {
      if (strcmp(r->hdr[i].name, names[k]) != 0) continue;
      if (!first) s3_buf_puts(out, ",");
      first = 0;
      s3_buf_puts(out, r->hdr[i].value);
    }
    s3_buf_puts(out, "\n");
  }
}

static void resource(const struct s3_request *r, const char *vhost_bucket, struct s3_buf *out) {
  if (vhost_bucket != NULL) {
    s3_buf_puts(out, "/");
    s3_buf_puts(out, vhost_bucket);
  }
  s3_buf_puts(out, r->raw_path);
  char sep = '?';
  for (size_t k = 0; k < sizeof subresources / sizeof subresources[0]; k++) {
    const char *v = s3_param(r, subresources[k]);
    if (v == NULL) continue;
    s3_buf_put(out, &sep, 1);
    sep = '&';
    s3_buf_puts(out, subresources[k]);
    if (v[0]) {
      s3_buf_puts(out, "=");
      s3_buf_puts(out, v);
    }
  }
}

static int sig_equal(const char *want, const char *got) {
  size_t n = strlen(want);
  return strlen(got) == n && CRYPTO_memcmp(want, got, n) == 0;
}

enum s3_err s3__auth_v2(const struct s3_request *r, const struct s3_keys *keys, const char *vhost_bucket,
                        int64_t now_ms, struct s3_auth *a, char *msg, size_t msglen);

enum s3_err s3__auth_v2(const struct s3_request *r, const struct s3_keys *keys, const char *vhost_bucket,
                        int64_t now_ms, struct s3_auth *a, char *msg, size_t msglen) {
  const char *h = s3_header(r, "authorization");
  const char *access, *given, *date_line;
  char akbuf[256];
  if (h != NULL) {
    if (strncmp(h, "AWS ", 4) != 0) {
      snprintf(msg, msglen, "unsupported Authorization scheme");
      return S3E_INVALID_ARGUMENT;
    }
    const char *colon = strrchr(h + 4, ':');
    if (colon == NULL || (size_t)(colon - h - 4) >= sizeof akbuf) return S3E_INVALID_ARGUMENT;
    memcpy(akbuf, h + 4, (size_t)(colon - h - 4));
    akbuf[colon - h - 4] = 0;
    access = akbuf;
    given = colon + 1;
    const char *date = s3_header(r, "x-amz-date");
    if (date == NULL) date = s3_header(r, "date");
    int64_t t = date ? s3_parse_date(date) : -1;
    if (t < 0) {
      snprintf(msg, msglen, "a valid Date or x-amz-date header is required");
      return S3E_ACCESS_DENIED;
    }
    if (t > now_ms + S3_SKEW_MS || t < now_ms - S3_SKEW_MS) return S3E_SKEWED;
    date_line = s3_header(r, "x-amz-date") ? "" : date;
  } else if (s3_param(r, "AWSAccessKeyId") != NULL) {
    access = s3_param(r, "AWSAccessKeyId");
    given = s3_param(r, "Signature");
    date_line = s3_param(r, "Expires");
    if (given == NULL || date_line == NULL) return S3E_ACCESS_DENIED;
    char *end;
    long long ex = strtoll(date_line, &end, 10);
    if (*end || end == date_line) return S3E_ACCESS_DENIED;
    if (now_ms / 1000 > ex) return S3E_EXPIRED;
  } else {
    snprintf(msg, msglen, "anonymous requests are not allowed");
    return S3E_ACCESS_DENIED;
  }
  if (strcmp(access, keys->access_key) != 0) return S3E_BAD_ACCESS_KEY;
  struct s3_buf sts = {0};
  const char *md5 = s3_header(r, "content-md5"), *type = s3_header(r, "content-type");
  s3_buf_printf(&sts, "%s\n%s\n%s\n%s\n", r->method, md5 ? md5 : "", type ? type : "", date_line);
  amz_headers(r, &sts);
  resource(r, vhost_bucket, &sts);
  unsigned char mac[20];
  unsigned int ml = 20;
  HMAC(EVP_sha1(), keys->secret_key, (int)strlen(keys->secret_key), (unsigned char *)sts.data, sts.len, mac,
       &ml);
  int oom = sts.oom;
  s3_buf_free(&sts);
  if (oom) return S3E_INTERNAL;
  char b64[40];
  EVP_EncodeBlock((unsigned char *)b64, mac, 20);
  if (!sig_equal(b64, given)) return S3E_SIG_MISMATCH;
  a->version = 2;
  a->payload = S3_PAYLOAD_UNSIGNED;
  return S3E_OK;
}

/* Signature Version 4 and 2 as the AWS documentation defines them, computed from the
 * request the gateway parsed. Comparisons are constant-time (CRYPTO_memcmp). */
#include "sig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

static void hmac256(const void *key, size_t klen, const void *msg, size_t n, unsigned char out[32]) {
  unsigned int len = 32;
  HMAC(EVP_sha256(), key, (int)klen, msg, n, out, &len);
}

static void sha256_hex(const void *p, size_t n, char out[65]) {
  unsigned char d[32];
  SHA256(p, n, d);
  s3_hex(out, d, 32);
}

/* The canonical URI: the path decoded once and encoded again with AWS's rules, which
 * is what every SDK signs whatever escaping it put on the wire. */
static int canonical_uri(const char *raw_path, struct s3_buf *out) {
  size_t n = strlen(raw_path);
  char *dec = malloc(n + 1);
  if (dec == NULL) return -1;
  long dl = s3_url_decode(dec, raw_path, n, 0);
  if (dl < 0) {
    free(dec);
    return -1;
  }
  if (dl == 0) s3_buf_puts(out, "/");
  else s3_buf_uri(out, dec, (size_t)dl, 1);
  free(dec);
  return 0;
}

struct qpair {
  struct s3_buf k, v;
};

static int qpair_cmp(const void *a, const void *b) {
  const struct qpair *x = a, *y = b;
  int c = strcmp(x->k.data ? x->k.data : "", y->k.data ? y->k.data : "");
  return c ? c : strcmp(x->v.data ? x->v.data : "", y->v.data ? y->v.data : "");
}

static void canonical_query(const struct s3_request *r, int presigned, struct s3_buf *out) {
  struct qpair q[S3_MAX_PARAMS];
  int n = 0;
  for (int i = 0; i < r->nparam; i++) {
    if (presigned && strcmp(r->param[i].name, "X-Amz-Signature") == 0) continue;
    memset(&q[n], 0, sizeof q[n]);
    s3_buf_uri(&q[n].k, r->param[i].name, strlen(r->param[i].name), 0);
    s3_buf_uri(&q[n].v, r->param[i].value, strlen(r->param[i].value), 0);
    n++;
  }
  qsort(q, (size_t)n, sizeof q[0], qpair_cmp);
  for (int i = 0; i < n; i++) {
    if (i) s3_buf_puts(out, "&");
    s3_buf_puts(out, q[i].k.data ? q[i].k.data : "");
    s3_buf_puts(out, "=");
    s3_buf_puts(out, q[i].v.data ? q[i].v.data : "");
    s3_buf_free(&q[i].k);
    s3_buf_free(&q[i].v);
  }
}

/* A header's value with runs of spaces collapsed (it is already trimmed). */
static void header_value(struct s3_buf *out, const char *v) {
  int space = 0;
  for (; *v; v++) {
    if (*v == ' ' || *v == '\t') {
      space = 1;
      continue;
    }
    if (space) s3_buf_puts(out, " ");
    space = 0;
    s3_buf_put(out, v, 1);
  }
}

int s3_v4_canonical_request(const struct s3_request *r, const char *signed_headers, const char *payload,
                            int presigned, struct s3_buf *out) {
  s3_buf_puts(out, r->method);
  s3_buf_puts(out, "\n");
  if (canonical_uri(r->raw_path, out) != 0) return -1;
  s3_buf_puts(out, "\n");
  canonical_query(r, presigned, out);
  s3_buf_puts(out, "\n");
  const char *p = signed_headers;
  while (*p) {
    const char *end = strchr(p, ';');
    size_t n = end ? (size_t)(end - p) : strlen(p);
    char name[128];
    if (n == 0 || n >= sizeof name) return -1;
    memcpy(name, p, n);
    name[n] = 0;
    int found = 0;
    s3_buf_puts(out, name);
    s3_buf_puts(out, ":");
    for (int i = 0; i < r->nhdr; i++) {
      if (strcmp(r->hdr[i].name, name) != 0) continue;
      if (found++) s3_buf_puts(out, ",");
      header_value(out, r->hdr[i].value);
    }
    if (!found) return -1;
    s3_buf_puts(out, "\n");
    p += n + (end != NULL);
  }
  s3_buf_puts(out, "\n");
  s3_buf_puts(out, signed_headers);
  s3_buf_puts(out, "\n");
  s3_buf_puts(out, payload);
  return out->oom ? -1 : 0;
}

static void derive_key(const char *secret, const char *date8, const char *region, unsigned char out[32]) {
  char k[256];
  int n = snprintf(k, sizeof k, "AWS4%s", secret);
  unsigned char a[32], b[32];
  hmac256(k, (size_t)n, date8, 8, a);
  hmac256(a, 32, region, strlen(region), b);
  hmac256(b, 32, "s3", 2, a);
  hmac256(a, 32, "aws4_request", 12, out);
  OPENSSL_cleanse(k, sizeof k);
}

void s3_v4_chunk_signature(const struct s3_auth *a, const char *prev, const unsigned char data_sha256[32],
                           char out[65]) {
  char dh[65];
  s3_hex(dh, data_sha256, 32);
  char sts[512];
  int n = snprintf(sts, sizeof sts,
                   "AWS4-HMAC-SHA256-PAYLOAD\n%s\n%s\n%s\n"
                   "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n%s",
                   a->amz_date, a->scope, prev, dh);
  unsigned char mac[32];
  hmac256(a->signing_key, 32, sts, (size_t)n, mac);
  s3_hex(out, mac, 32);
}

/* The parts of a V4 credential, from the header or the query. */
struct v4_input {
  const char *credential, *signed_headers, *signature, *date;
  int presigned;
  long expires;
};

static int copy_field(char *dst, size_t cap, const char *src, size_t n) {
  if (n >= cap) return -1;
  memcpy(dst, src, n);
  dst[n] = 0;
  return 0;
}

/* Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=... */
static int parse_v4_header(const char *h, char *cred, char *sh, char *sig) {
  const char *p = h + strlen("AWS4-HMAC-SHA256");
  int got = 0;
  while (*p) {
    while (*p == ' ' || *p == ',') p++;
    const char *eq = strchr(p, '=');
    if (eq == NULL) break;
    const char *end = eq + 1;
    while (*end && *end != ',' && *end != ' ') end++;
    size_t nl = (size_t)(eq - p), vl = (size_t)(end - eq - 1);
    if (nl == 10 && !strncmp(p, "Credential", 10)) got |= copy_field(cred, 256, eq + 1, vl) == 0 ? 1 : 8;
    else if (nl == 13 && !strncmp(p, "SignedHeaders", 13)) got |= copy_field(sh, 1024, eq + 1, vl) == 0 ? 2 : 8;
    else if (nl == 9 && !strncmp(p, "Signature", 9)) got |= copy_field(sig, 80, eq + 1, vl) == 0 ? 4 : 8;
    p = end;
  }
  return got == 7 ? 0 : -1;
}

static int has_token(const char *list, const char *tok) {
  size_t n = strlen(tok);
  for (const char *p = list; (p = strstr(p, tok)) != NULL; p += n)
    if ((p == list || p[-1] == ';') && (p[n] == 0 || p[n] == ';')) return 1;
  return 0;
}

static enum s3_err check_v4(const struct s3_request *r, const struct s3_keys *keys, int64_t now_ms,
                            const struct v4_input *in, struct s3_auth *a, char *msg, size_t msglen) {
  /* Credential = AK/yyyymmdd/region/s3/aws4_request */
  char cred[256];
  if (copy_field(cred, sizeof cred, in->credential, strlen(in->credential)) != 0) return S3E_AUTH_MALFORMED;
  char *f[5];
  int nf = 0;
  for (char *save = NULL, *t = strtok_r(cred, "/", &save); t && nf < 5; t = strtok_r(NULL, "/", &save))
    f[nf++] = t;
  enum s3_err malformed = in->presigned ? S3E_AUTH_QUERY_MALFORMED : S3E_AUTH_MALFORMED;
  if (nf != 5 || strlen(f[1]) != 8 || strcmp(f[3], "s3") || strcmp(f[4], "aws4_request")) {
    snprintf(msg, msglen, "the credential '%s' is not AK/date/region/s3/aws4_request", in->credential);
    return malformed;
  }
  if (strcmp(f[0], keys->access_key) != 0) return S3E_BAD_ACCESS_KEY;
  if (strcmp(f[2], keys->region) != 0) {
    snprintf(msg, msglen, "the region '%s' is wrong; expecting '%s'", f[2], keys->region);
    return malformed;
  }
  int64_t t = s3_parse_date(in->date);
  if (strlen(in->date) != 16 || t < 0 || strncmp(in->date, f[1], 8) != 0) {
    snprintf(msg, msglen, "X-Amz-Date '%s' is not yyyymmddThhmmssZ of the credential's day", in->date);
    return malformed;
  }
  if (in->presigned) {
    if (in->expires < 1 || in->expires > S3_MAX_PRESIGN_S) {
      snprintf(msg, msglen, "X-Amz-Expires must be 1..%d seconds", S3_MAX_PRESIGN_S);
      return S3E_AUTH_QUERY_MALFORMED;
    }
    if (now_ms > t + in->expires * 1000) return S3E_EXPIRED;
    if (t > now_ms + S3_SKEW_MS) return S3E_SKEWED;
  } else if (t > now_ms + S3_SKEW_MS || t < now_ms - S3_SKEW_MS) {
    return S3E_SKEWED;
  }
  memcpy(a->amz_date, in->date, 17);
  snprintf(a->scope, sizeof a->scope, "%s/%s/s3/aws4_request", f[1], f[2]);
  derive_key(keys->secret_key, f[1], keys->region, a->signing_key);

  const char *payload = s3_header(r, "x-amz-content-sha256");
  if (payload == NULL) {
    if (!in->presigned) {
      snprintf(msg, msglen, "x-amz-content-sha256 is required with Signature V4");
      return S3E_INVALID_REQUEST;
    }
    payload = "UNSIGNED-PAYLOAD";
  }
  if (!strcmp(payload, "UNSIGNED-PAYLOAD")) a->payload = S3_PAYLOAD_UNSIGNED;
  else if (!strcmp(payload, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")) a->payload = S3_PAYLOAD_STREAMING;
  else if (strlen(payload) == 64 && s3_unhex(a->payload_sha256, payload, 32) == 0) a->payload = S3_PAYLOAD_SHA256;
  else {
    snprintf(msg, msglen, "x-amz-content-sha256 '%.80s' is not supported", payload);
    return S3E_INVALID_ARGUMENT;
  }
  if (!has_token(in->signed_headers, "host")) {
    snprintf(msg, msglen, "the Host header must be signed");
    return malformed;
  }
  struct s3_buf creq = {0};
  if (s3_v4_canonical_request(r, in->signed_headers, payload, in->presigned, &creq) != 0) {
    s3_buf_free(&creq);
    snprintf(msg, msglen, "a signed header is missing or the path is not valid");
    return S3E_SIG_MISMATCH;
  }
  char ch[65];
  sha256_hex(creq.data, creq.len, ch);
  s3_buf_free(&creq);
  char sts[320];
  int n = snprintf(sts, sizeof sts, "AWS4-HMAC-SHA256\n%s\n%s\n%s", a->amz_date, a->scope, ch);
  unsigned char mac[32];
  hmac256(a->signing_key, 32, sts, (size_t)n, mac);
  s3_hex(a->seed_signature, mac, 32);
  if (strlen(in->signature) != 64 || CRYPTO_memcmp(a->seed_signature, in->signature, 64) != 0)
    return S3E_SIG_MISMATCH;
  a->version = 4;
  return S3E_OK;
}

enum s3_err s3__auth_v2(const struct s3_request *r, const struct s3_keys *keys, const char *vhost_bucket,
                        int64_t now_ms, struct s3_auth *a, char *msg, size_t msglen);

enum s3_err s3_authenticate(const struct s3_request *r, const struct s3_keys *keys, const char *vhost_bucket,
                            int64_t now_ms, struct s3_auth *a, char *msg, size_t msglen) {
  memset(a, 0, sizeof *a);
  msg[0] = 0;
  const char *h = s3_header(r, "authorization");
  if (h != NULL && strncmp(h, "AWS4-HMAC-SHA256 ", 17) == 0) {
    char cred[256], sh[1024], sig[80];
    if (parse_v4_header(h, cred, sh, sig) != 0) {
      snprintf(msg, msglen, "the Authorization header needs Credential, SignedHeaders and Signature");
      return S3E_AUTH_MALFORMED;
    }
    const char *date = s3_header(r, "x-amz-date");
    if (date == NULL) {
      snprintf(msg, msglen, "x-amz-date is required with Signature V4");
      return S3E_ACCESS_DENIED;
    }
    struct v4_input in = {.credential = cred, .signed_headers = sh, .signature = sig, .date = date};
    return check_v4(r, keys, now_ms, &in, a, msg, msglen);
  }
  const char *alg = s3_param(r, "X-Amz-Algorithm");
  if (alg != NULL) {
    if (strcmp(alg, "AWS4-HMAC-SHA256") != 0) return S3E_AUTH_QUERY_MALFORMED;
    struct v4_input in = {.credential = s3_param(r, "X-Amz-Credential"),
                          .signed_headers = s3_param(r, "X-Amz-SignedHeaders"),
                          .signature = s3_param(r, "X-Amz-Signature"),
                          .date = s3_param(r, "X-Amz-Date"),
                          .presigned = 1};
    const char *ex = s3_param(r, "X-Amz-Expires");
    if (!in.credential || !in.signed_headers || !in.signature || !in.date || !ex) {
      snprintf(msg, msglen, "a presigned URL needs X-Amz-Credential, -Date, -Expires, -SignedHeaders, -Signature");
      return S3E_AUTH_QUERY_MALFORMED;
    }
    char *end;
    in.expires = strtol(ex, &end, 10);
    if (*end || end == ex) in.expires = -1;
    return check_v4(r, keys, now_ms, &in, a, msg, msglen);
  }
  return s3__auth_v2(r, keys, vhost_bucket, now_ms, a, msg, msglen);
}

/* ListObjects (v1 with marker, v2 with continuation token and start-after), with
 * prefix, delimiter and CommonPrefixes, max-keys and encoding-type=url; and
 * ListMultipartUploads. Keys come from the bucket's sorted set in byte order, as S3
 * orders them (UTF-8 binary order). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "gw.h"

#define XML_HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
#define S3_NS "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\""

struct listing {
  const char *prefix, *delim;
  size_t plen, dlen;
  char *start; /* continue after this key (malloc'd or NULL) */
  size_t slen;
  int url;
  long max;
};

static void put_name(struct s3_buf *b, const struct listing *l, const char *s, size_t n) {
  if (l->url) s3_buf_uri(b, s, n, 1);
  else s3_buf_xml(b, s, n);
}

static void elem(struct s3_buf *b, const struct listing *l, const char *tag, const char *s, size_t n) {
  s3_buf_printf(b, "<%s>", tag);
  put_name(b, l, s, n);
  s3_buf_printf(b, "</%s>", tag);
}

/* Continuation tokens are the key to continue after, base64 so they stay opaque. */
static void token_encode(struct s3_buf *b, const char *s, size_t n) {
  char *out = malloc(4 * ((n + 2) / 3) + 1);
  if (out == NULL) {
    b->oom = 1;
    return;
  }
  EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s, (int)n);
  s3_buf_puts(b, out);
  free(out);
}

static char *token_decode(const char *t, size_t *len) {
  size_t n = strlen(t);
  if (n == 0 || n % 4 != 0 || n > 4 * (S3_MAX_KEY / 3 + 2)) return NULL;
  unsigned char *out = malloc(n);
  if (out == NULL) return NULL;
  int l = EVP_DecodeBlock(out, (const unsigned char *)t, (int)n);
  if (l < 0) {
    free(out);
    return NULL;
  }
  while (n > 0 && t[n - 1] == '=') n--, l--;
  *len = (size_t)l;
  out[l] = 0;
  return (char *)out;
}

static int parse_common(struct s3_ctx *c, struct listing *l) {
  l->prefix = s3_param(&c->req, "prefix");
  l->delim = s3_param(&c->req, "delimiter");
  if (l->prefix == NULL) l->prefix = "";
  if (l->delim && !l->delim[0]) l->delim = NULL;
  l->plen = strlen(l->prefix);
  l->dlen = l->delim ? strlen(l->delim) : 0;
  const char *enc = s3_param(&c->req, "encoding-type");
  if (enc && strcmp(enc, "url") != 0) return s3_reply_error(c, S3E_INVALID_ARGUMENT, "Invalid Encoding Method specified in Request"), -1;
  l->url = enc != NULL;
  const char *mk = s3_param(&c->req, "max-keys");
  if (mk == NULL) mk = s3_param(&c->req, "max-uploads");
  l->max = 1000;
  if (mk) {
    char *end;
    l->max = strtol(mk, &end, 10);
    if (*end || end == mk || l->max < 0) return s3_reply_error(c, S3E_INVALID_ARGUMENT, "max-keys must be a non-negative integer"), -1;
    if (l->max > 1000) l->max = 1000;
  }
  return 0;
}

static int bytes_cmp(const void *a, size_t al, const void *b, size_t bl) {
  int c = memcmp(a, b, al < bl ? al : bl);
  return c ? c : (al > bl) - (al < bl);
}

/* The common prefix of key under l (length), or 0 when the key has none. */
static size_t common_prefix(const struct listing *l, const unsigned char *key, size_t klen) {
  if (!l->delim || klen < l->plen + l->dlen) return 0;
  const unsigned char *p = memmem(key + l->plen, klen - l->plen, l->delim, l->dlen);
  return p ? (size_t)(p - key) + l->dlen : 0;
}

static void list_body(struct s3_ctx *c, struct listing *l, kv_ref objects, int v2, struct s3_buf *b,
                      struct s3_buf *tail) {
  struct s3_store *st = &gw.store;
  uint64_t n = s3s_count(st, objects);
  uint64_t i = l->start && bytes_cmp(l->start, l->slen, l->prefix, l->plen) > 0
                   ? s3s_lower(st, objects, l->start, l->slen, 1)
                   : s3s_lower(st, objects, l->prefix, l->plen, 0);
  /* A marker that is a common prefix means: after everything under it. */
  const char *last_cp = NULL;
  size_t last_cp_len = 0;
  if (l->start && l->delim && l->slen >= l->dlen && !memcmp(l->start + l->slen - l->dlen, l->delim, l->dlen)) {
    last_cp = l->start;
    last_cp_len = l->slen;
  }
  long count = 0;
  int truncated = 0;
  const char *next = NULL;
  size_t next_len = 0;
  for (; i < n; i++) {
    kv_ref val;
    struct pd_entry *e = s3s_rank(st, objects, i, &val);
    const char *key = (const char *)e->key;
    if (e->klen < l->plen || memcmp(key, l->prefix, l->plen) != 0) break;
    size_t cp = common_prefix(l, e->key, e->klen);
    if (cp && last_cp && cp == last_cp_len && !memcmp(key, last_cp, cp)) continue;
    if (count == l->max) {
      truncated = 1;
      break;
    }
    count++;
    if (cp) {
      s3_buf_puts(tail, "<CommonPrefixes>");
      elem(tail, l, "Prefix", key, cp);
      s3_buf_puts(tail, "</CommonPrefixes>");
      last_cp = key;
      last_cp_len = cp;
      next = key;
      next_len = cp;
      continue;
    }
    struct s3_obj *o = s3s_at(st, val);
    char d[32];
    s3_iso_date(d, o->mtime_ms);
    s3_buf_puts(b, "<Contents>");
    elem(b, l, "Key", key, e->klen);
    s3_buf_printf(b, "<LastModified>%s</LastModified><ETag>&quot;%s&quot;</ETag><Size>%llu</Size>", d, o->etag,
                  (unsigned long long)o->body.size);
    if (!v2 || s3_has_param(&c->req, "fetch-owner")) s3_owner_xml(b);
    s3_buf_puts(b, "<StorageClass>STANDARD</StorageClass></Contents>");
    next = key;
    next_len = e->klen;
  }
  struct s3_buf head = {0};
  s3_buf_printf(&head, "<IsTruncated>%s</IsTruncated>", truncated ? "true" : "false");
  if (v2) s3_buf_printf(&head, "<KeyCount>%ld</KeyCount>", count);
  if (truncated && next) {
    if (v2) {
      s3_buf_puts(&head, "<NextContinuationToken>");
      token_encode(&head, next, next_len);
      s3_buf_puts(&head, "</NextContinuationToken>");
    } else {
      elem(&head, l, "NextMarker", next, next_len);
    }
  }
  s3_buf_put(b, head.data, head.len);
  s3_buf_free(&head);
}

void s3_op_list_objects(struct s3_ctx *c, int v2) {
  kv_ref bk = s3s_bucket(&gw.store, c->bucket);
  if (bk == KV_NULL) return s3_reply_error(c, S3E_NO_SUCH_BUCKET, NULL);
  struct listing l = {0};
  if (parse_common(c, &l) != 0) return;
  const char *marker = v2 ? s3_param(&c->req, "start-after") : s3_param(&c->req, "marker");
  const char *token = v2 ? s3_param(&c->req, "continuation-token") : NULL;
  if (token) {
    l.start = token_decode(token, &l.slen);
    if (l.start == NULL) return s3_reply_error(c, S3E_INVALID_ARGUMENT, "The continuation token provided is incorrect");
  } else if (marker && marker[0]) {
    l.start = strdup(marker);
    l.slen = strlen(marker);
  }
  struct s3_buf b = {0}, tail = {0};
  s3_buf_printf(&b, XML_HEAD "<ListBucketResult " S3_NS ">");
  elem(&b, &l, "Name", c->bucket, strlen(c->bucket));
  elem(&b, &l, "Prefix", l.prefix, l.plen);
  if (v2) {
    if (marker) elem(&b, &l, "StartAfter", marker, strlen(marker));
    if (token) elem(&b, &l, "ContinuationToken", token, strlen(token));
  } else {
    elem(&b, &l, "Marker", marker ? marker : "", marker ? strlen(marker) : 0);
  }
  s3_buf_printf(&b, "<MaxKeys>%ld</MaxKeys>", l.max);
  if (l.delim) elem(&b, &l, "Delimiter", l.delim, l.dlen);
  if (l.url) s3_buf_puts(&b, "<EncodingType>url</EncodingType>");
  list_body(c, &l, ((struct s3_bucket *)s3s_at(&gw.store, bk))->objects, v2, &b, &tail);
  s3_buf_put(&b, tail.data, tail.len);
  b.oom |= tail.oom;
  s3_buf_free(&tail);
  s3_buf_puts(&b, "</ListBucketResult>");
  free(l.start);
  s3_reply_xml(c, 200, &b);
}

void s3_op_list_uploads(struct s3_ctx *c) {
  kv_ref bk = s3s_bucket(&gw.store, c->bucket);
  if (bk == KV_NULL) return s3_reply_error(c, S3E_NO_SUCH_BUCKET, NULL);
  struct listing l = {0};
  if (parse_common(c, &l) != 0) return;
  if (l.delim) return s3_reply_error(c, S3E_NOT_IMPLEMENTED, "delimiter is not supported for uploads");
  const char *km = s3_param(&c->req, "key-marker"), *um = s3_param(&c->req, "upload-id-marker");
  if ((um && strlen(um) > 64) || (km && strlen(km) > S3_MAX_KEY))
    return s3_reply_error(c, S3E_INVALID_ARGUMENT, "key-marker or upload-id-marker is too long");
  struct s3_store *st = &gw.store;
  kv_ref ups = ((struct s3_bucket *)s3s_at(st, bk))->uploads;
  struct s3_buf b = {0};
  s3_buf_puts(&b, XML_HEAD "<ListMultipartUploadsResult " S3_NS ">");
  elem(&b, &l, "Bucket", c->bucket, strlen(c->bucket));
  elem(&b, &l, "KeyMarker", km ? km : "", km ? strlen(km) : 0);
  elem(&b, &l, "UploadIdMarker", um ? um : "", um ? strlen(um) : 0);
  elem(&b, &l, "Prefix", l.prefix, l.plen);
  s3_buf_printf(&b, "<MaxUploads>%ld</MaxUploads>", l.max);
  /* Members are key\0uploadId: after (key-marker, upload-id-marker), or after every
   * upload of key-marker when no upload-id-marker is given. */
  char start[S3_MAX_KEY + 80];
  size_t sl = 0;
  uint64_t i = s3s_lower(st, ups, l.prefix, l.plen, 0);
  if (km && km[0]) {
    sl = (size_t)snprintf(start, sizeof start, "%s%c%s", km, 0, um ? um : "\xff");
    uint64_t j = s3s_lower(st, ups, start, sl, 1);
    if (j > i) i = j;
  }
  long count = 0;
  int truncated = 0;
  struct s3_buf items = {0};
  const char *nk = NULL;
  for (; i < s3s_count(st, ups); i++) {
    kv_ref val;
    struct pd_entry *e = s3s_rank(st, ups, i, &val);
    const char *key = (const char *)e->key;
    size_t kl = strlen(key);
    if (kl < l.plen || memcmp(key, l.prefix, l.plen) != 0) break;
    if (count == l.max) {
      truncated = 1;
      break;
    }
    count++;
    nk = key;
    struct s3_upload *u = s3s_at(st, val);
    char d[32];
    s3_iso_date(d, u->initiated_ms);
    s3_buf_puts(&items, "<Upload>");
    elem(&items, &l, "Key", key, kl);
    s3_buf_printf(&items, "<UploadId>%s</UploadId><Initiator><ID>", key + kl + 1);
    s3_buf_xml(&items, gw.cfg.keys.access_key, strlen(gw.cfg.keys.access_key));
    s3_buf_puts(&items, "</ID></Initiator>");
    s3_owner_xml(&items);
    s3_buf_printf(&items, "<StorageClass>STANDARD</StorageClass><Initiated>%s</Initiated></Upload>", d);
  }
  if (truncated && nk) {
    elem(&b, &l, "NextKeyMarker", nk, strlen(nk));
    s3_buf_printf(&b, "<NextUploadIdMarker>%s</NextUploadIdMarker>", nk + strlen(nk) + 1);
  }
  s3_buf_printf(&b, "<IsTruncated>%s</IsTruncated>", truncated ? "true" : "false");
  s3_buf_put(&b, items.data, items.len);
  b.oom |= items.oom;
  s3_buf_free(&items);
  s3_buf_puts(&b, "</ListMultipartUploadsResult>");
  s3_reply_xml(c, 200, &b);
}

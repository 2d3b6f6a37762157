/* Object operations: PutObject (streamed into chunks, Content-MD5 and the signed
 * SHA-256 checked before the object becomes visible), CopyObject (with the metadata
 * directive), GetObject/HeadObject (Range and the four conditional headers, streamed
 * out of the chunks) and DeleteObject. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include <rum/rum_errors.h>

#include "gw.h"

#define XML_HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"

enum { SMALL_BODY = 64u << 10 }; /* GET bodies up to this are copied into the response */

/* Content-MD5 (base64 of 16 bytes) into md5; 0 absent, 1 present, -1 malformed. */
static int content_md5(const struct s3_request *r, unsigned char md5[16]) {
  const char *h = s3_header(r, "content-md5");
  if (h == NULL) return 0;
  unsigned char out[20];
  if (strlen(h) != 24 || EVP_DecodeBlock(out, (const unsigned char *)h, 24) != 18) return -1;
  memcpy(md5, out, 16);
  return 1;
}

int s3__check_put_headers(struct s3_ctx *c, uint64_t *size_hint) {
  unsigned char md5[16];
  if (content_md5(&c->req, md5) < 0) return s3_reply_error(c, S3E_INVALID_DIGEST, NULL), -1;
  const char *cl = s3_header(&c->req, "content-length");
  const char *dl = s3_header(&c->req, "x-amz-decoded-content-length");
  const char *te = s3_header(&c->req, "transfer-encoding");
  if (c->auth.payload == S3_PAYLOAD_STREAMING && dl == NULL)
    return s3_reply_error(c, S3E_MISSING_LENGTH, "x-amz-decoded-content-length is required with aws-chunked"), -1;
  if (cl == NULL && te == NULL) return s3_reply_error(c, S3E_MISSING_LENGTH, NULL), -1;
  const char *size = dl ? dl : cl;
  *size_hint = size ? strtoull(size, NULL, 10) : 0;
  if (*size_hint > S3_MAX_PUT) return s3_reply_error(c, S3E_ENTITY_TOO_LARGE, NULL), -1;
  return 0;
}

/* Body done: checks, then the object record. 0, or an error already sent. */
int s3__finish_body(struct s3_ctx *c, struct s3_body *body, unsigned char md5[16]) {
  enum s3_err e = s3_body_check(c);
  if (e != S3E_OK) return s3_reply_error(c, e, NULL), -1;
  c->writer_live = 0;
  if (s3w_finish(&c->writer, body, md5) != 0) {
    s3w_abort(&c->writer);
    return s3_reply_error(c, S3E_NO_SPACE, NULL), -1;
  }
  unsigned char want[16];
  if (content_md5(&c->req, want) == 1 && memcmp(want, md5, 16) != 0) {
    s3s_body_free(&gw.store, body);
    return s3_reply_error(c, S3E_BAD_DIGEST, NULL), -1;
  }
  return 0;
}

static void reply_etag(struct s3_ctx *c, const char *etag) {
  struct MHD_Response *r = MHD_create_response_from_buffer(0, (char *)"", MHD_RESPMEM_PERSISTENT);
  char q[S3_ETAG_MAX + 4];
  s3_etag_quoted(q, sizeof q, etag);
  if (r) MHD_add_response_header(r, "ETag", q);
  s3_reply(c, r, 200);
}

static void put_finish(struct s3_ctx *c) {
  struct s3_body body;
  unsigned char md5[16];
  if (s3__finish_body(c, &body, md5) != 0) return;
  struct s3_buf meta = {0};
  enum s3_err e;
  char etag[S3_ETAG_MAX];
  s3_hex(etag, md5, 16);
  kv_ref o = KV_NULL;
  if (s3_meta_from_request(&c->req, &meta, &e) != 0 ||
      (o = s3s_obj_new(&gw.store, &body, gw.now_ms(), etag, meta.data, meta.len)) == KV_NULL ||
      s3s_obj_put(&gw.store, c->bucket_ref, c->key, c->klen, o) != 0) {
    if (o != KV_NULL) s3s_obj_free(&gw.store, o);
    else s3s_body_free(&gw.store, &body);
    s3_buf_free(&meta);
    return s3_reply_error(c, meta.oom || o == KV_NULL ? S3E_NO_SPACE : e, NULL);
  }
  s3_buf_free(&meta);
  if ((e = s3_commit()) != S3E_OK) return s3_reply_error(c, e, NULL);
  reply_etag(c, etag);
}

void s3_op_put_object(struct s3_ctx *c) {
  uint64_t hint;
  if (s3__check_put_headers(c, &hint) != 0) return;
  struct s3_buf meta = {0};
  enum s3_err e;
  int bad = s3_meta_from_request(&c->req, &meta, &e);
  s3_buf_free(&meta);
  if (bad) return s3_reply_error(c, e, NULL);
  s3_expect_object(c, hint, put_finish);
}

/* Copy body src into a new body through the writer, in pieces. */
int s3__copy_body(const struct s3_body *src, uint64_t off, uint64_t len, struct s3_body *out, unsigned char md5[16]) {
  struct s3_writer w;
  if (s3w_init(&w, &gw.store, len) != 0) return RUM_ENOMEM;
  enum { PIECE = 256u << 10 };
  unsigned char *buf = malloc(PIECE);
  if (buf == NULL) {
    s3w_abort(&w);
    return RUM_ENOMEM;
  }
  int rc = 0;
  for (uint64_t done = 0; done < len && rc == 0; done += PIECE) {
    size_t n = len - done < PIECE ? (size_t)(len - done) : PIECE;
    s3s_read(&gw.store, src, off + done, buf, n);
    rc = s3w_write(&w, buf, n);
  }
  free(buf);
  if (rc == 0) rc = s3w_finish(&w, out, md5);
  if (rc != 0) s3w_abort(&w);
  return rc;
}

void s3_op_copy_object(struct s3_ctx *c) {
  kv_ref src;
  enum s3_err e;
  if (s3_copy_source(c, &src, &e) != 0) return s3_reply_error(c, e, NULL);
  const char *dir = s3_header(&c->req, "x-amz-metadata-directive");
  int replace = dir && !strcasecmp(dir, "REPLACE");
  if (dir && !replace && strcasecmp(dir, "COPY") != 0)
    return s3_reply_error(c, S3E_INVALID_ARGUMENT, "Unknown metadata directive.");
  struct s3_obj *so = s3s_at(&gw.store, src);
  if (s3__copy_conditions(&c->req, so) != 0) return s3_reply_error(c, S3E_PRECONDITION, NULL);
  kv_ref dst_existing = s3s_get(&gw.store, ((struct s3_bucket *)s3s_at(&gw.store, c->bucket_ref))->objects,
                                c->key, c->klen);
  if (dst_existing == src && !replace)
    return s3_reply_error(c, S3E_INVALID_REQUEST,
                          "This copy request is illegal because it is trying to copy an object to itself without "
                          "changing the object's metadata, storage class, website redirect location or encryption "
                          "attributes.");
  struct s3_buf meta = {0};
  if (replace) {
    if (s3_meta_from_request(&c->req, &meta, &e) != 0) {
      s3_buf_free(&meta);
      return s3_reply_error(c, e, NULL);
    }
  } else {
    struct kv_blob *m = kv_blob(gw.store.kv, so->meta);
    s3_buf_put(&meta, m->data, m->len);
  }
  struct s3_body body;
  unsigned char md5[16];
  char etag[S3_ETAG_MAX];
  snprintf(etag, sizeof etag, "%s", so->etag);
  struct s3_body sb = so->body;
  kv_ref o = KV_NULL;
  if (meta.oom || s3__copy_body(&sb, 0, sb.size, &body, md5) != 0) {
    s3_buf_free(&meta);
    return s3_reply_error(c, S3E_NO_SPACE, NULL);
  }
  /* A multipart source keeps its ETag (S3 does the same for a plain copy). */
  if (strchr(etag, '-') == NULL) s3_hex(etag, md5, 16);
  int64_t now = gw.now_ms();
  if ((o = s3s_obj_new(&gw.store, &body, now, etag, meta.data, meta.len)) == KV_NULL ||
      s3s_obj_put(&gw.store, c->bucket_ref, c->key, c->klen, o) != 0) {
    if (o != KV_NULL) s3s_obj_free(&gw.store, o);
    else s3s_body_free(&gw.store, &body);
    s3_buf_free(&meta);
    return s3_reply_error(c, S3E_NO_SPACE, NULL);
  }
  s3_buf_free(&meta);
  if ((e = s3_commit()) != S3E_OK) return s3_reply_error(c, e, NULL);
  struct s3_buf b = {0};
  char d[32];
  s3_iso_date(d, now);
  s3_buf_printf(&b, XML_HEAD "<CopyObjectResult><LastModified>%s</LastModified><ETag>&quot;%s&quot;</ETag>"
                    "</CopyObjectResult>", d, etag);
  s3_reply_xml(c, 200, &b);
}

/* ---- GET / HEAD ---- */

struct reader {
  kv_ref obj;
  struct s3_body body;
  uint64_t start;
};

static ssize_t read_cb(void *cls, uint64_t pos, char *buf, size_t max) {
  struct reader *rd = cls;
  if (pos >= rd->body.size) return MHD_CONTENT_READER_END_OF_STREAM;
  size_t n = rd->body.size - pos < max ? (size_t)(rd->body.size - pos) : max;
  s3s_read(&gw.store, &rd->body, rd->start + pos, buf, n);
  return (ssize_t)n;
}

static void read_free(void *cls) {
  struct reader *rd = cls;
  s3s_unpin(&gw.store, rd->obj);
  free(rd);
}

/* Does the If-Match / If-None-Match list contain etag? */
static int etag_in(const char *list, const char *etag) {
  if (!strcmp(list, "*")) return 1;
  size_t el = strlen(etag);
  for (const char *p = list; *p;) {
    while (*p == ' ' || *p == ',') p++;
    if (!strncmp(p, "W/", 2)) p += 2;
    const char *q = p;
    if (*q == '"') q++;
    if (!strncmp(q, etag, el) && (q[el] == '"' || q[el] == ',' || q[el] == 0 || q[el] == ' ')) return 1;
    p = strchr(p, ',');
    if (p == NULL) break;
  }
  return 0;
}

/* RFC 7232 section 6 order over the four headers named by prefix ("if-" for a GET,
 * "x-amz-copy-source-if-" for a copy's source). S3E_OK to go on, or the answer. */
static enum s3_err preconditions(const struct s3_request *r, const char *prefix, const struct s3_obj *o) {
  char n[4][48];
  static const char *const names[] = {"match", "none-match", "modified-since", "unmodified-since"};
  for (int i = 0; i < 4; i++) snprintf(n[i], sizeof n[i], "%s%s", prefix, names[i]);
  const char *im = s3_header(r, n[0]), *inm = s3_header(r, n[1]);
  const char *ims = s3_header(r, n[2]), *ius = s3_header(r, n[3]);
  int64_t secs = o->mtime_ms / 1000 * 1000;
  if (im && !etag_in(im, o->etag)) return S3E_PRECONDITION;
  if (!im && ius) {
    int64_t t = s3_parse_date(ius);
    if (t >= 0 && secs > t) return S3E_PRECONDITION;
  }
  if (inm && etag_in(inm, o->etag)) return S3E_NOT_MODIFIED;
  if (!inm && ims) {
    int64_t t = s3_parse_date(ims);
    if (t >= 0 && secs <= t) return S3E_NOT_MODIFIED;
  }
  return S3E_OK;
}

/* A copy source's conditions: S3 answers 412 for each that fails. */
int s3__copy_conditions(const struct s3_request *r, const struct s3_obj *src) {
  return preconditions(r, "x-amz-copy-source-if-", src) == S3E_OK ? 0 : -1;
}

/* "bytes=a-b", "bytes=a-", "bytes=-n". 0 whole object (no or unusable header), 1 a
 * range in start and len, -1 not satisfiable. */
static int parse_range(const char *h, uint64_t size, uint64_t *start, uint64_t *len) {
  if (h == NULL || strncmp(h, "bytes=", 6) != 0 || strchr(h, ',')) return 0;
  const char *p = h + 6;
  char *end;
  if (*p == '-') {
    unsigned long long n = strtoull(p + 1, &end, 10);
    if (*end || end == p + 1) return 0;
    if (n == 0) return -1;
    if (n > size) n = size;
    *start = size - n;
    *len = n;
    return size ? 1 : -1;
  }
  unsigned long long a = strtoull(p, &end, 10), b;
  if (end == p || *end != '-') return 0;
  p = end + 1;
  if (*p == 0) b = size ? size - 1 : 0;
  else {
    b = strtoull(p, &end, 10);
    if (*end || b < a) return 0;
  }
  if (a >= size) return -1;
  if (b >= size) b = size - 1;
  *start = a;
  *len = b - a + 1;
  return 1;
}

static void object_headers(struct s3_ctx *c, struct MHD_Response *r, const struct s3_obj *o, kv_ref meta) {
  char q[S3_ETAG_MAX + 4], d[32];
  s3_etag_quoted(q, sizeof q, o->etag);
  s3_http_date(d, o->mtime_ms);
  MHD_add_response_header(r, "ETag", q);
  MHD_add_response_header(r, "Last-Modified", d);
  MHD_add_response_header(r, "Accept-Ranges", "bytes");
  s3_meta_to_response(c, r, meta);
}

void s3_op_get_object(struct s3_ctx *c, int head) {
  kv_ref ob = s3s_get(&gw.store, ((struct s3_bucket *)s3s_at(&gw.store, c->bucket_ref))->objects, c->key, c->klen);
  if (ob == KV_NULL) return s3_reply_error(c, S3E_NO_SUCH_KEY, NULL);
  struct s3_obj *o = s3s_at(&gw.store, ob);
  enum s3_err e = preconditions(&c->req, "if-", o);
  if (e == S3E_NOT_MODIFIED) {
    struct MHD_Response *r = MHD_create_response_from_buffer(0, (char *)"", MHD_RESPMEM_PERSISTENT);
    if (r) object_headers(c, r, o, o->meta);
    return s3_reply(c, r, 304);
  }
  if (e != S3E_OK) return s3_reply_error(c, e, NULL);
  uint64_t start = 0, len = o->body.size;
  int ranged = parse_range(s3_header(&c->req, "range"), o->body.size, &start, &len);
  if (ranged < 0) {
    struct s3_buf b = {0};
    if (!head) s3_error_xml(&b, S3E_INVALID_RANGE, NULL, c->resource, c->request_id);
    struct MHD_Response *r = MHD_create_response_from_buffer(b.len, b.data ? b.data : (char *)"", MHD_RESPMEM_MUST_COPY);
    s3_buf_free(&b);
    char cr[64];
    snprintf(cr, sizeof cr, "bytes */%llu", (unsigned long long)o->body.size);
    if (r) {
      MHD_add_response_header(r, "Content-Range", cr);
      MHD_add_response_header(r, "Content-Type", "application/xml");
    }
    return s3_reply(c, r, 416);
  }
  struct MHD_Response *r;
  if (len <= SMALL_BODY) {
    /* A small body is copied out at once: nothing to pin, no big send buffer. */
    void *copy = malloc(len ? (size_t)len : 1);
    if (copy == NULL) return s3_reply_error(c, S3E_INTERNAL, NULL);
    if (!head) s3s_read(&gw.store, &o->body, start, copy, (size_t)len);
    r = MHD_create_response_from_buffer((size_t)len, copy, MHD_RESPMEM_MUST_FREE);
    if (r == NULL) {
      free(copy);
      return s3_reply_error(c, S3E_INTERNAL, NULL);
    }
  } else {
    struct reader *rd = malloc(sizeof *rd);
    if (rd == NULL) return s3_reply_error(c, S3E_INTERNAL, NULL);
    rd->obj = ob;
    rd->body = o->body;
    rd->body.size = len;
    rd->start = start;
    s3s_pin(&gw.store, ob);
    r = MHD_create_response_from_callback(len, 256u << 10, read_cb, rd, read_free);
    if (r == NULL) {
      read_free(rd);
      return s3_reply_error(c, S3E_INTERNAL, NULL);
    }
  }
  object_headers(c, r, o, o->meta);
  if (ranged) {
    char cr[96];
    snprintf(cr, sizeof cr, "bytes %llu-%llu/%llu", (unsigned long long)start, (unsigned long long)(start + len - 1),
             (unsigned long long)o->body.size);
    MHD_add_response_header(r, "Content-Range", cr);
  }
  s3_reply(c, r, ranged ? 206 : 200);
}

void s3_op_delete_object(struct s3_ctx *c) {
  s3s_obj_delete(&gw.store, c->bucket_ref, c->key, c->klen);
  enum s3_err e = s3_commit();
  if (e != S3E_OK) return s3_reply_error(c, e, NULL);
  s3_reply_empty(c, 204);
}

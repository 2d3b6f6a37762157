/* Multipart uploads: Create, UploadPart, UploadPartCopy, Complete (the parts' chunks
 * become the object's without copying; ETag is the MD5 of the part MD5s, "-N"),
 * Abort, ListParts. An upload is the member "key\0uploadId" of the bucket's uploads. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <rum/rum_errors.h>

#include "gw.h"
#include "xml.h"

#define XML_HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
#define S3_NS "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\""


/* The upload named by ?uploadId for c's key; KV_NULL (NoSuchUpload sent) if none. */
static kv_ref find_upload(struct s3_ctx *c) {
  const char *id = s3_param(&c->req, "uploadId");
  size_t il = strlen(id);
  if (il == 0 || il > 32 || c->klen + 1 + il > sizeof c->upload_member) {
    s3_reply_error(c, S3E_NO_SUCH_UPLOAD, NULL);
    return KV_NULL;
  }
  memcpy(c->upload_member, c->key, c->klen);
  c->upload_member[c->klen] = 0;
  memcpy(c->upload_member + c->klen + 1, id, il + 1);
  c->upload_member_len = c->klen + 1 + il;
  kv_ref u = s3s_get(&gw.store, ((struct s3_bucket *)s3s_at(&gw.store, c->bucket_ref))->uploads,
                     c->upload_member, c->upload_member_len);
  if (u == KV_NULL) s3_reply_error(c, S3E_NO_SUCH_UPLOAD, NULL);
  return u;
}

static int part_number(struct s3_ctx *c) {
  const char *p = s3_param(&c->req, "partNumber");
  char *end;
  long n = p ? strtol(p, &end, 10) : 0;
  if (p == NULL || *end || end == p || n < 1 || n > S3_MAX_PART_NUMBER) {
    s3_reply_error(c, S3E_INVALID_ARGUMENT, "Part number must be an integer between 1 and 10000, inclusive");
    return -1;
  }
  return (int)n;
}

void s3_op_create_upload(struct s3_ctx *c) {
  struct s3_buf meta = {0};
  enum s3_err e;
  if (s3_meta_from_request(&c->req, &meta, &e) != 0) {
    s3_buf_free(&meta);
    return s3_reply_error(c, e, NULL);
  }
  unsigned char rnd[16];
  char id[33];
  if (RAND_bytes(rnd, sizeof rnd) != 1) {
    s3_buf_free(&meta);
    return s3_reply_error(c, S3E_INTERNAL, NULL);
  }
  s3_hex(id, rnd, 16);
  char *mem = malloc(c->klen + 34);
  if (mem == NULL) return s3_buf_free(&meta), s3_reply_error(c, S3E_INTERNAL, NULL);
  memcpy(mem, c->key, c->klen);
  mem[c->klen] = 0;
  memcpy(mem + c->klen + 1, id, 33);
  kv_ref u = s3s_upload_create(&gw.store, c->bucket_ref, mem, c->klen + 33, gw.now_ms(), meta.data, meta.len);
  free(mem);
  s3_buf_free(&meta);
  if (u == KV_NULL) return s3_reply_error(c, S3E_NO_SPACE, NULL);
  if ((e = s3_commit()) != S3E_OK) return s3_reply_error(c, e, NULL);
  struct s3_buf b = {0};
  s3_buf_puts(&b, XML_HEAD "<InitiateMultipartUploadResult " S3_NS "><Bucket>");
  s3_buf_xml(&b, c->bucket, strlen(c->bucket));
  s3_buf_puts(&b, "</Bucket><Key>");
  s3_buf_xml(&b, c->key, c->klen);
  s3_buf_printf(&b, "</Key><UploadId>%s</UploadId></InitiateMultipartUploadResult>", id);
  s3_reply_xml(c, 200, &b);
}

static void store_part(struct s3_ctx *c, kv_ref u, struct s3_body *body, const unsigned char md5[16]) {
  if (s3s_part_put(&gw.store, u, c->part_number, body, md5, gw.now_ms()) != 0) {
    s3s_body_free(&gw.store, body);
    return s3_reply_error(c, S3E_NO_SPACE, NULL);
  }
}

static void part_finish(struct s3_ctx *c) {
  struct s3_body body;
  unsigned char md5[16];
  if (s3__finish_body(c, &body, md5) != 0) return;
  /* The upload may have been aborted while the part streamed in. */
  kv_ref u = find_upload(c);
  if (u == KV_NULL) return s3s_body_free(&gw.store, &body);
  store_part(c, u, &body, md5);
  if (c->responded) return;
  enum s3_err e = s3_commit();
  if (e != S3E_OK) return s3_reply_error(c, e, NULL);
  char etag[40], q[44];
  s3_hex(etag, md5, 16);
  s3_etag_quoted(q, sizeof q, etag);
  struct MHD_Response *r = MHD_create_response_from_buffer(0, (char *)"", MHD_RESPMEM_PERSISTENT);
  if (r) MHD_add_response_header(r, "ETag", q);
  s3_reply(c, r, 200);
}

void s3_op_upload_part(struct s3_ctx *c) {
  if ((c->part_number = part_number(c)) < 0) return;
  if (find_upload(c) == KV_NULL) return;
  uint64_t hint;
  if (s3__check_put_headers(c, &hint) != 0) return;
  s3_expect_object(c, hint, part_finish);
}

void s3_op_upload_part_copy(struct s3_ctx *c) {
  if ((c->part_number = part_number(c)) < 0) return;
  kv_ref u = find_upload(c);
  if (u == KV_NULL) return;
  kv_ref src;
  enum s3_err e;
  if (s3_copy_source(c, &src, &e) != 0) return s3_reply_error(c, e, NULL);
  struct s3_obj *so = s3s_at(&gw.store, src);
  if (s3__copy_conditions(&c->req, so) != 0) return s3_reply_error(c, S3E_PRECONDITION, NULL);
  uint64_t off = 0, len = so->body.size;
  const char *range = s3_header(&c->req, "x-amz-copy-source-range");
  if (range) {
    unsigned long long a, b;
    int used = 0;
    if (sscanf(range, "bytes=%llu-%llu%n", &a, &b, &used) != 2 || range[used] || b < a || b >= so->body.size)
      return s3_reply_error(c, S3E_INVALID_RANGE, NULL);
    off = a;
    len = b - a + 1;
  }
  struct s3_body src_body = so->body, body;
  unsigned char md5[16];
  if (s3__copy_body(&src_body, off, len, &body, md5) != 0) return s3_reply_error(c, S3E_NO_SPACE, NULL);
  store_part(c, u, &body, md5);
  if (c->responded) return;
  if ((e = s3_commit()) != S3E_OK) return s3_reply_error(c, e, NULL);
  char etag[40], d[32];
  s3_hex(etag, md5, 16);
  s3_iso_date(d, gw.now_ms());
  struct s3_buf b = {0};
  s3_buf_printf(&b, XML_HEAD "<CopyPartResult><LastModified>%s</LastModified><ETag>&quot;%s&quot;</ETag>"
                    "</CopyPartResult>", d, etag);
  s3_reply_xml(c, 200, &b);
}

static struct s3_part *get_part(struct s3_upload *u, int n) {
  unsigned char be[4] = {(unsigned char)(n >> 24), (unsigned char)(n >> 16), (unsigned char)(n >> 8), (unsigned char)n};
  kv_ref p = s3s_get(&gw.store, u->parts, be, 4);
  return p ? s3s_at(&gw.store, p) : NULL;
}

/* Check the listed parts, then join their chunk lists into one body. */
static enum s3_err assemble(struct s3_upload *u, const struct s3_complete *cm, struct s3_body *out, char *etag) {
  struct ph_heap *h = gw.store.kv->heap;
  uint64_t nchunks = 0;
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  if (md == NULL || !EVP_DigestInit_ex(md, EVP_md5(), NULL)) return EVP_MD_CTX_free(md), S3E_INTERNAL;
  enum s3_err e = S3E_OK;
  for (int i = 1; i < cm->nparts && e == S3E_OK; i++)
    if (cm->parts[i].number <= cm->parts[i - 1].number) e = S3E_INVALID_PART_ORDER;
  for (int i = 0; i < cm->nparts && e == S3E_OK; i++) {
    struct s3_part *p = get_part(u, cm->parts[i].number);
    char hex[33];
    if (p) s3_hex(hex, p->md5, 16);
    if (p == NULL || strcmp(hex, cm->parts[i].etag) != 0) e = S3E_INVALID_PART;
    else if (i < cm->nparts - 1 && p->body.size < S3_MIN_PART) e = S3E_ENTITY_TOO_SMALL;
    else {
      nchunks += p->body.nchunks;
      EVP_DigestUpdate(md, p->md5, 16);
    }
  }
  unsigned char d[16];
  unsigned int dl = 16;
  EVP_DigestFinal_ex(md, d, &dl);
  EVP_MD_CTX_free(md);
  if (e != S3E_OK) return e;
  memset(out, 0, sizeof *out);
  out->chunks = ph_alloc(h, (nchunks ? nchunks : 1) * sizeof(struct s3_chunkref));
  if (out->chunks == KV_NULL) return S3E_NO_SPACE;
  struct s3_chunkref *a = ph_ptr(h, out->chunks);
  for (int i = 0; i < cm->nparts; i++) {
    struct s3_part *p = get_part(u, cm->parts[i].number);
    const struct s3_chunkref *pc = p->body.nchunks ? ph_ptr(h, p->body.chunks) : NULL;
    for (uint64_t k = 0; k < p->body.nchunks; k++) {
      a[out->nchunks].off = out->size + pc[k].off;
      a[out->nchunks].blob = pc[k].blob;
      out->nchunks++;
    }
    out->size += p->body.size;
    /* The chunks now belong to the object: the part keeps none. */
    ph_free(h, p->body.chunks);
    memset(&p->body, 0, sizeof p->body);
  }
  char hex[33];
  s3_hex(hex, d, 16);
  snprintf(etag, S3_ETAG_MAX, "%s-%d", hex, cm->nparts);
  return S3E_OK;
}

static void complete_finish(struct s3_ctx *c) {
  enum s3_err e = s3_body_check(c);
  if (e != S3E_OK) return s3_reply_error(c, e, NULL);
  kv_ref u = find_upload(c);
  if (u == KV_NULL) return;
  struct s3_complete cm;
  if ((e = s3_xml_complete(c->buf.data, c->buf.len, &cm)) != S3E_OK) return s3_reply_error(c, e, NULL);
  struct s3_upload *pu = s3s_at(&gw.store, u);
  struct s3_body body;
  char etag[S3_ETAG_MAX];
  e = assemble(pu, &cm, &body, etag);
  s3_complete_free(&cm);
  if (e != S3E_OK) return s3_reply_error(c, e, NULL);
  struct kv_blob *m = kv_blob(gw.store.kv, pu->meta);
  kv_ref o = s3s_obj_new(&gw.store, &body, gw.now_ms(), etag, m->data, m->len);
  if (o == KV_NULL || s3s_obj_put(&gw.store, c->bucket_ref, c->key, c->klen, o) != 0) {
    if (o != KV_NULL) s3s_obj_free(&gw.store, o);
    else s3s_body_free(&gw.store, &body);
    s3s_upload_delete(&gw.store, c->bucket_ref, c->upload_member, c->upload_member_len);
    return s3_reply_error(c, S3E_NO_SPACE, NULL);
  }
  s3s_upload_delete(&gw.store, c->bucket_ref, c->upload_member, c->upload_member_len);
  if ((e = s3_commit()) != S3E_OK) return s3_reply_error(c, e, NULL);
  struct s3_buf b = {0};
  s3_buf_puts(&b, XML_HEAD "<CompleteMultipartUploadResult " S3_NS "><Location>/");
  s3_buf_xml(&b, c->bucket, strlen(c->bucket));
  s3_buf_puts(&b, "/");
  s3_buf_xml(&b, c->key, c->klen);
  s3_buf_puts(&b, "</Location><Bucket>");
  s3_buf_xml(&b, c->bucket, strlen(c->bucket));
  s3_buf_puts(&b, "</Bucket><Key>");
  s3_buf_xml(&b, c->key, c->klen);
  s3_buf_printf(&b, "</Key><ETag>&quot;%s&quot;</ETag></CompleteMultipartUploadResult>", etag);
  s3_reply_xml(c, 200, &b);
}

void s3_op_complete_upload(struct s3_ctx *c) {
  if (find_upload(c) == KV_NULL) return;
  s3_expect_buffer(c, S3_MAX_XML_BODY, complete_finish);
}

void s3_op_abort_upload(struct s3_ctx *c) {
  if (find_upload(c) == KV_NULL) return;
  s3s_upload_delete(&gw.store, c->bucket_ref, c->upload_member, c->upload_member_len);
  enum s3_err e = s3_commit();
  if (e != S3E_OK) return s3_reply_error(c, e, NULL);
  s3_reply_empty(c, 204);
}

void s3_op_list_parts(struct s3_ctx *c) {
  kv_ref u = find_upload(c);
  if (u == KV_NULL) return;
  struct s3_upload *pu = s3s_at(&gw.store, u);
  const char *mp = s3_param(&c->req, "max-parts"), *pm = s3_param(&c->req, "part-number-marker");
  long max = mp ? strtol(mp, NULL, 10) : 1000, marker = pm ? strtol(pm, NULL, 10) : 0;
  if (max < 0 || max > 1000) max = 1000;
  if (marker < 0 || marker > S3_MAX_PART_NUMBER) return s3_reply_error(c, S3E_INVALID_ARGUMENT, "bad part-number-marker");
  struct s3_buf b = {0};
  s3_buf_puts(&b, XML_HEAD "<ListPartsResult " S3_NS "><Bucket>");
  s3_buf_xml(&b, c->bucket, strlen(c->bucket));
  s3_buf_puts(&b, "</Bucket><Key>");
  s3_buf_xml(&b, c->key, c->klen);
  s3_buf_printf(&b, "</Key><UploadId>%s</UploadId><PartNumberMarker>%ld</PartNumberMarker><MaxParts>%ld</MaxParts>",
                c->upload_member + c->klen + 1, marker, max);
  unsigned char be[4] = {(unsigned char)(marker >> 24), (unsigned char)(marker >> 16), (unsigned char)(marker >> 8),
                         (unsigned char)marker};
  uint64_t i = s3s_lower(&gw.store, pu->parts, be, 4, 1);
  long count = 0, last = 0;
  int truncated = 0;
  struct s3_buf items = {0};
  for (; i < s3s_count(&gw.store, pu->parts); i++) {
    if (count == max) {
      truncated = 1;
      break;
    }
    kv_ref val;
    struct pd_entry *e = s3s_rank(&gw.store, pu->parts, i, &val);
    struct s3_part *p = s3s_at(&gw.store, val);
    last = (long)e->key[0] << 24 | (long)e->key[1] << 16 | (long)e->key[2] << 8 | e->key[3];
    char hex[33], d[32];
    s3_hex(hex, p->md5, 16);
    s3_iso_date(d, p->mtime_ms);
    s3_buf_printf(&items, "<Part><PartNumber>%ld</PartNumber><LastModified>%s</LastModified>"
                          "<ETag>&quot;%s&quot;</ETag><Size>%llu</Size></Part>",
                  last, d, hex, (unsigned long long)p->body.size);
    count++;
  }
  if (truncated) s3_buf_printf(&b, "<NextPartNumberMarker>%ld</NextPartNumberMarker>", last);
  s3_buf_printf(&b, "<IsTruncated>%s</IsTruncated>", truncated ? "true" : "false");
  s3_buf_puts(&b, "<StorageClass>STANDARD</StorageClass>");
  s3_owner_xml(&b);
  s3_buf_put(&b, items.data, items.len);
  b.oom |= items.oom;
  s3_buf_free(&items);
  s3_buf_puts(&b, "</ListPartsResult>");
  s3_reply_xml(c, 200, &b);
}

/* Service and bucket operations: ListBuckets, CreateBucket, DeleteBucket, HeadBucket,
 * GetBucketLocation, the (fixed, owner-only) ACL, DeleteObjects. */
#include <stdio.h>
#include <string.h>

#include <rum/rum_errors.h>

#include "gw.h"
#include "xml.h"

#define XML_HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
#define S3_NS "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\""

void s3_op_list_buckets(struct s3_ctx *c) {
  struct s3_store *st = &gw.store;
  struct s3_buf b = {0};
  s3_buf_puts(&b, XML_HEAD "<ListAllMyBucketsResult " S3_NS ">");
  s3_owner_xml(&b);
  s3_buf_puts(&b, "<Buckets>");
  for (uint64_t i = 0; i < s3s_count(st, st->buckets); i++) {
    kv_ref val;
    struct pd_entry *e = s3s_rank(st, st->buckets, i, &val);
    struct s3_bucket *bk = s3s_at(st, val);
    char d[32];
    s3_iso_date(d, bk->created_ms);
    s3_buf_puts(&b, "<Bucket><Name>");
    s3_buf_xml(&b, (const char *)e->key, e->klen);
    s3_buf_printf(&b, "</Name><CreationDate>%s</CreationDate></Bucket>", d);
  }
  s3_buf_puts(&b, "</Buckets></ListAllMyBucketsResult>");
  s3_reply_xml(c, 200, &b);
}

static void create_bucket_finish(struct s3_ctx *c) {
  enum s3_err e = s3_body_check(c);
  if (e != S3E_OK) return s3_reply_error(c, e, NULL);
  char loc[64];
  e = s3_xml_location(c->buf.data, c->buf.len, loc, sizeof loc);
  if (e != S3E_OK) return s3_reply_error(c, e, NULL);
  if (loc[0] && strcmp(loc, gw.cfg.keys.region) != 0) {
    char msg[160];
    snprintf(msg, sizeof msg, "this gateway serves region '%s' only", gw.cfg.keys.region);
    return s3_reply_error(c, S3E_INVALID_ARGUMENT, msg);
  }
  int rc = s3s_bucket_create(&gw.store, c->bucket, gw.now_ms());
  if (rc == 1) return s3_reply_error(c, S3E_BUCKET_EXISTS, NULL);
  if (rc != 0) return s3_reply_error(c, S3E_NO_SPACE, NULL);
  if ((e = s3_commit()) != S3E_OK) return s3_reply_error(c, e, NULL);
  struct MHD_Response *r = MHD_create_response_from_buffer(0, (char *)"", MHD_RESPMEM_PERSISTENT);
  char where[S3_MAX_BUCKET + 2];
  snprintf(where, sizeof where, "/%s", c->bucket);
  if (r) MHD_add_response_header(r, "Location", where);
  s3_reply(c, r, 200);
}

void s3_op_create_bucket(struct s3_ctx *c) {
  if (!s3_bucket_name_ok(c->bucket)) return s3_reply_error(c, S3E_BAD_BUCKET_NAME, NULL);
  s3_expect_buffer(c, 64u << 10, create_bucket_finish);
}

void s3_op_delete_bucket(struct s3_ctx *c) {
  int rc = s3s_bucket_delete(&gw.store, c->bucket);
  if (rc == RUM_ENOENT) return s3_reply_error(c, S3E_NO_SUCH_BUCKET, NULL);
  if (rc == RUM_EBUSY) return s3_reply_error(c, S3E_BUCKET_NOT_EMPTY, NULL);
  enum s3_err e = s3_commit();
  if (e != S3E_OK) return s3_reply_error(c, e, NULL);
  s3_reply_empty(c, 204);
}

void s3_op_head_bucket(struct s3_ctx *c) {
  if (s3s_bucket(&gw.store, c->bucket) == KV_NULL) return s3_reply_error(c, S3E_NO_SUCH_BUCKET, NULL);
  struct MHD_Response *r = MHD_create_response_from_buffer(0, (char *)"", MHD_RESPMEM_PERSISTENT);
  if (r) MHD_add_response_header(r, "x-amz-bucket-region", gw.cfg.keys.region);
  s3_reply(c, r, 200);
}

void s3_op_bucket_location(struct s3_ctx *c) {
  if (s3s_bucket(&gw.store, c->bucket) == KV_NULL) return s3_reply_error(c, S3E_NO_SUCH_BUCKET, NULL);
  struct s3_buf b = {0};
  s3_buf_puts(&b, XML_HEAD "<LocationConstraint " S3_NS ">");
  /* S3 reports us-east-1 as an empty constraint. */
  if (strcmp(gw.cfg.keys.region, "us-east-1") != 0) s3_buf_xml(&b, gw.cfg.keys.region, strlen(gw.cfg.keys.region));
  s3_buf_puts(&b, "</LocationConstraint>");
  s3_reply_xml(c, 200, &b);
}

/* One key pair, one owner: every bucket and object is private to it. */
void s3_op_bucket_acl(struct s3_ctx *c) {
  kv_ref bk = s3s_bucket(&gw.store, c->bucket);
  if (bk == KV_NULL) return s3_reply_error(c, S3E_NO_SUCH_BUCKET, NULL);
  if (c->key && s3s_get(&gw.store, ((struct s3_bucket *)s3s_at(&gw.store, bk))->objects, c->key, c->klen) == KV_NULL)
    return s3_reply_error(c, S3E_NO_SUCH_KEY, NULL);
  struct s3_buf b = {0};
  s3_buf_puts(&b, XML_HEAD "<AccessControlPolicy " S3_NS ">");
  s3_owner_xml(&b);
  s3_buf_puts(&b, "<AccessControlList><Grant><Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
                  "xsi:type=\"CanonicalUser\"><ID>");
  s3_buf_xml(&b, gw.cfg.keys.access_key, strlen(gw.cfg.keys.access_key));
  s3_buf_puts(&b, "</ID><DisplayName>");
  s3_buf_xml(&b, gw.cfg.keys.access_key, strlen(gw.cfg.keys.access_key));
  s3_buf_puts(&b, "</DisplayName></Grantee><Permission>FULL_CONTROL</Permission></Grant>"
                  "</AccessControlList></AccessControlPolicy>");
  s3_reply_xml(c, 200, &b);
}

static void delete_objects_finish(struct s3_ctx *c) {
  enum s3_err e = s3_body_check(c);
  if (e != S3E_OK) return s3_reply_error(c, e, NULL);
  struct s3_delete d;
  if ((e = s3_xml_delete(c->buf.data, c->buf.len, &d)) != S3E_OK) return s3_reply_error(c, e, NULL);
  kv_ref bk = s3s_bucket(&gw.store, c->bucket);
  if (bk == KV_NULL) {
    s3_delete_free(&d);
    return s3_reply_error(c, S3E_NO_SUCH_BUCKET, NULL);
  }
  struct s3_buf b = {0};
  s3_buf_puts(&b, XML_HEAD "<DeleteResult " S3_NS ">");
  for (int i = 0; i < d.nkeys; i++) {
    size_t kl = strlen(d.keys[i]);
    if (!s3_key_ok(d.keys[i], kl)) {
      s3_buf_puts(&b, "<Error><Key>");
      s3_buf_xml(&b, d.keys[i], kl);
      s3_buf_puts(&b, "</Key><Code>InvalidArgument</Code><Message>bad key</Message></Error>");
      continue;
    }
    s3s_obj_delete(&gw.store, bk, d.keys[i], kl);
    if (d.quiet) continue;
    s3_buf_puts(&b, "<Deleted><Key>");
    s3_buf_xml(&b, d.keys[i], kl);
    s3_buf_puts(&b, "</Key></Deleted>");
  }
  s3_buf_puts(&b, "</DeleteResult>");
  s3_delete_free(&d);
  if ((e = s3_commit()) != S3E_OK) {
    s3_buf_free(&b);
    return s3_reply_error(c, e, NULL);
  }
  s3_reply_xml(c, 200, &b);
}

void s3_op_delete_objects(struct s3_ctx *c) {
  if (s3s_bucket(&gw.store, c->bucket) == KV_NULL) return s3_reply_error(c, S3E_NO_SUCH_BUCKET, NULL);
  s3_expect_buffer(c, S3_MAX_XML_BODY, delete_objects_finish);
}

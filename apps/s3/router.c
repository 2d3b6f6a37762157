/* From a parsed request to an operation: addressing (path style "/bucket/key" or
 * virtual host "bucket.<domain>"), name checks, authentication, then the S3 API by
 * method, bucket/key and sub-resource. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gw.h"

/* Host "B.<domain>[:port]" -> B (malloc'd), else NULL. */
static char *vhost_bucket(const char *host) {
  if (host == NULL || gw.cfg.domain == NULL) return NULL;
  size_t hl = strcspn(host, ":");
  if (host[0] == '[') return NULL;
  size_t dl = strlen(gw.cfg.domain);
  if (hl <= dl + 1 || host[hl - dl - 1] != '.' || strncasecmp(host + hl - dl, gw.cfg.domain, dl) != 0)
    return NULL;
  return strndup(host, hl - dl - 1);
}

/* Decode the path into bucket and key. 0, or an error already sent. */
static int address(struct s3_ctx *c, char **vhost) {
  size_t n = strlen(c->req.raw_path);
  char *path = malloc(n + 1);
  if (path == NULL) return s3_reply_error(c, S3E_INTERNAL, NULL), -1;
  long pl = s3_url_decode(path, c->req.raw_path, n, 0);
  if (pl < 0 || path[0] != '/') {
    free(path);
    return s3_reply_error(c, S3E_INVALID_REQUEST, "the path is not valid"), -1;
  }
  *vhost = vhost_bucket(s3_header(&c->req, "host"));
  const char *rest = path + 1;
  if (*vhost) {
    c->bucket = *vhost;
    *vhost = strdup(c->bucket);
  } else if (*rest) {
    const char *slash = strchr(rest, '/');
    c->bucket = slash ? strndup(rest, (size_t)(slash - rest)) : strdup(rest);
    rest = slash ? slash + 1 : rest + strlen(rest);
  }
  if (*rest) {
    c->klen = (size_t)(path + pl - rest);
    c->key = malloc(c->klen + 1);
    if (c->key) memcpy(c->key, rest, c->klen + 1);
  }
  free(path);
  snprintf(c->resource, sizeof c->resource, "/%.30s%s%.28s", c->bucket ? c->bucket : "", c->key ? "/" : "",
           c->key ? c->key : "");
  return 0;
}

static void not_found_config(struct s3_ctx *c, const char *code, const char *msg) {
  struct s3_buf b = {0};
  s3_buf_printf(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s</Code><Message>%s</Message>"
                    "<RequestId>%s</RequestId></Error>", code, msg, c->request_id);
  s3_reply_xml(c, 404, &b);
}

/* Bucket sub-resources clients probe (s3cmd info): they answer as for a bucket that
 * has none of these configured. */
static int bucket_probe(struct s3_ctx *c) {
  static const struct {
    const char *param, *code, *msg;
  } probes[] = {
      {"policy", "NoSuchBucketPolicy", "The bucket policy does not exist"},
      {"cors", "NoSuchCORSConfiguration", "The CORS configuration does not exist"},
      {"lifecycle", "NoSuchLifecycleConfiguration", "The lifecycle configuration does not exist"},
      {"tagging", "NoSuchTagSet", "The TagSet does not exist"},
      {"website", "NoSuchWebsiteConfiguration", "The specified bucket does not have a website configuration"},
      {"encryption", "ServerSideEncryptionConfigurationNotFoundError",
       "The server side encryption configuration was not found"},
  };
  for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
    if (!s3_has_param(&c->req, probes[i].param)) continue;
    not_found_config(c, probes[i].code, probes[i].msg);
    return 1;
  }
  if (s3_has_param(&c->req, "versioning")) {
    struct s3_buf b = {0};
    s3_buf_puts(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<VersioningConfiguration "
                    "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"/>");
    s3_reply_xml(c, 200, &b);
    return 1;
  }
  return 0;
}

static const char *const unsupported[] = {"versionId", "versions", "torrent", "restore", "select",
                                          "logging", "notification", "replication", "requestPayment",
                                          "object-lock", "retention", "legal-hold", "analytics",
                                          "inventory", "metrics", "accelerate", "ownershipControls",
                                          "publicAccessBlock", "intelligent-tiering", "attributes"};

static void bucket_level(struct s3_ctx *c, const char *m) {
  if (!strcmp(m, "GET")) {
    if (s3_has_param(&c->req, "location")) return s3_op_bucket_location(c);
    if (s3_has_param(&c->req, "uploads")) return s3_op_list_uploads(c);
    if (s3_has_param(&c->req, "acl")) return s3_op_bucket_acl(c);
    if (bucket_probe(c)) return;
    const char *lt = s3_param(&c->req, "list-type");
    if (lt && strcmp(lt, "2") != 0) return s3_reply_error(c, S3E_INVALID_ARGUMENT, "list-type must be 2");
    return s3_op_list_objects(c, lt != NULL);
  }
  if (!strcmp(m, "PUT")) {
    if (c->req.nparam) return s3_reply_error(c, S3E_NOT_IMPLEMENTED, "bucket configuration is not supported");
    return s3_op_create_bucket(c);
  }
  if (!strcmp(m, "DELETE")) {
    if (c->req.nparam) return s3_reply_error(c, S3E_NOT_IMPLEMENTED, "bucket configuration is not supported");
    return s3_op_delete_bucket(c);
  }
  if (!strcmp(m, "HEAD")) return s3_op_head_bucket(c);
  if (!strcmp(m, "POST") && s3_has_param(&c->req, "delete")) return s3_op_delete_objects(c);
  s3_reply_error(c, S3E_METHOD_NOT_ALLOWED, NULL);
}

/* Write options this gateway cannot honour are refused, not silently dropped: one
 * owner and private objects only, one storage class, no encryption, tags or locks. */
static int refuse_write_options(struct s3_ctx *c) {
  static const char *const unsupported_headers[] = {
      "x-amz-server-side-encryption", "x-amz-server-side-encryption-customer-algorithm",
      "x-amz-tagging", "x-amz-object-lock-mode", "x-amz-object-lock-retain-until-date",
      "x-amz-object-lock-legal-hold", "x-amz-website-redirect-location", "x-amz-grant-read",
      "x-amz-grant-full-control", "x-amz-grant-read-acp", "x-amz-grant-write-acp"};
  for (size_t i = 0; i < sizeof unsupported_headers / sizeof unsupported_headers[0]; i++) {
    if (s3_header(&c->req, unsupported_headers[i]) == NULL) continue;
    char msg[128];
    snprintf(msg, sizeof msg, "%s is not supported", unsupported_headers[i]);
    s3_reply_error(c, S3E_NOT_IMPLEMENTED, msg);
    return -1;
  }
  const char *acl = s3_header(&c->req, "x-amz-acl");
  if (acl && strcmp(acl, "private") != 0 && strcmp(acl, "bucket-owner-full-control") != 0) {
    s3_reply_error(c, S3E_NOT_IMPLEMENTED, "only private objects are supported (x-amz-acl)");
    return -1;
  }
  const char *sc = s3_header(&c->req, "x-amz-storage-class");
  if (sc && strcmp(sc, "STANDARD") != 0) {
    s3_reply_error(c, S3E_BAD_STORAGE_CLASS, "only STANDARD is offered");
    return -1;
  }
  return 0;
}

static void object_level(struct s3_ctx *c, const char *m) {
  int upload = s3_has_param(&c->req, "uploadId");
  if ((!strcmp(m, "PUT") || !strcmp(m, "POST")) && refuse_write_options(c) != 0) return;
  if (!strcmp(m, "PUT")) {
    if (s3_has_param(&c->req, "acl") || s3_has_param(&c->req, "tagging"))
      return s3_reply_error(c, S3E_NOT_IMPLEMENTED, "object ACLs and tags are not supported");
    if (upload) {
      if (s3_header(&c->req, "x-amz-copy-source")) return s3_op_upload_part_copy(c);
      return s3_op_upload_part(c);
    }
    if (s3_header(&c->req, "x-amz-copy-source")) return s3_op_copy_object(c);
    return s3_op_put_object(c);
  }
  if (!strcmp(m, "GET")) {
    if (upload) return s3_op_list_parts(c);
    if (s3_has_param(&c->req, "acl")) return s3_op_bucket_acl(c);
    if (s3_has_param(&c->req, "tagging") || s3_has_param(&c->req, "partNumber"))
      return s3_reply_error(c, S3E_NOT_IMPLEMENTED, NULL);
    return s3_op_get_object(c, 0);
  }
  if (!strcmp(m, "HEAD")) return s3_op_get_object(c, 1);
  if (!strcmp(m, "DELETE")) return upload ? s3_op_abort_upload(c) : s3_op_delete_object(c);
  if (!strcmp(m, "POST")) {
    if (s3_has_param(&c->req, "uploads")) return s3_op_create_upload(c);
    if (upload) return s3_op_complete_upload(c);
  }
  s3_reply_error(c, S3E_METHOD_NOT_ALLOWED, NULL);
}

void s3_route(struct s3_ctx *c) {
  int rc = s3_parse_query(&c->req);
  if (rc != 0) return s3_reply_error(c, S3E_INVALID_ARGUMENT, "the query string is not valid");
  char *vhost = NULL;
  if (address(c, &vhost) != 0) return;
  char msg[256];
  int64_t now = gw.now_ms();
  enum s3_err e = s3_authenticate(&c->req, &gw.cfg.keys, vhost, now, &c->auth, msg, sizeof msg);
  free(vhost);
  if (e != S3E_OK) return s3_reply_error(c, e, msg);
  for (size_t i = 0; i < sizeof unsupported / sizeof unsupported[0]; i++)
    if (s3_has_param(&c->req, unsupported[i]))
      return s3_reply_error(c, S3E_NOT_IMPLEMENTED, "this sub-resource is not supported");
  const char *m = c->req.method;
  if (c->bucket == NULL) {
    if (!strcmp(m, "GET")) return s3_op_list_buckets(c);
    return s3_reply_error(c, S3E_METHOD_NOT_ALLOWED, NULL);
  }
  /* Existing buckets may be checked loosely (S3 has legacy names); new ones strictly
   * in create. */
  if (strlen(c->bucket) > S3_MAX_BUCKET || strlen(c->bucket) < 3)
    return s3_reply_error(c, S3E_BAD_BUCKET_NAME, NULL);
  if (c->key == NULL) return bucket_level(c, m);
  if (c->klen > S3_MAX_KEY) return s3_reply_error(c, S3E_KEY_TOO_LONG, NULL);
  if (!s3_key_ok(c->key, c->klen)) return s3_reply_error(c, S3E_INVALID_ARGUMENT, "the key is not valid UTF-8");
  c->bucket_ref = s3s_bucket(&gw.store, c->bucket);
  if (c->bucket_ref == KV_NULL) return s3_reply_error(c, S3E_NO_SUCH_BUCKET, NULL);
  object_level(c, m);
}

int s3_copy_source(struct s3_ctx *c, kv_ref *obj, enum s3_err *err) {
  const char *src = s3_header(&c->req, "x-amz-copy-source");
  size_t n = strlen(src);
  char *dec = malloc(n + 1);
  if (dec == NULL) return *err = S3E_INTERNAL, -1;
  /* "bucket/key" or "/bucket/key", %-encoded, maybe "?versionId=..." */
  char *q = strstr(src, "?versionId=");
  long dl = s3_url_decode(dec, src, q ? (size_t)(q - src) : n, 0);
  const char *p = dec;
  if (dl > 0 && *p == '/') p++;
  const char *slash = dl > 0 ? strchr(p, '/') : NULL;
  if (q != NULL || slash == NULL || slash[1] == 0) {
    free(dec);
    *err = q ? S3E_NOT_IMPLEMENTED : S3E_INVALID_ARGUMENT;
    return -1;
  }
  char *bucket = strndup(p, (size_t)(slash - p));
  kv_ref b = bucket ? s3s_bucket(&gw.store, bucket) : KV_NULL;
  free(bucket);
  if (b == KV_NULL) {
    free(dec);
    return *err = S3E_NO_SUCH_BUCKET, -1;
  }
  size_t kl = (size_t)(dec + dl - slash - 1);
  *obj = s3s_get(&gw.store, ((struct s3_bucket *)s3s_at(&gw.store, b))->objects, slash + 1, kl);
  free(dec);
  if (*obj == KV_NULL) return *err = S3E_NO_SUCH_KEY, -1;
  return 0;
}

/* An object's stored headers: Content-Type, the representation headers S3 keeps
 * (Cache-Control, Content-Disposition, Content-Encoding, Content-Language, Expires)
 * and every x-amz-meta-*, as "name\0value\0" pairs; and the shared XML bits. */
#include <stdio.h>
#include <string.h>

#include "gw.h"

static const char *const kept[] = {"cache-control", "content-disposition", "content-language", "expires"};

int s3_meta_from_request(const struct s3_request *r, struct s3_buf *meta, enum s3_err *err) {
  const char *type = s3_header(r, "content-type");
  s3_buf_put(meta, "content-type", 13);
  if (type && *type) s3_buf_put(meta, type, strlen(type) + 1);
  else s3_buf_put(meta, "binary/octet-stream", 20);
  for (size_t k = 0; k < sizeof kept / sizeof kept[0]; k++) {
    const char *v = s3_header(r, kept[k]);
    if (v == NULL) continue;
    s3_buf_put(meta, kept[k], strlen(kept[k]) + 1);
    s3_buf_put(meta, v, strlen(v) + 1);
  }
  /* aws-chunked is the transfer's coding, not the object's. */
  const char *enc = s3_header(r, "content-encoding");
  if (enc && strcmp(enc, "aws-chunked") != 0) {
    char e[256];
    snprintf(e, sizeof e, "%s", enc);
    char *ac = strstr(e, "aws-chunked");
    if (ac) {
      memmove(ac, ac + 11, strlen(ac + 11) + 1);
      size_t l = strlen(e);
      while (l && (e[l - 1] == ',' || e[l - 1] == ' ')) e[--l] = 0;
      if (e[0] == ',') memmove(e, e + 1, strlen(e));
    }
    if (e[0]) {
      s3_buf_put(meta, "content-encoding", 17);
      s3_buf_put(meta, e, strlen(e) + 1);
    }
  }
  size_t user = 0;
  for (int i = 0; i < r->nhdr; i++) {
    if (strncmp(r->hdr[i].name, "x-amz-meta-", 11) != 0) continue;
    user += strlen(r->hdr[i].name) - 11 + strlen(r->hdr[i].value);
    s3_buf_put(meta, r->hdr[i].name, strlen(r->hdr[i].name) + 1);
    s3_buf_put(meta, r->hdr[i].value, strlen(r->hdr[i].value) + 1);
  }
  if (user > S3_MAX_META) return *err = S3E_METADATA_TOO_LARGE, -1;
  if (meta->oom) return *err = S3E_INTERNAL, -1;
  return 0;
}

/* Response headers from the stored ones; response-* query parameters override. */
void s3_meta_to_response(struct s3_ctx *c, struct MHD_Response *resp, kv_ref meta) {
  static const struct {
    const char *stored, *header, *param;
  } map[] = {
      {"content-type", "Content-Type", "response-content-type"},
      {"cache-control", "Cache-Control", "response-cache-control"},
      {"content-disposition", "Content-Disposition", "response-content-disposition"},
      {"content-encoding", "Content-Encoding", "response-content-encoding"},
      {"content-language", "Content-Language", "response-content-language"},
      {"expires", "Expires", "response-expires"},
  };
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
    const char *v = s3_param(&c->req, map[i].param);
    if (v == NULL) v = s3s_meta_get(&gw.store, meta, map[i].stored);
    if (v) MHD_add_response_header(resp, map[i].header, v);
  }
  struct kv_blob *m = kv_blob(gw.store.kv, meta);
  const char *p = (const char *)m->data, *end = p + m->len;
  while (p < end) {
    const char *v = p + strlen(p) + 1;
    if (v >= end) break;
    if (strncmp(p, "x-amz-meta-", 11) == 0) MHD_add_response_header(resp, p, v);
    p = v + strlen(v) + 1;
  }
}

void s3_etag_quoted(char *out, size_t cap, const char *etag) { snprintf(out, cap, "\"%s\"", etag); }

void s3_owner_xml(struct s3_buf *b) {
  s3_buf_puts(b, "<Owner><ID>");
  s3_buf_xml(b, gw.cfg.keys.access_key, strlen(gw.cfg.keys.access_key));
  s3_buf_puts(b, "</ID><DisplayName>");
  s3_buf_xml(b, gw.cfg.keys.access_key, strlen(gw.cfg.keys.access_key));
  s3_buf_puts(b, "</DisplayName></Owner>");
}

/* libxml2 parsing of S3 request bodies (see xml.h). Parsing never loads a DTD, never
 * touches the network, and keeps libxml2's default limits against entity expansion. */
#include "xml.h"

#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

static void quiet_errors(void *ctx, const char *msg, ...) {
  (void)ctx;
  (void)msg;
}

void s3_xml_init(void) {
  xmlInitParser();
  xmlSetGenericErrorFunc(NULL, quiet_errors);
}

static xmlDocPtr parse(const char *body, size_t len) {
  if (len == 0 || len > S3_MAX_XML_BODY) return NULL;
  return xmlReadMemory(body, (int)len, "s3.xml", NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
}

static int is(xmlNodePtr n, const char *name) {
  return n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

/* The text of n into dst (cap bytes). -1 when it does not fit. */
static int text(xmlNodePtr n, char *dst, size_t cap) {
  xmlChar *t = xmlNodeGetContent(n);
  if (t == NULL) return -1;
  size_t l = strlen((const char *)t);
  int rc = l < cap ? 0 : -1;
  if (rc == 0) memcpy(dst, t, l + 1);
  xmlFree(t);
  return rc;
}

static void trim_quotes(char *s) {
  size_t n = strlen(s);
  while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == '\t')) s[--n] = 0;
  size_t i = 0;
  while (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t') i++;
  if (s[i] == '"') i++;
  n = strlen(s + i);
  memmove(s, s + i, n + 1);
  if (n > 0 && s[n - 1] == '"') s[n - 1] = 0;
}

enum s3_err s3_xml_complete(const char *body, size_t len, struct s3_complete *out) {
  memset(out, 0, sizeof *out);
  xmlDocPtr doc = parse(body, len);
  if (doc == NULL) return S3E_MALFORMED_XML;
  enum s3_err rc = S3E_MALFORMED_XML;
  xmlNodePtr root = xmlDocGetRootElement(doc);
  if (root == NULL || !is(root, "CompleteMultipartUpload")) goto out;
  int cap = 0;
  for (xmlNodePtr p = root->children; p; p = p->next) {
    if (p->type != XML_ELEMENT_NODE) continue;
    if (!is(p, "Part")) goto out;
    if (out->nparts == S3_MAX_PART_NUMBER) goto out;
    if (out->nparts == cap) {
      cap = cap ? cap * 2 : 16;
      struct s3_part_ref *np = realloc(out->parts, (size_t)cap * sizeof *np);
      if (np == NULL) {
        rc = S3E_INTERNAL;
        goto out;
      }
      out->parts = np;
    }
    struct s3_part_ref *ref = &out->parts[out->nparts];
    int have_num = 0, have_etag = 0;
    for (xmlNodePtr f = p->children; f; f = f->next) {
      char num[16];
      if (is(f, "PartNumber")) {
        if (text(f, num, sizeof num) != 0) goto out;
        char *end;
        long v = strtol(num, &end, 10);
        if (*end || end == num || v < 1 || v > S3_MAX_PART_NUMBER) goto out;
        ref->number = (int)v;
        have_num = 1;
      } else if (is(f, "ETag")) {
        if (text(f, ref->etag, sizeof ref->etag) != 0) goto out;
        trim_quotes(ref->etag);
        have_etag = 1;
      }
    }
    if (!have_num || !have_etag) goto out;
    out->nparts++;
  }
  if (out->nparts == 0) goto out;
  rc = S3E_OK;
out:
  xmlFreeDoc(doc);
  if (rc != S3E_OK) s3_complete_free(out);
  return rc;
}

void s3_complete_free(struct s3_complete *c) {
  free(c->parts);
  memset(c, 0, sizeof *c);
}

enum s3_err s3_xml_delete(const char *body, size_t len, struct s3_delete *out) {
  memset(out, 0, sizeof *out);
  xmlDocPtr doc = parse(body, len);
  if (doc == NULL) return S3E_MALFORMED_XML;
  enum s3_err rc = S3E_MALFORMED_XML;
  xmlNodePtr root = xmlDocGetRootElement(doc);
  if (root == NULL || !is(root, "Delete")) goto out;
  for (xmlNodePtr p = root->children; p; p = p->next) {
    if (is(p, "Quiet")) {
      char q[8];
      if (text(p, q, sizeof q) != 0) goto out;
      out->quiet = strcmp(q, "true") == 0;
      continue;
    }
    if (!is(p, "Object")) continue;
    if (out->nkeys == S3_MAX_DELETE_KEYS) {
      rc = S3E_TOO_MANY_KEYS;
      goto out;
    }
    if (out->keys == NULL && (out->keys = calloc(S3_MAX_DELETE_KEYS, sizeof *out->keys)) == NULL) {
      rc = S3E_INTERNAL;
      goto out;
    }
    char *key = NULL;
    for (xmlNodePtr f = p->children; f; f = f->next) {
      if (!is(f, "Key") || key != NULL) continue;
      xmlChar *t = xmlNodeGetContent(f);
      key = t ? strdup((const char *)t) : NULL;
      xmlFree(t);
      if (key == NULL) goto out;
    }
    if (key == NULL) goto out;
    out->keys[out->nkeys++] = key;
  }
  if (out->nkeys == 0) goto out;
  rc = S3E_OK;
out:
  xmlFreeDoc(doc);
  if (rc != S3E_OK) s3_delete_free(out);
  return rc;
}

void s3_delete_free(struct s3_delete *d) {
  for (int i = 0; i < d->nkeys; i++) free(d->keys[i]);
  free(d->keys);
  memset(d, 0, sizeof *d);
}

enum s3_err s3_xml_location(const char *body, size_t len, char *loc, size_t cap) {
  loc[0] = 0;
  if (len == 0) return S3E_OK;
  xmlDocPtr doc = parse(body, len);
  if (doc == NULL) return S3E_MALFORMED_XML;
  enum s3_err rc = S3E_MALFORMED_XML;
  xmlNodePtr root = xmlDocGetRootElement(doc);
  if (root == NULL || !is(root, "CreateBucketConfiguration")) goto out;
  for (xmlNodePtr p = root->children; p; p = p->next)
    if (is(p, "LocationConstraint") && text(p, loc, cap) != 0) goto out;
  rc = S3E_OK;
out:
  xmlFreeDoc(doc);
  return rc;
}

/* The request bodies S3 clients send as XML, parsed with libxml2 from a buffer:
 * CompleteMultipartUpload, Delete (DeleteObjects) and CreateBucketConfiguration.
 * Element names are matched by local name, so the S3 namespace is optional. */
#ifndef RUM_S3_XML_H
#define RUM_S3_XML_H

#include <stddef.h>

#include "errors.h"

enum { S3_MAX_DELETE_KEYS = 1000 };

struct s3_part_ref {
  int number;
  char etag[80]; /* without quotes */
};

struct s3_complete {
  struct s3_part_ref *parts; /* malloc'd, nparts entries in document order */
  int nparts;
};

struct s3_delete {
  char **keys; /* malloc'd strings */
  int nkeys;
  int quiet;
};

/* Each returns S3E_OK or S3E_MALFORMED_XML (S3E_TOO_MANY_KEYS, S3E_INTERNAL), and on
 * success fills the output, which the caller frees with the matching _free. */
enum s3_err s3_xml_complete(const char *body, size_t len, struct s3_complete *out);
void s3_complete_free(struct s3_complete *c);
enum s3_err s3_xml_delete(const char *body, size_t len, struct s3_delete *out);
void s3_delete_free(struct s3_delete *d);
/* LocationConstraint into loc (cap bytes; "" when the body names none). */
enum s3_err s3_xml_location(const char *body, size_t len, char *loc, size_t cap);

/* One-time library set-up (before threads); safe to call again. */
void s3_xml_init(void);

#endif

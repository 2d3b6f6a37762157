/* libFuzzer over rum-s3's XML: arbitrary bytes as a CompleteMultipartUpload, Delete
 * and CreateBucketConfiguration body (each parser must accept or answer
 * MalformedXML-class errors, and what it accepts must respect its limits), and the
 * escaping: printable ASCII escaped with s3_buf_xml and parsed back by libxml2 must
 * come out as the same text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "s3.h"
#include "xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void escape_round_trip(const uint8_t *data, size_t size) {
  for (size_t i = 0; i < size; i++)
    if ((data[i] < 0x20 && data[i] != '\t' && data[i] != '\n' && data[i] != '\r') || data[i] > 0x7e) return;
  struct s3_buf b = {0};
  s3_buf_puts(&b, "<a>");
  s3_buf_xml(&b, (const char *)data, size);
  s3_buf_puts(&b, "</a>");
  if (b.oom) abort();
  xmlDocPtr doc = xmlReadMemory(b.data, (int)b.len, "x.xml", NULL, XML_PARSE_NONET | XML_PARSE_NOERROR);
  if (doc == NULL) abort(); /* our escaping produced a document libxml2 refuses */
  xmlChar *t = xmlNodeGetContent(xmlDocGetRootElement(doc));
  if (t == NULL || strlen((char *)t) != size || memcmp(t, data, size) != 0) abort();
  xmlFree(t);
  xmlFreeDoc(doc);
  s3_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int init;
  if (!init) {
    s3_xml_init();
    init = 1;
  }
  if (size > 1 << 20) return 0;
  struct s3_complete cm;
  enum s3_err e = s3_xml_complete((const char *)data, size, &cm);
  if (e == S3E_OK) {
    if (cm.nparts < 1 || cm.nparts > S3_MAX_PART_NUMBER) abort();
    for (int i = 0; i < cm.nparts; i++)
      if (cm.parts[i].number < 1 || cm.parts[i].number > S3_MAX_PART_NUMBER) abort();
    s3_complete_free(&cm);
  } else if (e != S3E_MALFORMED_XML && e != S3E_INTERNAL) {
    abort();
  }
  struct s3_delete d;
  e = s3_xml_delete((const char *)data, size, &d);
  if (e == S3E_OK) {
    if (d.nkeys < 1 || d.nkeys > S3_MAX_DELETE_KEYS) abort();
    for (int i = 0; i < d.nkeys; i++)
      if (d.keys[i] == NULL) abort();
    s3_delete_free(&d);
  }
  char loc[64];
  if (s3_xml_location((const char *)data, size, loc, sizeof loc) == S3E_OK && strlen(loc) >= sizeof loc) abort();
  escape_round_trip(data, size);
  return 0;
}

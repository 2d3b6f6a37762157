/* rum_strerror: the one table of RUM error texts (rum_errors.h). */
#include <string.h>

#include <rum/rum.h>

const char *rum_strerror(int err) {
  switch (err) {
#define RUM_ERROR_TEXT_(name, value, text) \
  case (value):                            \
    return (text);
    RUM_ERROR_TABLE(RUM_ERROR_TEXT_)
#undef RUM_ERROR_TEXT_
  default:
    break;
  }
  if (err < 0 && err > -4096) {
    /* strerror() may use a static buffer for unknown values; for the values glibc
     * knows it returns a static string, which is what we pass on. */
    return strerror(-err);
  }
  return "unknown RUM error";
}

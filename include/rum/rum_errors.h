/* RUM error codes: one table yields the enum and rum_strerror().
 *
 * Every RUM call that returns int returns 0 (or a positive count) on success and one
 * of these negative codes on failure. Codes that mirror a system error use the same
 * number as -errno, so rum_strerror() also describes any -errno a call passes on. */
#ifndef RUM_ERRORS_H
#define RUM_ERRORS_H

#include <errno.h>

/* Marks the functions librum exports; everything else in it is hidden. */
#ifndef RUM_API
#define RUM_API __attribute__((visibility("default")))
#endif

#define RUM_ERROR_TABLE(X)                                                          \
  X(RUM_OK, 0, "success")                                                           \
  X(RUM_EINVAL, -EINVAL, "invalid argument")                                        \
  X(RUM_ENOMEM, -ENOMEM, "out of memory")                                           \
  X(RUM_ENOSPC, -ENOSPC, "memory node is full (its --memory-mb limit is reached)")  \
  X(RUM_ENOENT, -ENOENT, "no such region or name")                                  \
  X(RUM_EEXIST, -EEXIST, "a region of that name exists already")                    \
  X(RUM_ETIMEDOUT, -ETIMEDOUT, "no answer from the memory node before the timeout") \
  X(RUM_EBUSY, -EBUSY, "resource busy")                                             \
  X(RUM_EAGAIN, -EAGAIN, "try again")                                               \
  X(RUM_EMSGSIZE, -EMSGSIZE, "message too large")                                   \
  X(RUM_ENOTSUP, -ENOTSUP, "operation not supported")                               \
  X(RUM_EIO, -EIO, "input/output error")                                            \
  X(RUM_EPERM, -EPERM, "region belongs to another client session")                  \
  X(RUM_EDQUOT, -EDQUOT, "client memory quota on the node reached (--client-quota-mb)") \
  X(RUM_EPROTO, -1000, "malformed or unexpected protocol message")                  \
  X(RUM_EAUTH, -1001, "packet failed authentication (wrong or missing cluster key)") \
  X(RUM_ECONFIG, -1002, "bad configuration")                                        \
  X(RUM_ELEASE, -1003, "lease expired: the node reclaimed this client's regions")   \
  X(RUM_ENOTINIT, -1004, "rum_init() has not been called")                          \
  X(RUM_ETRANSPORT, -1005, "transport unavailable")                                 \
  X(RUM_ESTALE, -1006, "stale request or region")                                   \
  X(RUM_ENOTLEADER, -1007, "not the replica group's leader")                        \
  X(RUM_ESHUTDOWN, -1008, "the endpoint is shutting down")

enum rum_error {
#define RUM_ERROR_ENUM_(name, value, text) name = (value),
  RUM_ERROR_TABLE(RUM_ERROR_ENUM_)
#undef RUM_ERROR_ENUM_
};

/* Text for a RUM_E* code (or a -errno). Never NULL; static storage. Thread safe. */
#ifdef __cplusplus
extern "C"
#endif
RUM_API const char *rum_strerror(int err);

#endif

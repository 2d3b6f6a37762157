/* S3's error codes, their HTTP status and default message, and the XML error
 * document. One table (errors.c) yields the enum and the strings. */
#ifndef RUM_S3_ERRORS_H
#define RUM_S3_ERRORS_H

#include "s3.h"

#define S3_ERRORS(X)                                                                               \
  X(OK, 200, "OK", "")                                                                             \
  X(ACCESS_DENIED, 403, "AccessDenied", "Access Denied")                                           \
  X(SIG_MISMATCH, 403, "SignatureDoesNotMatch",                                                    \
    "The request signature we calculated does not match the signature you provided.")              \
  X(BAD_ACCESS_KEY, 403, "InvalidAccessKeyId",                                                     \
    "The AWS Access Key Id you provided does not exist in our records.")                           \
  X(SKEWED, 403, "RequestTimeTooSkewed",                                                           \
    "The difference between the request time and the current time is too large.")                 \
  X(EXPIRED, 403, "AccessDenied", "Request has expired")                                           \
  X(AUTH_MALFORMED, 400, "AuthorizationHeaderMalformed",                                           \
    "The authorization header is malformed.")                                                      \
  X(AUTH_QUERY_MALFORMED, 400, "AuthorizationQueryParametersError",                                \
    "Query-string authentication parameters are malformed.")                                       \
  X(SHA_MISMATCH, 400, "XAmzContentSHA256Mismatch",                                                \
    "The provided 'x-amz-content-sha256' header does not match what was computed.")                \
  X(BAD_DIGEST, 400, "BadDigest", "The Content-MD5 you specified did not match what we received.") \
  X(INVALID_DIGEST, 400, "InvalidDigest", "The Content-MD5 you specified is not valid.")           \
  X(INCOMPLETE_BODY, 400, "IncompleteBody",                                                        \
    "You did not provide the number of bytes specified by the Content-Length HTTP header.")        \
  X(NO_SUCH_BUCKET, 404, "NoSuchBucket", "The specified bucket does not exist")                    \
  X(NO_SUCH_KEY, 404, "NoSuchKey", "The specified key does not exist.")                            \
  X(NO_SUCH_UPLOAD, 404, "NoSuchUpload", "The specified upload does not exist.")                   \
  X(BUCKET_EXISTS, 409, "BucketAlreadyOwnedByYou",                                                 \
    "Your previous request to create the named bucket succeeded and you already own it.")          \
  X(BUCKET_NOT_EMPTY, 409, "BucketNotEmpty", "The bucket you tried to delete is not empty")        \
  X(BAD_BUCKET_NAME, 400, "InvalidBucketName", "The specified bucket is not valid.")               \
  X(KEY_TOO_LONG, 400, "KeyTooLongError", "Your key is too long")                                  \
  X(INVALID_ARGUMENT, 400, "InvalidArgument", "Invalid Argument")                                  \
  X(INVALID_REQUEST, 400, "InvalidRequest", "Invalid Request")                                     \
  X(INVALID_RANGE, 416, "InvalidRange", "The requested range is not satisfiable")                  \
  X(PRECONDITION, 412, "PreconditionFailed",                                                       \
    "At least one of the pre-conditions you specified did not hold")                               \
  X(NOT_MODIFIED, 304, "NotModified", "Not Modified")                                              \
  X(ENTITY_TOO_SMALL, 400, "EntityTooSmall",                                                       \
    "Your proposed upload is smaller than the minimum allowed object size.")                       \
  X(ENTITY_TOO_LARGE, 400, "EntityTooLarge",                                                       \
    "Your proposed upload exceeds the maximum allowed object size.")                               \
  X(INVALID_PART, 400, "InvalidPart",                                                              \
    "One or more of the specified parts could not be found. The part may not have been uploaded, " \
    "or the specified entity tag may not match the part's entity tag.")                            \
  X(INVALID_PART_ORDER, 400, "InvalidPartOrder",                                                   \
    "The list of parts was not in ascending order. The parts list must be specified in order by "  \
    "part number.")                                                                                \
  X(MALFORMED_XML, 400, "MalformedXML",                                                            \
    "The XML you provided was not well-formed or did not validate against our published schema.")  \
  X(MISSING_LENGTH, 411, "MissingContentLength", "You must provide the Content-Length HTTP header.") \
  X(METADATA_TOO_LARGE, 400, "MetadataTooLarge",                                                   \
    "Your metadata headers exceed the maximum allowed metadata size.")                             \
  X(METHOD_NOT_ALLOWED, 405, "MethodNotAllowed",                                                   \
    "The specified method is not allowed against this resource.")                                  \
  X(NOT_IMPLEMENTED, 501, "NotImplemented",                                                        \
    "A header or query you provided implies functionality that is not implemented.")               \
  X(BAD_REQUEST, 400, "BadRequest", "Bad Request")                                                 \
  X(BAD_STORAGE_CLASS, 400, "InvalidStorageClass", "The storage class you specified is not valid.") \
  X(TOO_MANY_KEYS, 400, "MalformedXML", "The Delete request may name at most 1000 keys.")         \
  X(INTERNAL, 500, "InternalError", "We encountered an internal error. Please try again.")         \
  X(NO_SPACE, 507, "InsufficientStorage", "The memory nodes are full.")                            \
  X(SLOW_DOWN, 503, "SlowDown", "Please reduce your request rate.")

#define S3_ERR_ENUM(name, status, code, msg) S3E_##name,
enum s3_err { S3_ERRORS(S3_ERR_ENUM) S3E_COUNT };
#undef S3_ERR_ENUM

int s3_err_status(enum s3_err e);
const char *s3_err_code(enum s3_err e);
const char *s3_err_message(enum s3_err e);

/* The XML error document: code, message (msg or the default when NULL or ""),
 * resource and request id, all escaped. */
void s3_error_xml(struct s3_buf *b, enum s3_err e, const char *msg, const char *resource,
                  const char *request_id);

#endif

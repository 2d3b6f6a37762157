#!/usr/bin/env python3
"""rum-s3 API scenarios against a real gateway on a real cluster (run under
with_cluster.sh): every operation, its S3 error codes, signatures (V4 header,
presigned, aws-chunked, V2), virtual-host addressing, bad and slow requests that must
leave the server up with bounded memory, and a restart that finds everything.

usage: api_test.py PORT"""
import base64
import datetime
import hashlib
import hmac
import http.client
import os
import socket
import sys
import time
import urllib.parse
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from s3client import NS, Client, Gateway  # noqa: E402

port = int(sys.argv[1])
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, flush=True)


def expect(r, status, code=None, what=""):
    ok = r.status == status and (code is None or r.code() == code)
    check(ok, "%s: got %d %s, want %d %s" % (what, r.status, r.code() if r.body else "", status, code or ""))
    return r


def md5b64(b):
    return base64.b64encode(hashlib.md5(b).digest()).decode()


store = "s3api-%d" % os.getpid()
gw = Gateway(port, store, extra=("--timeout", "3"))
c = Client(port)
try:
    # ---- buckets ----
    expect(c.request("PUT", "/Bad_Name"), 400, "InvalidBucketName", "bad bucket name")
    expect(c.request("PUT", "/ab"), 400, "InvalidBucketName", "short bucket name")
    expect(c.request("PUT", "/192.168.1.1"), 400, "InvalidBucketName", "ip bucket name")
    expect(c.request("PUT", "/bkt"), 200, None, "create bucket")
    expect(c.request("PUT", "/bkt"), 409, "BucketAlreadyOwnedByYou", "create again")
    bad_loc = b"<CreateBucketConfiguration><LocationConstraint>eu-west-9</LocationConstraint></CreateBucketConfiguration>"
    expect(c.request("PUT", "/bkt2", body=bad_loc), 400, "InvalidArgument", "wrong region constraint")
    expect(c.request("PUT", "/bkt2", body=b"<CreateBucketConfiguration><oops"), 400, "MalformedXML", "bad xml")
    expect(c.request("HEAD", "/bkt"), 200, None, "head bucket")
    expect(c.request("HEAD", "/nobkt"), 404, None, "head missing bucket")
    expect(c.request("GET", "/nobkt/key"), 404, "NoSuchBucket", "get in missing bucket")
    r = expect(c.request("GET", "/bkt", [("location", "")]), 200, None, "location")
    check(r.xml().tag == NS + "LocationConstraint", "location document")
    r = expect(c.request("GET", "/"), 200, None, "list buckets")
    check([b.findtext(NS + "Name") for b in r.xml().iter(NS + "Bucket")] == ["bkt"], "bucket list")

    # ---- put / get / head ----
    body = os.urandom(300000)
    r = expect(c.request("PUT", "/bkt/obj", headers={"content-md5": md5b64(body), "content-type": "text/x-test",
                                                       "x-amz-meta-colour": "blue"}, body=body), 200, None, "put")
    check(r.header("etag") == '"%s"' % hashlib.md5(body).hexdigest(), "etag is md5")
    expect(c.request("PUT", "/bkt/o2", headers={"content-md5": md5b64(b"other")}, body=body), 400, "BadDigest",
           "content-md5 mismatch")
    expect(c.request("PUT", "/bkt/o2", headers={"content-md5": "nope"}, body=body), 400, "InvalidDigest",
           "content-md5 malformed")
    expect(c.request("PUT", "/bkt/o2", body=body, payload_hash=hashlib.sha256(b"x").hexdigest()), 400,
           "XAmzContentSHA256Mismatch", "payload sha256 mismatch")
    crc = lambda b: base64.b64encode(zlib.crc32(b).to_bytes(4, "big")).decode()
    expect(c.request("PUT", "/bkt/o3", headers={"x-amz-checksum-crc32": crc(body)}, body=body), 200, None,
           "crc32 checksum")
    expect(c.request("PUT", "/bkt/o2", headers={"x-amz-checksum-crc32": crc(b"x")}, body=body), 400, "BadDigest",
           "crc32 mismatch")
    sha1 = base64.b64encode(hashlib.sha1(b"y").digest()).decode()
    expect(c.request("PUT", "/bkt/o2", headers={"x-amz-checksum-sha1": sha1}, body=body), 400, "BadDigest",
           "sha1 mismatch")
    expect(c.request("PUT", "/bkt/o2", headers={"x-amz-checksum-crc32c": "AAAAAA=="}, body=body), 501,
           "NotImplemented", "crc32c refused")
    expect(c.request("DELETE", "/bkt/o3"), 204, None, "delete o3")
    expect(c.request("GET", "/bkt/o2"), 404, "NoSuchKey", "rejected puts leave nothing")
    r = expect(c.request("GET", "/bkt/obj"), 200, None, "get")
    check(r.body == body, "get body byte-exact")
    check(r.header("content-type") == "text/x-test", "content type kept")
    check(r.header("x-amz-meta-colour") == "blue", "user metadata kept")
    r = expect(c.request("HEAD", "/bkt/obj"), 200, None, "head")
    check(r.header("content-length") == str(len(body)) and r.body == b"", "head length, no body")
    r = expect(c.request("GET", "/bkt/obj", headers={"range": "bytes=1000-1999"}), 206, None, "range")
    check(r.body == body[1000:2000] and r.header("content-range") == "bytes 1000-1999/%d" % len(body), "range body")
    r = expect(c.request("GET", "/bkt/obj", headers={"range": "bytes=-100"}), 206, None, "suffix range")
    check(r.body == body[-100:], "suffix range body")
    r = expect(c.request("GET", "/bkt/obj", headers={"range": "bytes=229370-229400"}), 206, None, "range across chunks")
    check(r.body == body[229370:229401], "range across chunk boundary")
    expect(c.request("GET", "/bkt/obj", headers={"range": "bytes=999999-"}), 416, "InvalidRange", "bad range")
    etag = '"%s"' % hashlib.md5(body).hexdigest()
    expect(c.request("GET", "/bkt/obj", headers={"if-match": etag}), 200, None, "if-match hit")
    expect(c.request("GET", "/bkt/obj", headers={"if-match": '"abc"'}), 412, "PreconditionFailed", "if-match miss")
    expect(c.request("GET", "/bkt/obj", headers={"if-none-match": etag}), 304, None, "if-none-match hit")
    future = (datetime.datetime.utcnow() + datetime.timedelta(hours=1)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    past = (datetime.datetime.utcnow() - datetime.timedelta(hours=1)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    expect(c.request("GET", "/bkt/obj", headers={"if-modified-since": future}), 304, None, "if-modified-since")
    expect(c.request("GET", "/bkt/obj", headers={"if-modified-since": past}), 200, None, "modified since past")
    expect(c.request("GET", "/bkt/obj", headers={"if-unmodified-since": past}), 412, "PreconditionFailed",
           "if-unmodified-since")
    expect(c.request("PUT", "/bkt/empty", body=b""), 200, None, "put empty")
    r = expect(c.request("GET", "/bkt/empty"), 200, None, "get empty")
    check(r.body == b"" and r.header("etag") == '"d41d8cd98f00b204e9800998ecf8427e"', "empty object")

    # ---- keys that need escaping, listing ----
    odd = "a&b<c>'\"d e+f/ü.txt"
    expect(c.request("PUT", "/bkt/" + odd, body=b"odd"), 200, None, "put odd key")
    r = expect(c.request("GET", "/bkt/" + odd), 200, None, "get odd key")
    check(r.body == b"odd", "odd key body")
    for i in range(12):
        expect(c.request("PUT", "/bkt/dir%d/f%02d" % (i % 3, i), body=b"x" * i), 200, None, "put tree")
    r = expect(c.request("GET", "/bkt", [("list-type", "2")]), 200, None, "list v2")
    keys = [k.findtext(NS + "Key") for k in r.xml().iter(NS + "Contents")]
    check(odd in keys and "obj" in keys and keys == sorted(keys, key=lambda s: s.encode()), "v2 keys, sorted, escaped")
    r = expect(c.request("GET", "/bkt", [("list-type", "2"), ("delimiter", "/")]), 200, None, "delimiter")
    cps = [p.findtext(NS + "Prefix") for p in r.xml().iter(NS + "CommonPrefixes")]
    check(cps == ["a&b<c>'\"d e+f/", "dir0/", "dir1/", "dir2/"], "common prefixes %r" % cps)
    # v2 pages of 5 with continuation tokens cover everything once
    seen, token = [], None
    for _ in range(10):
        params = [("list-type", "2"), ("max-keys", "5"), ("prefix", "dir")]
        if token:
            params.append(("continuation-token", token))
        x = expect(c.request("GET", "/bkt", params), 200, None, "v2 page").xml()
        seen += [k.findtext(NS + "Key") for k in x.iter(NS + "Contents")]
        token = x.findtext(NS + "NextContinuationToken")
        if x.findtext(NS + "IsTruncated") != "true":
            break
    check(len(seen) == 12 and len(set(seen)) == 12, "v2 paging %d keys" % len(seen))
    # v1 pages with marker and a delimiter
    seen, marker = [], ""
    for _ in range(10):
        x = expect(c.request("GET", "/bkt", [("max-keys", "2"), ("delimiter", "/"), ("marker", marker)]), 200, None,
                   "v1 page").xml()
        seen += [k.findtext(NS + "Key") for k in x.iter(NS + "Contents")]
        seen += [p.findtext(NS + "Prefix") for p in x.iter(NS + "CommonPrefixes")]
        if x.findtext(NS + "IsTruncated") != "true":
            break
        marker = x.findtext(NS + "NextMarker")
    check(sorted(seen) == sorted(["a&b<c>'\"d e+f/", "dir0/", "dir1/", "dir2/", "empty", "obj"]), "v1 paging %r" % seen)
    r = expect(c.request("GET", "/bkt", [("list-type", "2"), ("start-after", "dir2/f08")]), 200, None, "start-after")
    check([k.findtext(NS + "Key") for k in r.xml().iter(NS + "Contents")][0] == "dir2/f11", "start-after first key")
    r = expect(c.request("GET", "/bkt", [("list-type", "2"), ("encoding-type", "url"), ("prefix", "a")]), 200, None,
               "encoding-type")
    check(r.xml().findtext(NS + "Contents/" + NS + "Key") == "a%26b%3Cc%3E%27%22d%20e%2Bf/%C3%BC.txt", "url-encoded key")
    expect(c.request("GET", "/bkt", [("encoding-type", "zip")]), 400, "InvalidArgument", "bad encoding-type")
    expect(c.request("GET", "/bkt", [("max-keys", "-1")]), 400, "InvalidArgument", "bad max-keys")

    # ---- copy ----
    r = expect(c.request("PUT", "/bkt/copy1", headers={"x-amz-copy-source": "/bkt/obj"}), 200, None, "copy")
    r = expect(c.request("GET", "/bkt/copy1"), 200, None, "get copy")
    check(r.body == body and r.header("x-amz-meta-colour") == "blue", "copy keeps data and metadata")
    expect(c.request("PUT", "/bkt/copy2", headers={"x-amz-copy-source": "/bkt/obj", "x-amz-metadata-directive": "REPLACE",
                                                  "x-amz-meta-shape": "round", "content-type": "a/b"}), 200, None,
           "copy replace")
    r = c.request("HEAD", "/bkt/copy2")
    check(r.header("x-amz-meta-shape") == "round" and r.header("x-amz-meta-colour") is None and
          r.header("content-type") == "a/b", "replace directive")
    expect(c.request("PUT", "/bkt/obj", headers={"x-amz-copy-source": "/bkt/obj"}), 400, "InvalidRequest", "copy to self")
    expect(c.request("PUT", "/bkt/x", headers={"x-amz-copy-source": "/bkt/nothing"}), 404, "NoSuchKey", "copy missing")
    expect(c.request("PUT", "/bkt/x", headers={"x-amz-copy-source": "/bkt/obj", "x-amz-copy-source-if-match": '"abc"'}),
           412, "PreconditionFailed", "copy-source-if-match")
    expect(c.request("PUT", "/bkt/x", headers={"x-amz-copy-source": "/bkt/obj",
                                              "x-amz-copy-source-if-unmodified-since": past}), 412,
           "PreconditionFailed", "copy-source-if-unmodified-since")
    expect(c.request("PUT", "/bkt/x", headers={"x-amz-storage-class": "GLACIER"}, body=b"x"), 400,
           "InvalidStorageClass", "storage class")
    expect(c.request("PUT", "/bkt/x", headers={"x-amz-acl": "public-read"}, body=b"x"), 501, "NotImplemented",
           "public acl refused")
    expect(c.request("PUT", "/bkt/x", headers={"x-amz-server-side-encryption": "AES256"}, body=b"x"), 501,
           "NotImplemented", "sse refused")
    expect(c.request("GET", "/bkt/x"), 404, "NoSuchKey", "refused writes leave nothing")

    # ---- delete ----
    expect(c.request("DELETE", "/bkt/copy1"), 204, None, "delete")
    expect(c.request("DELETE", "/bkt/copy1"), 204, None, "delete again is fine")
    dele = b"<Delete><Object><Key>copy2</Key></Object><Object><Key>empty</Key></Object></Delete>"
    r = expect(c.request("POST", "/bkt", [("delete", "")], headers={"content-md5": md5b64(dele)}, body=dele), 200, None,
               "delete objects")
    check(len(list(r.xml().iter(NS + "Deleted"))) == 2, "two deleted")
    expect(c.request("GET", "/bkt/empty"), 404, "NoSuchKey", "deleted object gone")
    expect(c.request("POST", "/bkt", [("delete", "")], body=b"<Delete><Object>"), 400, "MalformedXML", "bad delete xml")
    expect(c.request("POST", "/bkt", [("delete", "")], headers={"content-md5": md5b64(b"other")}, body=dele), 400,
           "BadDigest", "delete objects content-md5")
    expect(c.request("DELETE", "/bkt"), 409, "BucketNotEmpty", "delete non-empty bucket")

    # ---- multipart ----
    r = expect(c.request("POST", "/bkt/mp", [("uploads", "")], headers={"x-amz-meta-m": "1"}), 200, None, "create mpu")
    uid = r.xml().findtext(NS + "UploadId")
    p1, p2 = os.urandom(5 << 20), os.urandom(1000)
    e1 = expect(c.request("PUT", "/bkt/mp", [("partNumber", "1"), ("uploadId", uid)], body=p1), 200, None,
                "part 1").header("etag")
    e2 = expect(c.request("PUT", "/bkt/mp", [("partNumber", "2"), ("uploadId", uid)], body=p2), 200, None,
                "part 2").header("etag")
    r = expect(c.request("PUT", "/bkt/mp", [("partNumber", "3"), ("uploadId", uid)],
                         headers={"x-amz-copy-source": "/bkt/obj", "x-amz-copy-source-range": "bytes=0-99"}), 200, None,
               "upload part copy")
    expect(c.request("PUT", "/bkt/mp", [("partNumber", "0"), ("uploadId", uid)], body=b"x"), 400, "InvalidArgument",
           "part number 0")
    expect(c.request("PUT", "/bkt/mp", [("partNumber", "1"), ("uploadId", "feed")], body=b"x"), 404, "NoSuchUpload",
           "unknown upload")
    r = expect(c.request("GET", "/bkt/mp", [("uploadId", uid)]), 200, None, "list parts")
    check([p.findtext(NS + "PartNumber") for p in r.xml().iter(NS + "Part")] == ["1", "2", "3"], "three parts")
    r = expect(c.request("GET", "/bkt", [("uploads", "")]), 200, None, "list uploads")
    check([u.findtext(NS + "UploadId") for u in r.xml().iter(NS + "Upload")] == [uid], "one upload")

    def complete(parts):
        doc = "<CompleteMultipartUpload>%s</CompleteMultipartUpload>" % "".join(
            "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>" % p for p in parts)
        return c.request("POST", "/bkt/mp", [("uploadId", uid)], body=doc.encode())

    expect(complete([(1, e1), (2, '"00000000000000000000000000000000"')]), 400, "InvalidPart", "wrong part etag")
    expect(complete([(2, e2), (1, e1)]), 400, "InvalidPartOrder", "parts out of order")
    expect(complete([(2, e2), (3, r.xml().findtext(NS + "Part/" + NS + "ETag") or "")]), 400, None, "small part")
    expect(complete([(2, e2), (3, '"%s"' % hashlib.md5(body[:100]).hexdigest())]), 400, "EntityTooSmall",
           "part below 5 MiB not last")
    expect(c.request("POST", "/bkt/mp", [("uploadId", uid)], body=b"<Complete"), 400, "MalformedXML", "bad complete xml")
    r = expect(complete([(1, e1), (2, e2)]), 200, None, "complete")
    want = hashlib.md5(bytes.fromhex(e1.strip('"')) + bytes.fromhex(e2.strip('"'))).hexdigest() + "-2"
    check(r.xml().findtext(NS + "ETag") == '"%s"' % want, "multipart etag md5-of-md5s-N")
    r = expect(c.request("GET", "/bkt/mp"), 200, None, "get multipart object")
    check(r.body == p1 + p2 and r.header("x-amz-meta-m") == "1", "multipart body and metadata")
    r = expect(c.request("GET", "/bkt/mp", headers={"range": "bytes=%d-%d" % ((5 << 20) - 10, (5 << 20) + 9)}), 206,
               None, "range across parts")
    check(r.body == (p1 + p2)[(5 << 20) - 10:(5 << 20) + 10], "range across parts body")
    expect(c.request("GET", "/bkt/mp", [("uploadId", uid)]), 404, "NoSuchUpload", "completed upload gone")
    uid2 = c.request("POST", "/bkt/mp2", [("uploads", "")]).xml().findtext(NS + "UploadId")
    expect(c.request("DELETE", "/bkt/mp2", [("uploadId", uid2)]), 204, None, "abort")
    expect(c.request("DELETE", "/bkt/mp2", [("uploadId", uid2)]), 404, "NoSuchUpload", "abort twice")

    # ---- signatures ----
    bad = Client(port, sk="wrong")
    expect(bad.request("GET", "/"), 403, "SignatureDoesNotMatch", "wrong secret")
    expect(Client(port, ak="NOPE").request("GET", "/"), 403, "InvalidAccessKeyId", "unknown access key")
    skewed = Client(port)
    skewed.clock_skew = 3600
    expect(skewed.request("GET", "/"), 403, "RequestTimeTooSkewed", "skewed clock")
    expect(c.raw("GET", "/"), 403, "AccessDenied", "anonymous")
    expect(Client(port, region="eu-west-1").request("GET", "/"), 400, "AuthorizationHeaderMalformed", "wrong region")
    r = expect(c.raw("GET", c.presign("GET", "/bkt/obj")), 200, None, "presigned get")
    check(r.body == body, "presigned body")
    expired = Client(port)
    expired.clock_skew = -120
    expect(c.raw("GET", expired.presign("GET", "/bkt/obj", expires=60)), 403, "AccessDenied", "presigned expired")
    tampered = c.presign("GET", "/bkt/obj").replace("/bkt/obj", "/bkt/mp")
    expect(c.raw("GET", tampered), 403, "SignatureDoesNotMatch", "presigned for another key")
    data = os.urandom(200000)
    r = expect(c.put_chunked("/bkt/chunked", data), 200, None, "aws-chunked put")
    check(r.header("etag") == '"%s"' % hashlib.md5(data).hexdigest(), "aws-chunked etag")
    check(c.request("GET", "/bkt/chunked").body == data, "aws-chunked body")
    expect(c.put_chunked("/bkt/chunked2", data, tamper=1), 403, "SignatureDoesNotMatch", "tampered chunk")
    expect(c.put_chunked("/bkt/chunked2", data, tamper=4), 403, "SignatureDoesNotMatch", "tampered final chunk")
    expect(c.request("GET", "/bkt/chunked2"), 404, "NoSuchKey", "tampered upload not stored")
    r = expect(c.raw("GET", "/bkt/obj", c.sign_v2("GET", "/bkt/obj", {})), 200, None, "v2 get")
    check(r.body == body, "v2 body")
    expect(Client(port, sk="bad").raw("GET", "/bkt/obj", Client(port, sk="bad").sign_v2("GET", "/bkt/obj", {})), 403,
           "SignatureDoesNotMatch", "v2 wrong secret")
    r = expect(c.raw("GET", "/bkt?location", c.sign_v2("GET", "/bkt", {}, resource="/bkt?location")), 200, None,
               "v2 sub-resource")

    expires = str(int(time.time()) + 60)
    sig = base64.b64encode(hmac.new(b"secret123", ("GET\n\n\n%s\n/bkt/obj" % expires).encode(), hashlib.sha1).digest())
    v2url = "/bkt/obj?AWSAccessKeyId=AKTEST&Expires=%s&Signature=%s" % (expires, urllib.parse.quote(sig.decode(), safe=""))
    r = expect(c.raw("GET", v2url), 200, None, "v2 presigned")
    check(r.body == body, "v2 presigned body")
    expect(c.raw("GET", v2url.replace(expires, str(int(expires) - 3600))), 403, "AccessDenied", "v2 presigned expired")

    # ---- virtual-host addressing ----
    vh = Client(port, host="bkt.localhost:%d" % port)
    r = expect(vh.request("GET", "/obj"), 200, None, "virtual host get")
    check(r.body == body, "virtual host body")
    r = expect(vh.request("GET", "/", [("list-type", "2"), ("prefix", "dir1/")]), 200, None, "virtual host list")
    check(len(list(r.xml().iter(NS + "Contents"))) == 4, "virtual host listing")

    # ---- HTTP: keep-alive, chunked transfer coding, Expect: 100-continue ----
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for i in range(3):
        hdrs, *_ = c.sign_v4("GET", "/bkt/obj", [], {}, hashlib.sha256(b"").hexdigest())
        conn.request("GET", "/bkt/obj", headers=hdrs)
        r = conn.getresponse()
        check(r.status == 200 and r.read() == body, "keep-alive request %d" % i)
    hdrs, *_ = c.sign_v4("PUT", "/bkt/te", [], {"transfer-encoding": "chunked"}, "UNSIGNED-PAYLOAD")
    conn.request("PUT", "/bkt/te", body=iter([body[:1000], body[1000:70000], body[70000:]]), headers=hdrs,
                 encode_chunked=True)
    r = conn.getresponse()
    r.read()
    check(r.status == 200 and r.getheader("etag") == etag, "chunked transfer coding: %d" % r.status)
    conn.close()
    check(c.request("GET", "/bkt/te").body == body, "chunked upload body")
    hdrs, *_ = c.sign_v4("PUT", "/bkt/ex", [], {"content-length": "5", "expect": "100-continue"}, "UNSIGNED-PAYLOAD")
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(("PUT /bkt/ex HTTP/1.1\r\n" + "".join("%s: %s\r\n" % kv for kv in hdrs.items()) + "\r\n").encode())
    check(s.recv(100).startswith(b"HTTP/1.1 100"), "100 Continue before the body")
    s.sendall(b"hello")
    check(s.recv(1000).startswith(b"HTTP/1.1 200"), "200 after the body")
    s.close()
    hdrs, *_ = c.sign_v4("PUT", "/nobkt/ex", [], {"content-length": "5", "expect": "100-continue"}, "UNSIGNED-PAYLOAD")
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(("PUT /nobkt/ex HTTP/1.1\r\n" + "".join("%s: %s\r\n" % kv for kv in hdrs.items()) + "\r\n").encode())
    check(s.recv(1000).startswith(b"HTTP/1.1 404"), "an error instead of 100 Continue")
    s.close()
    expect(c.request("DELETE", "/bkt/te"), 204, None, "delete te")
    expect(c.request("DELETE", "/bkt/ex"), 204, None, "delete ex")

    # ---- bad requests leave the server up, memory bounded ----
    hdrs, *_ = c.sign_v4("PUT", "/bkt/huge", [], {"content-length": str(6 << 30)}, "UNSIGNED-PAYLOAD")
    expect(c.raw("PUT", "/bkt/huge", hdrs, None), 400, "EntityTooLarge", "6 GiB content-length")
    hdrs, *_ = c.sign_v4("PUT", "/bkt/nolen", [], {}, "UNSIGNED-PAYLOAD")
    expect(c.raw("PUT", "/bkt/nolen", hdrs, None), 411, "MissingContentLength", "put without a length")
    rss0 = gw.rss_kb()
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200000 + b"\r\n\r\n")
    try:
        reply = s.recv(100)
    except ConnectionResetError:
        reply = b"reset"
    s.close()
    check(not reply.startswith(b"HTTP/1.1 200"), "huge header refused (%r)" % reply[:40])
    hdrs, *_ = c.sign_v4("PUT", "/bkt/short", [], {"content-length": "100000"}, "UNSIGNED-PAYLOAD")
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(("PUT /bkt/short HTTP/1.1\r\n" + "".join("%s: %s\r\n" % kv for kv in hdrs.items()) + "\r\n").encode()
              + b"z" * 5000)
    s.close()  # a body shorter than its Content-Length
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GARBAGE\r\n\r\n")
    s.recv(100)
    s.close()
    slow = socket.create_connection(("127.0.0.1", port))
    slow.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")  # and then nothing: the 3 s timeout closes it
    for _ in range(20):
        t = socket.create_connection(("127.0.0.1", port))
        t.sendall(b"PUT /bkt/k HTTP/1.1\r\nHost: x\r\nContent-Length: 9999999999\r\n\r\nabc")
        t.close()
    slow.settimeout(10)
    t0 = time.time()
    try:
        gone = slow.recv(100) == b""
    except (ConnectionResetError, socket.timeout):
        gone = True
    check(gone and time.time() - t0 < 9, "slow client dropped by the timeout")
    expect(c.request("GET", "/bkt/short"), 404, "NoSuchKey", "short body not stored")
    expect(c.request("GET", "/bkt/obj"), 200, None, "server up after bad requests")
    check(gw.alive(), "gateway alive")
    check(gw.rss_kb() - rss0 < 64 * 1024, "rss grew %d KiB" % (gw.rss_kb() - rss0))

    # ---- killed in the middle of an upload: the store opens again, the upload is not there ----
    hdrs, *_ = c.sign_v4("PUT", "/bkt/partial", [], {"content-length": str(64 << 20)}, "UNSIGNED-PAYLOAD")
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(("PUT /bkt/partial HTTP/1.1\r\n" + "".join("%s: %s\r\n" % kv for kv in hdrs.items()) + "\r\n").encode())
    s.sendall(os.urandom(8 << 20))
    gw.kill()
    s.close()
    gw = Gateway(port, store, extra=("--timeout", "3"))
    expect(c.request("GET", "/bkt/partial"), 404, "NoSuchKey", "partial upload after kill -9")
    check(c.request("GET", "/bkt/obj").body == body, "objects intact after kill -9")

    # ---- restart on the same store finds everything ----
    check(gw.stop() == 0, "clean stop")
    gw = Gateway(port, store)
    r = expect(c.request("GET", "/bkt/mp"), 200, None, "get after restart")
    check(r.body == p1 + p2, "multipart object after restart")
    check(c.request("GET", "/bkt/" + odd).body == b"odd", "odd key after restart")
    r = c.request("GET", "/bkt", [("list-type", "2")])
    n = len(list(r.xml().iter(NS + "Contents")))
    check(n == 16, "object count after restart: %d" % n)
finally:
    gw.kill()

if failures:
    print("%d check(s) failed" % len(failures))
    sys.exit(1)
print("api_test: all checks passed")

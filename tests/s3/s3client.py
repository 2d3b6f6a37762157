"""A small S3 client for rum-s3's tests: Signature V4 (header, presigned, aws-chunked)
and V2 signing written from the AWS documentation, over http.client or raw sockets."""
import base64
import datetime
import hashlib
import hmac
import http.client
import os
import signal
import socket
import subprocess
import time
import urllib.parse
import xml.etree.ElementTree as ET

NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"
EMPTY_SHA = hashlib.sha256(b"").hexdigest()


def quote(s, safe="-_.~"):
    return urllib.parse.quote(s, safe=safe)


class Gateway:
    """rum-s3 started on a store; stop() sends SIGTERM and waits."""

    def __init__(self, port, store, ak="AKTEST", sk="secret123", extra=()):
        self.port, self.store, self.ak, self.sk = port, store, ak, sk
        env = dict(os.environ, RUM_S3_ACCESS_KEY=ak, RUM_S3_SECRET_KEY=sk)
        binary = os.path.join(os.environ["RUM_BIN_DIR"], "rum-s3")
        self.proc = subprocess.Popen([binary, "--store", store, "--port", str(port), "--cache-mb", "32", *extra],
                                     env=env)
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError("rum-s3 exited with %d" % self.proc.returncode)
                time.sleep(0.05)
        raise RuntimeError("rum-s3 did not listen")

    def alive(self):
        return self.proc.poll() is None

    def rss_kb(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=30)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class Response:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def header(self, name):
        return self.headers.get(name.lower())

    def xml(self):
        return ET.fromstring(self.body)

    def code(self):
        if not self.body or self.status < 300:
            return None
        return self.xml().findtext("Code")


def _signing_key(sk, date, region):
    k = hmac.new(("AWS4" + sk).encode(), date.encode(), hashlib.sha256).digest()
    for part in (region, "s3", "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    return k


class Client:
    def __init__(self, port, ak="AKTEST", sk="secret123", region="us-east-1", host=None):
        self.port, self.ak, self.sk, self.region = port, ak, sk, region
        self.host = host or "127.0.0.1:%d" % port
        self.clock_skew = 0

    def _now(self):
        return datetime.datetime.utcnow() + datetime.timedelta(seconds=self.clock_skew)

    @staticmethod
    def _canonical_query(params):
        items = sorted((quote(k), quote(v)) for k, v in params)
        return "&".join("%s=%s" % kv for kv in items)

    def sign_v4(self, method, path, params, headers, payload_hash):
        t = self._now()
        amz, date = t.strftime("%Y%m%dT%H%M%SZ"), t.strftime("%Y%m%d")
        headers = dict(headers)
        headers["host"] = self.host
        headers["x-amz-date"] = amz
        headers["x-amz-content-sha256"] = payload_hash
        names = sorted(k.lower() for k in headers)
        lower = {k.lower(): str(v).strip() for k, v in headers.items()}
        creq = "\n".join([method, quote(path, safe="/-_.~"), self._canonical_query(params),
                          "".join("%s:%s\n" % (n, lower[n]) for n in names), ";".join(names), payload_hash])
        scope = "%s/%s/s3/aws4_request" % (date, self.region)
        sts = "\n".join(["AWS4-HMAC-SHA256", amz, scope, hashlib.sha256(creq.encode()).hexdigest()])
        key = _signing_key(self.sk, date, self.region)
        sig = hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()
        headers["Authorization"] = "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s" % (
            self.ak, scope, ";".join(names), sig)
        return headers, key, amz, scope, sig

    def presign(self, method, path, expires=300, params=()):
        t = self._now()
        amz, date = t.strftime("%Y%m%dT%H%M%SZ"), t.strftime("%Y%m%d")
        scope = "%s/%s/s3/aws4_request" % (date, self.region)
        q = list(params) + [("X-Amz-Algorithm", "AWS4-HMAC-SHA256"), ("X-Amz-Credential", "%s/%s" % (self.ak, scope)),
                            ("X-Amz-Date", amz), ("X-Amz-Expires", str(expires)), ("X-Amz-SignedHeaders", "host")]
        creq = "\n".join([method, quote(path, safe="/-_.~"), self._canonical_query(q), "host:%s\n" % self.host,
                          "host", "UNSIGNED-PAYLOAD"])
        sts = "\n".join(["AWS4-HMAC-SHA256", amz, scope, hashlib.sha256(creq.encode()).hexdigest()])
        sig = hmac.new(_signing_key(self.sk, date, self.region), sts.encode(), hashlib.sha256).hexdigest()
        q.append(("X-Amz-Signature", sig))
        return quote(path, safe="/-_.~") + "?" + "&".join("%s=%s" % (quote(k), quote(v)) for k, v in q)

    def raw(self, method, target, headers=None, body=b""):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
        hdrs = dict(headers or {})
        hdrs.setdefault("host", self.host)
        for k, v in hdrs.items():
            conn.putheader(k, v)
        if body is not None and method in ("PUT", "POST") and "content-length" not in {k.lower() for k in hdrs}:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders()
        if body:
            conn.send(body)
        r = conn.getresponse()
        data = r.read()
        conn.close()
        return Response(r.status, {k.lower(): v for k, v in r.getheaders()}, data)

    def request(self, method, path, params=(), headers=None, body=b"", payload_hash=None):
        params = list(params)
        if payload_hash is None:
            payload_hash = hashlib.sha256(body).hexdigest()
        hdrs, *_ = self.sign_v4(method, path, params, headers or {}, payload_hash)
        target = quote(path, safe="/-_.~")
        if params:
            target += "?" + "&".join(quote(k) + ("=" + quote(v) if v != "" else "=") for k, v in params)
        return self.raw(method, target, hdrs, body)

    def put_chunked(self, path, data, chunk=65536, tamper=None):
        """PutObject with aws-chunked STREAMING-AWS4-HMAC-SHA256-PAYLOAD; tamper=i
        corrupts the signature of chunk i."""
        pieces = [data[i:i + chunk] for i in range(0, len(data), chunk)] + [b""]
        encoded_len = sum(len("%x;chunk-signature=" % len(p)) + 64 + 2 + len(p) + 2 for p in pieces)
        hdrs = {"x-amz-decoded-content-length": str(len(data)), "content-encoding": "aws-chunked",
                "content-length": str(encoded_len)}
        hdrs, key, amz, scope, prev = self.sign_v4("PUT", path, [], hdrs, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
        body = b""
        for i, p in enumerate(pieces):
            sts = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", amz, scope, prev, EMPTY_SHA, hashlib.sha256(p).hexdigest()])
            sig = hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()
            if tamper == i:
                sig = ("0" if sig[0] != "0" else "1") + sig[1:]
            body += b"%x;chunk-signature=%s\r\n" % (len(p), sig.encode()) + p + b"\r\n"
            prev = sig
        return self.raw("PUT", quote(path, safe="/-_.~"), hdrs, body)

    def sign_v2(self, method, path, headers, resource=None):
        headers = dict(headers)
        headers["Date"] = self._now().strftime("%a, %d %b %Y %H:%M:%S GMT")
        lower = {k.lower(): v for k, v in headers.items()}
        amz = "".join("%s:%s\n" % (k, lower[k]) for k in sorted(lower) if k.startswith("x-amz-"))
        sts = "%s\n%s\n%s\n%s\n%s%s" % (method, lower.get("content-md5", ""), lower.get("content-type", ""),
                                        headers["Date"], amz, resource or quote(path, safe="/-_.~"))
        sig = base64.b64encode(hmac.new(self.sk.encode(), sts.encode(), hashlib.sha1).digest()).decode()
        headers["Authorization"] = "AWS %s:%s" % (self.ak, sig)
        return headers

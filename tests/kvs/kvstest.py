"""Shared pieces of the rum-kvs tests written in Python: start and stop a rum-kvs
(or a reference server) by pid, wait for a port with a deadline, and minimal RESP
and memcached clients over raw sockets, so that the tests see the exact bytes."""
import os
import signal
import socket
import subprocess
import sys
import time


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr, flush=True)
    raise SystemExit(1)


def wait_port(port, deadline_s=10.0, proc=None):
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if proc is not None and proc.poll() is not None:
            fail("server on port %d exited with %s before listening" % (port, proc.returncode))
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    fail("nothing listens on port %d after %.0f s" % (port, deadline_s))


class Server:
    """A child process stopped by pid on exit (SIGTERM, then SIGKILL)."""

    def __init__(self, argv, port, log):
        self.argv, self.port = argv, port
        self.log = open(log, "ab")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=self.log, start_new_session=True)
        wait_port(port, 15.0, self.proc)

    def pid(self):
        return self.proc.pid

    def rss_kb(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def alive(self):
        return self.proc.poll() is None

    def kill(self):
        if self.alive():
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self, timeout=30):
        if not self.alive():
            return self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            fail("%s did not stop within %d s of SIGTERM" % (self.argv[0], timeout))


def rum_kvs(store, port, mc_port=None, extra=(), log=None):
    binary = os.path.join(os.environ["RUM_BIN_DIR"], "rum-kvs")
    argv = [binary, "--store", store, "--port", str(port)]
    if mc_port:
        argv += ["--memcached-port", str(mc_port)]
    argv += list(extra)
    return Server(argv, port, log or os.environ.get("KVS_TEST_LOG", "/dev/null"))


def resp_encode(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        elif isinstance(a, int):
            a = b"%d" % a
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class Resp:
    """A blocking RESP2 client; replies as Python values, errors as RespError."""

    def __init__(self, port, timeout=10):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""

    def close(self):
        self.s.close()

    def _fill(self):
        d = self.s.recv(1 << 20)
        if not d:
            raise ConnectionError("closed")
        self.buf += d

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def read(self):
        line = self._line()
        t, rest = line[:1], line[1:]
        if t == b"+":
            return rest.decode()
        if t == b"-":
            return RespError(rest.decode())
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                self._fill()
            v, self.buf = self.buf[:n], self.buf[n + 2:]
            return v
        if t == b"*":
            n = int(rest)
            return None if n < 0 else [self.read() for _ in range(n)]
        raise ValueError("bad reply %r" % line)

    def send(self, *args):
        self.s.sendall(resp_encode(*args))

    def cmd(self, *args):
        self.send(*args)
        return self.read()


class RespError(str):
    pass


class Memc:
    """A memcached text client that returns raw reply bytes."""

    def __init__(self, port, timeout=10):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""

    def close(self):
        self.s.close()

    def send(self, data):
        self.s.sendall(data)

    def read_until(self, marker):
        while marker not in self.buf:
            d = self.s.recv(1 << 20)
            if not d:
                raise ConnectionError("closed")
            self.buf += d
        i = self.buf.index(marker) + len(marker)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def line(self, data):
        self.send(data)
        return self.read_until(b"\r\n")

    def get(self, key):
        """The value of key (bytes) or None, and its flags."""
        self.send(b"get " + key + b"\r\n")
        head = self.read_until(b"\r\n")
        if head == b"END\r\n":
            return None, None
        parts = head.split()
        n = int(parts[3])
        while len(self.buf) < n + 7:
            d = self.s.recv(1 << 20)
            if not d:
                raise ConnectionError("closed")
            self.buf += d
        body, self.buf = self.buf[:n], self.buf[n + 7:]
        return body, int(parts[2])

# Build a large dict and list, hash them, print digests: the same output anywhere.
import hashlib
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 200000
d = {}
for i in range(n):
    d["key-%d" % i] = "value-%d-%s" % (i * 7919 % n, "x" * (i % 13))
lst = [(i * 2654435761) % 4294967296 for i in range(n)]
lst.sort()
h = hashlib.sha256()
for k in sorted(d):
    h.update(k.encode())
    h.update(d[k].encode())
print("dict", len(d), h.hexdigest())
h = hashlib.sha256()
for v in lst:
    h.update(v.to_bytes(8, "little"))
print("list", len(lst), h.hexdigest())
big = bytearray(b"ab" * (n * 8))
print("bytes", len(big), hashlib.sha256(big).hexdigest())
import subprocess
out = subprocess.run(["sh", "-c", "echo child $((6 * 7))"], capture_output=True, text=True).stdout
print("subprocess", out.strip())

#!/usr/bin/env bash
# rum-s3 with Debian's real s3cmd and a generated config (run under with_cluster.sh):
# mb ls la put (empty, small, 40 MiB -> multipart) get byte-exact, info cp mv del
# del --recursive rb, a directory tree synced up, down and again (nothing
# transferred), a wrong secret key refused, V2 signing as s3cmd's fallback.
#   s3cmd_test.sh PORT
set -u
port=$1
bin=$RUM_BIN_DIR
work=$(mktemp -d "${TMPDIR:-/tmp}/rum-s3cmd.XXXXXX")
pid=
fail() { echo "FAIL: $*" >&2; exit 1; }
cleanup() { [[ -n $pid ]] && kill -TERM "$pid" 2>/dev/null && wait "$pid"; rm -rf "$work"; }
trap cleanup EXIT
command -v s3cmd >/dev/null || { echo "SKIP: s3cmd not installed (scripts/deps.sh)"; exit 0; }

RUM_S3_ACCESS_KEY=AKS3CMD RUM_S3_SECRET_KEY=s3cmd-secret-key "$bin/rum-s3" --store "s3cmd-$$" --port "$port" \
  --cache-mb 64 2>"$work/gw.log" &
pid=$!
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done

config() { # $1 file, $2 secret, $3 signature_v2
  cat >"$1" <<EOC
[default]
access_key = AKS3CMD
secret_key = $2
host_base = 127.0.0.1:$port
host_bucket = 127.0.0.1:$port
bucket_location = us-east-1
use_https = False
signature_v2 = $3
multipart_chunk_size_mb = 15
EOC
}
config "$work/cfg" s3cmd-secret-key False
config "$work/cfg2" s3cmd-secret-key True
config "$work/bad" wrong-secret False
s3() { s3cmd -c "$work/cfg" --no-progress "$@"; }
cd "$work" || exit 1

s3 mb s3://alpha >/dev/null || fail "mb"
s3 ls | grep -q "s3://alpha" || fail "ls buckets"
: >empty.bin
echo "small object" >small.txt
head -c $((40 << 20)) /dev/urandom >big.bin
s3 put empty.bin small.txt s3://alpha/ >/dev/null || fail "put empty and small"
s3cmd -c "$work/cfg" --progress put big.bin s3://alpha/big.bin >put.log 2>&1 || fail "put 40 MiB"
grep -q "part 3 of 3" put.log || fail "40 MiB did not go multipart: $(cat put.log)"
s3 ls s3://alpha | grep -q "41943040  s3://alpha/big.bin" || fail "ls objects"
s3 la | grep -q "s3://alpha/small.txt" || fail "la"
for f in empty.bin small.txt big.bin; do
  s3 get --force "s3://alpha/$f" "got-$f" >/dev/null || fail "get $f"
  cmp "$f" "got-$f" || fail "$f differs after get"
done
s3 info s3://alpha/big.bin | grep -q "x-amz-meta-s3cmd-attrs" || fail "info shows no s3cmd attrs"
s3 info s3://alpha >/dev/null || fail "info bucket"
s3 cp s3://alpha/small.txt s3://alpha/copy.txt >/dev/null || fail "cp"
s3 mv s3://alpha/copy.txt s3://alpha/moved.txt >/dev/null || fail "mv"
s3 ls s3://alpha | grep -q copy.txt && fail "mv left the source"
s3 get --force s3://alpha/moved.txt moved.txt >/dev/null && cmp small.txt moved.txt || fail "moved content"
s3 modify --add-header="Cache-Control: max-age=60" s3://alpha/moved.txt >/dev/null || fail "modify"
s3 get --force s3://alpha/moved.txt moved2.txt >/dev/null && cmp small.txt moved2.txt || fail "content after modify"
s3 del s3://alpha/moved.txt >/dev/null || fail "del"
s3 ls s3://alpha | grep -q moved.txt && fail "del left the object"
s3cmd -c "$work/cfg2" --no-progress get --force s3://alpha/small.txt v2.txt >/dev/null && cmp small.txt v2.txt ||
  fail "get with signature v2"
s3cmd -c "$work/bad" ls s3://alpha >bad.log 2>&1 && fail "wrong secret accepted"
grep -q "SignatureDoesNotMatch" bad.log || fail "wrong secret: $(cat bad.log)"

mkdir -p tree/a/b tree/c "tree/sp ace"
for i in 1 2 3 4; do
  echo "f$i" >"tree/a/f$i"; head -c $((i * 1000)) /dev/urandom >"tree/a/b/g$i"
  echo "h$i" >"tree/c/h$i"; echo "s$i" >"tree/sp ace/s$i"
done
s3 sync tree/ s3://alpha/tree/ >sync1.log || fail "sync up"
[[ $(grep -c upload: sync1.log) -eq 16 ]] || fail "sync up sent $(grep -c upload: sync1.log) files"
s3 sync tree/ s3://alpha/tree/ >sync2.log || fail "sync up again"
grep -q upload: sync2.log && fail "second sync up transferred: $(cat sync2.log)"
s3 sync s3://alpha/tree/ down/ >sync3.log || fail "sync down"
diff -r tree down || fail "tree differs after sync down"
s3 sync s3://alpha/tree/ down/ >sync4.log || fail "sync down again"
grep -q download: sync4.log && fail "second sync down transferred: $(cat sync4.log)"

s3 rb s3://alpha >rb.log 2>&1 && fail "rb of a non-empty bucket"
grep -q BucketNotEmpty rb.log || fail "rb non-empty: $(cat rb.log)"
s3 del --recursive --force s3://alpha >/dev/null || fail "del --recursive"
s3 rb s3://alpha >/dev/null || fail "rb"
s3 ls | grep -q alpha && fail "bucket still listed"
kill -0 "$pid" || fail "gateway died"
echo "s3cmd_test: all passed"

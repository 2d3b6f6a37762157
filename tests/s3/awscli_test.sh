#!/usr/bin/env bash
# rum-s3 with Debian's awscli (run under with_cluster.sh): aws s3 mb/cp/ls/sync/rm/rb
# and aws s3api calls for the API (buckets, objects, listing v1/v2, copy, ranges and
# conditions, delete-objects, multipart with part copy, presign), --endpoint-url to
# the gateway. Uses /usr/bin/aws (Debian's) when present, else aws on PATH.
#   awscli_test.sh PORT
set -u
port=$1
bin=$RUM_BIN_DIR
work=$(mktemp -d "${TMPDIR:-/tmp}/rum-awscli.XXXXXX")
pid=
fail() { echo "FAIL: $*" >&2; exit 1; }
cleanup() { [[ -n $pid ]] && kill -TERM "$pid" 2>/dev/null && wait "$pid"; rm -rf "$work"; }
trap cleanup EXIT
AWS=/usr/bin/aws
[[ -x $AWS ]] || AWS=$(command -v aws) || { echo "SKIP: awscli not installed (scripts/deps.sh)"; exit 0; }

RUM_S3_ACCESS_KEY=AKAWSCLI RUM_S3_SECRET_KEY=awscli-secret "$bin/rum-s3" --store "awscli-$$" --port "$port" \
  --cache-mb 64 2>"$work/gw.log" &
pid=$!
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done

cat >"$work/config" <<EOC
[default]
region = us-east-1
s3 =
  addressing_style = path
EOC
export AWS_CONFIG_FILE=$work/config AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_ACCESS_KEY_ID=AKAWSCLI \
  AWS_SECRET_ACCESS_KEY=awscli-secret AWS_PAGER= AWS_EC2_METADATA_DISABLED=true
aws() { echo "+ aws $*" >&2; "$AWS" --endpoint-url "http://127.0.0.1:$port" --no-cli-pager "$@"; }
q() { aws "$@" --output text; }
# Text output puts each page on its own line and a NextToken as "None": one line.
words() { tr -s '\t\n' '  ' | sed 's/ None//g; s/ $//'; }
cd "$work" || exit 1

aws s3 mb s3://beta >/dev/null || fail "s3 mb"
head -c $((20 << 20)) /dev/urandom >big.bin
echo "hello awscli" >small.txt
aws s3 cp big.bin s3://beta/big.bin --only-show-errors || fail "s3 cp up (multipart)"
aws s3 cp small.txt s3://beta/dir/small.txt --only-show-errors || fail "s3 cp small"
[[ $(q s3api head-object --bucket beta --key big.bin --query ETag) == *-* ]] || fail "20 MiB not multipart"
aws s3 cp s3://beta/big.bin got.bin --only-show-errors && cmp big.bin got.bin || fail "s3 cp down"
aws s3 ls s3://beta/dir/ | grep -q small.txt || fail "s3 ls"
mkdir -p tree/x tree/y
for i in 1 2 3; do echo "$i" >"tree/x/$i"; echo "$i$i" >"tree/y/$i"; done
aws s3 sync tree s3://beta/tree --only-show-errors || fail "s3 sync up"
[[ -z $(aws s3 sync tree s3://beta/tree) ]] || fail "second sync transferred"
aws s3 sync s3://beta/tree down --only-show-errors && diff -r tree down || fail "s3 sync down"

# s3api: listing
[[ $(q s3api list-buckets --query 'Buckets[].Name') == beta ]] || fail "list-buckets"
q s3api head-bucket --bucket beta >/dev/null || fail "head-bucket"
q s3api get-bucket-location --bucket beta >/dev/null || fail "get-bucket-location"
[[ $(q s3api list-objects-v2 --bucket beta --prefix tree/ --delimiter / --query 'CommonPrefixes[].Prefix') == \
  "tree/x/	tree/y/" ]] || fail "list-objects-v2 delimiter"
[[ $(q s3api list-objects-v2 --bucket beta --prefix tree/ --max-items 2 --page-size 1 --query 'Contents[].Key' |
  words) == "tree/x/1 tree/x/2" ]] || fail "list-objects-v2 paging"
[[ $(q s3api list-objects --bucket beta --prefix tree/y/ --page-size 1 --query 'Contents[].Key' | words) == \
  "tree/y/1 tree/y/2 tree/y/3" ]] || fail "list-objects v1 paging with marker"
[[ $(q s3api list-objects-v2 --bucket beta --start-after tree/y/2 --query 'Contents[].Key') == "tree/y/3" ]] ||
  fail "start-after"
# objects
aws s3api put-object --bucket beta --key meta.txt --body small.txt --content-type text/plain \
  --metadata colour=green >/dev/null || fail "put-object"
[[ $(q s3api head-object --bucket beta --key meta.txt --query Metadata.colour) == green ]] || fail "metadata"
aws s3api get-object --bucket beta --key big.bin --range bytes=100-199 part.bin >/dev/null || fail "get range"
cmp part.bin <(tail -c +101 big.bin | head -c 100) || fail "range content"
etag=$(q s3api head-object --bucket beta --key meta.txt --query ETag)
aws s3api get-object --bucket beta --key meta.txt --if-match "$etag" o.txt >/dev/null || fail "if-match"
aws s3api get-object --bucket beta --key meta.txt --if-none-match "$etag" o.txt >nm.log 2>&1 && fail "if-none-match"
grep -q 304 nm.log || fail "if-none-match: $(cat nm.log)"
aws s3api copy-object --bucket beta --key copy.txt --copy-source beta/meta.txt >/dev/null || fail "copy-object"
aws s3api copy-object --bucket beta --key copy2.txt --copy-source beta/meta.txt --metadata-directive REPLACE \
  --metadata shape=square >/dev/null || fail "copy-object replace"
[[ $(q s3api head-object --bucket beta --key copy2.txt --query Metadata) == *square* ]] || fail "replace metadata"
aws s3api get-object --bucket beta --key nothing x >nk.log 2>&1 && fail "missing key"
grep -q NoSuchKey nk.log || fail "NoSuchKey: $(cat nk.log)"
aws s3api delete-object --bucket beta --key copy.txt || fail "delete-object"
[[ $(q s3api delete-objects --bucket beta --delete 'Objects=[{Key=copy2.txt},{Key=meta.txt}]' \
  --query 'length(Deleted)') == 2 ]] || fail "delete-objects"
# multipart by hand, with a part copied from an object
uid=$(q s3api create-multipart-upload --bucket beta --key mp.bin --query UploadId) || fail "create-multipart-upload"
head -c $((5 << 20)) big.bin >p1
e1=$(q s3api upload-part --bucket beta --key mp.bin --upload-id "$uid" --part-number 1 --body p1 --query ETag)
e2=$(q s3api upload-part-copy --bucket beta --key mp.bin --upload-id "$uid" --part-number 2 \
  --copy-source beta/dir/small.txt --query CopyPartResult.ETag) || fail "upload-part-copy"
[[ $(q s3api list-parts --bucket beta --key mp.bin --upload-id "$uid" --query 'Parts[].PartNumber') == "1	2" ]] ||
  fail "list-parts"
[[ $(q s3api list-multipart-uploads --bucket beta --query 'Uploads[].UploadId') == "$uid" ]] ||
  fail "list-multipart-uploads"
aws s3api complete-multipart-upload --bucket beta --key mp.bin --upload-id "$uid" \
  --multipart-upload "Parts=[{PartNumber=1,ETag=$e1},{PartNumber=2,ETag=$e2}]" >/dev/null || fail "complete"
aws s3 cp s3://beta/mp.bin mp.bin --only-show-errors && cmp mp.bin <(cat p1 small.txt) || fail "multipart content"
uid=$(q s3api create-multipart-upload --bucket beta --key ab.bin --query UploadId)
aws s3api abort-multipart-upload --bucket beta --key ab.bin --upload-id "$uid" || fail "abort"
url=$(aws s3 presign s3://beta/dir/small.txt --expires-in 60) || fail "presign"
python3 -c "import sys,urllib.request; sys.stdout.buffer.write(urllib.request.urlopen(sys.argv[1]).read())" "$url" \
  >pre.txt && cmp pre.txt small.txt || fail "presigned url"
AWS_SECRET_ACCESS_KEY=nope aws s3 ls s3://beta >bad.log 2>&1 && fail "wrong secret accepted"
grep -q SignatureDoesNotMatch bad.log || fail "wrong secret: $(cat bad.log)"
aws s3 rb s3://beta >rb.log 2>&1 && fail "rb of a non-empty bucket"
aws s3 rm --recursive s3://beta --only-show-errors || fail "s3 rm --recursive"
aws s3 rb s3://beta >/dev/null || fail "s3 rb"
kill -0 "$pid" || fail "gateway died"
echo "awscli_test: all passed"

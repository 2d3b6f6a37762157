#!/usr/bin/env bash
# rum-s3 against nginx in one run: GET and PUT throughput of 4 KiB, 1 MiB and 64 MiB
# objects with parallel keep-alive clients (tests/s3/http_load.c, the same client for
# both). nginx (Debian's, one worker process like rum-s3's one thread) serves files
# from a folder for GET and takes WebDAV PUTs into it; rum-s3 runs on a local 3-node
# cluster (with_cluster.sh) and is reached through presigned URLs. Prints one JSON
# line per size and method:
#   {"scenario":"s3.get","size":1048576,"conns":4,"seconds":5,"rum_s3_req_s":..,
#    "nginx_req_s":..,"ratio_req_s":..,"rum_s3_mb_s":..,"nginx_mb_s":..,"ratio_mb_s":..,
#    "rum_s3_p50_ms":..,"rum_s3_p99_ms":..,"nginx_p50_ms":..,"nginx_p99_ms":..}
# Goals (issue 11): GET 1 MiB >= 0.5x nginx MB/s, GET 4 KiB >= 0.5x nginx req/s.
#
# usage: bench/s3_bench.sh [--seconds S] [--base-port P] [--build DIR] [--quick]
#   --seconds    length of each measurement (default 5)
#   --base-port  first port (default 27800: nodes P..P+2, nginx P+10, rum-s3 P+11)
#   --sync       rum-s3's --sync mode: always (default; every PUT synced before its
#                reply) or everysec
#   --quick      1 s per measurement, 64 MiB skipped (a smoke run)
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
seconds=5 base_port=27800 build= quick=0 inner=0 sync=always
while [[ $# -gt 0 ]]; do
  case $1 in
    --seconds) seconds=$2; shift 2 ;;
    --base-port) base_port=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --quick) quick=1; seconds=1; shift ;;
    --sync) sync=$2; shift 2 ;;
    --inner) inner=1; shift ;;
    -h|--help) sed -n '2,21s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) echo "s3_bench: unknown argument $1" >&2; exit 2 ;;
  esac
done
if [[ -z $build ]]; then
  build=$(ls -td "$root"/build*/ 2>/dev/null | while read -r d; do [[ -x $d/bin/rum-s3 ]] && echo "$d" && break; done)
fi
build=${build%/}
[[ -x $build/bin/rum-s3 && -x $build/tests/s3_http_load ]] ||
  { echo "s3_bench: build rum-s3 and s3_http_load first (scripts/build.sh)" >&2; exit 2; }
command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || { echo "s3_bench: nginx is not installed" >&2; exit 2; }

if [[ $inner == 0 ]]; then
  RUM_BIN_DIR=$build/bin exec "$root/tests/integration/with_cluster.sh" --nodes 3 --base-port "$base_port" \
    --memory-mb 1536 -- "$0" --inner --seconds "$seconds" --base-port "$base_port" --build "$build" \
    --sync "$sync" $([[ $quick == 1 ]] && echo --quick)
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/rum-s3bench.XXXXXX")
nginx_port=$((base_port + 10)) s3_port=$((base_port + 11))
s3_pid=
cleanup() {
  [[ -f $work/nginx.pid ]] && kill -TERM "$(cat "$work/nginx.pid")" 2>/dev/null
  [[ -n $s3_pid ]] && kill -TERM "$s3_pid" 2>/dev/null && wait "$s3_pid"
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/www/put" "$work/body" "$work/logs"
# nginx's worker runs as nobody: it must read the files and write the PUTs.
chmod 755 "$work" "$work/www"
chmod 777 "$work/www/put" "$work/body"
cat >"$work/nginx.conf" <<EOC
worker_processes 1;
pid $work/nginx.pid;
error_log $work/logs/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  keepalive_requests 1000000;
  client_body_temp_path $work/body;
  server {
    listen 127.0.0.1:$nginx_port;
    root $work/www;
    location /put/ { dav_methods PUT; create_full_put_path on; client_max_body_size 0; }
  }
}
EOC
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
"$NGINX" -c "$work/nginx.conf" -e "$work/logs/error.log" || { echo "s3_bench: nginx did not start" >&2; exit 1; }
RUM_S3_ACCESS_KEY=AKBENCH RUM_S3_SECRET_KEY=bench-secret "$build/bin/rum-s3" --store "bench-$$" --port "$s3_port" \
  --cache-mb 512 --sync "$sync" 2>"$work/logs/rum-s3.log" &
s3_pid=$!
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$s3_port) 2>/dev/null && break; sleep 0.1; done

sizes="4096 1048576 67108864"
[[ $quick == 1 ]] && sizes="4096 1048576"
nkeys=8
# Objects for GET in both servers, presigned URLs for rum-s3.
RUM_S3_TESTS=$root/tests/s3 python3 - "$s3_port" "$work" "$nkeys" $sizes <<'EOP' || { echo "s3_bench: setup failed" >&2; exit 1; }
import os, sys
sys.path.insert(0, os.environ["RUM_S3_TESTS"])
from s3client import Client
port, work, nkeys, sizes = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), [int(s) for s in sys.argv[4:]]
c = Client(port, ak="AKBENCH", sk="bench-secret")
assert c.request("PUT", "/bench").status == 200
for size in sizes:
    data = os.urandom(size)
    get_urls, put_urls, nginx_get, nginx_put = [], [], [], []
    for k in range(nkeys):
        key = "/bench/o%d-%d" % (size, k)
        r = c.request("PUT", key, body=data, payload_hash="UNSIGNED-PAYLOAD")
        assert r.status == 200, r.body
        with open("%s/www/o%d-%d" % (work, size, k), "wb") as f:
            f.write(data)
        os.chmod("%s/www/o%d-%d" % (work, size, k), 0o644)
        get_urls.append(c.presign("GET", key, expires=3600))
        put_urls.append(c.presign("PUT", "/bench/p%d-%d" % (size, k), expires=3600))
        nginx_get.append("/o%d-%d" % (size, k))
        nginx_put.append("/put/p%d-%d" % (size, k))
    for name, urls in (("s3-GET", get_urls), ("s3-PUT", put_urls), ("nginx-GET", nginx_get), ("nginx-PUT", nginx_put)):
        with open("%s/%s-%d.urls" % (work, name, size), "w") as f:
            f.write("\n".join(urls) + "\n")
EOP

field() { python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }
for size in $sizes; do
  conns=4
  [[ $size -ge 67108864 ]] && conns=2
  for method in GET PUT; do
    s3=$("$build/tests/s3_http_load" --port "$s3_port" --method "$method" --size "$size" --conns "$conns" \
      --seconds "$seconds" --urls "$work/s3-$method-$size.urls") || echo "s3_bench: rum-s3 $method $size had errors: $s3" >&2
    ng=$("$build/tests/s3_http_load" --port "$nginx_port" --method "$method" --size "$size" --conns "$conns" \
      --seconds "$seconds" --urls "$work/nginx-$method-$size.urls") || echo "s3_bench: nginx $method $size had errors: $ng" >&2
    python3 - "$method" "$size" "$conns" "$seconds" "$s3" "$ng" "$sync" <<'EOP'
import json, sys
method, size, conns, secs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
s3, ng = json.loads(sys.argv[5]), json.loads(sys.argv[6])
ratio = lambda a, b: round(a / b, 3) if b else None
print(json.dumps({"scenario": "s3." + method.lower(), "size": size, "conns": conns, "seconds": secs, "sync": sys.argv[7],
                  "rum_s3_req_s": s3["req_s"], "nginx_req_s": ng["req_s"], "ratio_req_s": ratio(s3["req_s"], ng["req_s"]),
                  "rum_s3_mb_s": s3["mb_s"], "nginx_mb_s": ng["mb_s"], "ratio_mb_s": ratio(s3["mb_s"], ng["mb_s"]),
                  "rum_s3_p50_ms": s3["p50_ms"], "rum_s3_p99_ms": s3["p99_ms"], "nginx_p50_ms": ng["p50_ms"],
                  "nginx_p99_ms": ng["p99_ms"], "rum_s3_errors": s3["errors"], "nginx_errors": ng["errors"]}), flush=True)
EOP
  done
done

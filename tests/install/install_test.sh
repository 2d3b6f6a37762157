#!/usr/bin/env bash
# install_test.sh BUILD_DIR BASE_PORT: install the build into a temporary prefix (and
# once more through DESTDIR), check the layout, then build tests/install/client
# outside the tree against the installed copy four ways (pkg-config rum, pkg-config
# rum-static, CMake RUM::rum, CMake RUM::rum_static) and run each against a 2-node
# cluster started with the installed rum-cluster and rumd (UDP ports BASE_PORT..+1).
# Everything it made is removed at exit, also on failure or a signal.
set -euo pipefail

build=$(cd "$1" && pwd)
port=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/rum-install.XXXXXX")
prefix=$tmp/prefix
cluster=$tmp/cluster
cc=${CC:-cc}

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [[ -x $prefix/bin/rum-cluster ]]; then
    "$prefix/bin/rum-cluster" stop --dir "$cluster" >/dev/null 2>&1 || true
  fi
  if [[ $status -ne 0 ]]; then
    for log in "$cluster"/node-*.log "$tmp"/cmake-*.log; do
      [[ -f $log ]] && { echo "---- $log" >&2; tail -n 20 "$log" >&2; }
    done
  fi
  rm -rf "$tmp"
  exit "$status"
}
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
rum_test_traps install_test
step() { echo "== $*"; }

# The installed programs must be the ones that run: no build tree in the way.
unset RUM_BIN_DIR RUM_MACHINES
export PATH=$prefix/bin:/usr/local/bin:/usr/bin:/bin

step "cmake --install $build --prefix $prefix"
cmake --install "$build" --prefix "$prefix" >"$tmp/install.log"
pc=$(find "$prefix" -name rum.pc -path '*/pkgconfig/*')
[[ -n $pc ]] || fail "no rum.pc installed"
libdir=$(dirname "$(dirname "$pc")")
for f in bin/rumd bin/rumctl bin/rum-cluster bin/rum-bench bin/mem_test bin/hashtable \
         include/rum/rum.h include/rum/rum_errors.h include/rum/rum_admin.h \
         share/man/man8/rumd.8.gz share/man/man1/rumctl.1.gz share/man/man1/rum-cluster.1.gz \
         share/man/man3/rum.3.gz lib/systemd/system/rumd@.service share/doc/rum/README.md; do
  [[ -e $prefix/$f ]] || fail "$f is not installed"
done
for f in librum.so.0.1.0 librum.a pkgconfig/rum-static.pc cmake/RUM/RUMConfig.cmake; do
  [[ -e $libdir/$f ]] || fail "$libdir/$f is not installed"
done
[[ $(readlink "$libdir/librum.so") == librum.so.0 && $(readlink "$libdir/librum.so.0") == librum.so.0.1.0 ]] ||
  fail "librum.so -> librum.so.0 -> librum.so.0.1.0 links are wrong"
grep -q 'SONAME.*\[librum\.so\.0\]' <(readelf -d "$libdir/librum.so.0.1.0") || fail "librum.so's SONAME is not librum.so.0"
# Only the public API leaves librum.so.
if nm -D --defined-only "$libdir/librum.so.0.1.0" | awk '{print $3}' | grep -v '^rum_' | grep .; then
  fail "librum.so exports symbols outside rum_*"
fi
grep -q "^prefix=$prefix\$" "$pc" || fail "rum.pc does not name the prefix installed to"
grep -q "^ExecStart=$prefix/bin/rumd " "$prefix/lib/systemd/system/rumd@.service" ||
  fail "rumd@.service does not start the installed rumd"
if [[ -x $prefix/bin/rum-kvs ]]; then
  grep -q "^ExecStart=$prefix/bin/rum-kvs --machines .* --store %i " "$prefix/lib/systemd/system/rum-kvs@.service" ||
    fail "rum-kvs@.service missing or not starting the installed rum-kvs"
fi

step "DESTDIR=$tmp/dest cmake --install --prefix /opt/rum-destdir-check"
DESTDIR=$tmp/dest cmake --install "$build" --prefix /opt/rum-destdir-check >"$tmp/destdir.log"
[[ ! -e /opt/rum-destdir-check ]] || fail "the DESTDIR install wrote into /opt"
[[ -x $tmp/dest/opt/rum-destdir-check/bin/rumd ]] || fail "no rumd under DESTDIR"
grep -q '^prefix=/opt/rum-destdir-check$' "$(find "$tmp/dest" -name rum.pc)" || fail "DESTDIR leaked into rum.pc"
grep -q '^ExecStart=/opt/rum-destdir-check/bin/rumd ' "$tmp/dest/opt/rum-destdir-check/lib/systemd/system/rumd@.service" ||
  fail "DESTDIR leaked into rumd@.service"
rm -rf "$tmp/dest"

step "a 2-node cluster from the installed rum-cluster"
"$prefix/bin/rum-cluster" start --nodes 2 --base-port "$port" --dir "$cluster" --memory-mb 256
for id in 1 2; do
  exe=$(readlink "/proc/$(cat "$cluster/node-$id.pid")/exe")
  [[ $exe == "$prefix/bin/rumd" ]] || fail "node $id runs $exe, not the installed rumd"
done
export RUM_MACHINES=$cluster/machines.csv RUM_CACHE_MB=2
"$prefix/bin/rumctl" status >"$tmp/rumctl.log" || fail "installed rumctl status failed"
[[ $(grep -c ' up ' "$tmp/rumctl.log") == 2 ]] || fail "rumctl does not show 2 nodes up"

expected() {
  printf 'sum of 1048576 words: 1997318690096807936\nread back from the nodes: yes\n'
  printf 'named region %s, 4096 bytes: hello from an installed librum\n' "$1"
}
run_hello() { # run_hello BINARY HOW
  "$1" "install.$2" >"$tmp/$2.out" || fail "$2: the program failed"
  diff -u <(expected "install.$2") "$tmp/$2.out" || fail "$2: unexpected output"
  echo "$2: ok"
}
# (grep -q on a process substitution: in a pipe, its early exit would fail the pipe.)
needs_librum() { grep -q 'NEEDED.*\[librum\.so\.0\]' <(readelf -d "$1"); }

export PKG_CONFIG_PATH=$libdir/pkgconfig
src=$here/client/hello.c
step "pkg-config rum (librum.so)"
# shellcheck disable=SC2046
"$cc" -Wall -Werror -o "$tmp/hello-pc" "$src" $(pkg-config --cflags --libs rum) -Wl,-rpath,"$libdir"
needs_librum "$tmp/hello-pc" || fail "pkg-config rum did not link librum.so"
run_hello "$tmp/hello-pc" pkg-config

step "pkg-config rum-static (librum.a)"
# shellcheck disable=SC2046
"$cc" -Wall -Werror -o "$tmp/hello-pc-static" "$src" $(pkg-config --cflags --libs rum-static)
! needs_librum "$tmp/hello-pc-static" || fail "pkg-config rum-static linked librum.so"
grep -q ' T rum_init$' <(nm "$tmp/hello-pc-static") || fail "rum_init is not in the static program"
run_hello "$tmp/hello-pc-static" pkg-config-static

for how in shared static; do
  step "CMake find_package(RUM), RUM::rum$([[ $how == static ]] && echo _static)"
  flag=OFF
  [[ $how == static ]] && flag=ON
  cmake -S "$here/client" -B "$tmp/cmake-$how" -DCMAKE_PREFIX_PATH="$prefix" -DHELLO_STATIC=$flag \
    -DCMAKE_BUILD_RPATH="$libdir" >"$tmp/cmake-$how.log" 2>&1 || fail "cmake configure ($how); see its log"
  cmake --build "$tmp/cmake-$how" >>"$tmp/cmake-$how.log" 2>&1 || fail "cmake build ($how)"
  if [[ $how == shared ]]; then
    needs_librum "$tmp/cmake-$how/hello" || fail "RUM::rum did not link librum.so"
  else
    ! needs_librum "$tmp/cmake-$how/hello" || fail "RUM::rum_static linked librum.so"
  fi
  run_hello "$tmp/cmake-$how/hello" "cmake-$how"
done

step "installed programs find the installed librum"
"$prefix/bin/hashtable" --ops 20000 --keys 2000 --seed 7 >"$tmp/hashtable.out" || fail "installed hashtable failed"
grep -q 'PASS' "$tmp/hashtable.out" || fail "installed hashtable did not pass"
loaded=$(ldd "$prefix/bin/hashtable" | awk '$1 == "librum.so.0" {print $3}')
[[ -n $loaded && $(realpath "$loaded") == $(realpath "$libdir/librum.so.0") ]] ||
  fail "hashtable loads librum.so.0 from '$loaded', not from $libdir"
echo "install_test: all checks passed"

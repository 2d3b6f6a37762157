#!/usr/bin/env bash
# deb_test.sh SOURCE_DIR: build the Debian packages with scripts/package.sh in a tree
# of its own, inspect them (dpkg-deb -I/-c: names, dependencies, files, the unit's
# paths), and as root install them with apt-get, run rumd --help and rumctl --help
# from /usr/bin, then purge them (also on failure). Not root, or one of the packages
# already installed on this machine: the install part is skipped with a message.
set -euo pipefail

src=$(cd "$1" && pwd)
packages=(librum0 librum-dev rum-server rum-tools)
for tool in dpkg-deb dpkg-shlibdeps file; do
  command -v "$tool" >/dev/null || { echo "deb_test: SKIP: $tool is missing (apt-get install dpkg-dev file)"; exit 77; }
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/rum-deb.XXXXXX")
installed=0
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [[ $installed == 1 ]]; then
    DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq -o DPkg::Lock::Timeout=60 "${packages[@]}" >/dev/null 2>&1 ||
      dpkg --purge "${packages[@]}" >/dev/null 2>&1 || true
  fi
  rm -rf "$tmp"
  exit "$status"
}
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
rum_test_traps deb_test

RUM_PACKAGE_BUILD_DIR=$tmp/build "$src/scripts/package.sh" "$tmp/debs" >/dev/null
for p in "${packages[@]}"; do
  deb=$(ls "$tmp"/debs/"${p}"_*.deb 2>/dev/null) || fail "no $p package"
  dpkg-deb -I "$deb" >"$tmp/$p.info"
  dpkg-deb -c "$deb" | awk '{print $6}' >"$tmp/$p.files"
  grep -q "^ Package: $p\$" "$tmp/$p.info" || fail "$deb is not package $p"
  grep -q '^ Depends: .*libc6' "$tmp/$p.info" || [[ $p == librum-dev ]] || fail "$p declares no shared-library dependencies"
  # Nothing from the build machine's folders, nothing outside /usr.
  if grep -vE '^\./(usr/.*)?$|^\./$' "$tmp/$p.files" | grep .; then fail "$p installs outside /usr"; fi
done
has() { grep -qx "./$2" "$tmp/$1.files" || fail "$1 lacks /$2"; }
has librum0 usr/lib/x86_64-linux-gnu/librum.so.0.1.0
has librum0 usr/lib/x86_64-linux-gnu/librum.so.0
has librum-dev usr/include/rum/rum.h
has librum-dev usr/lib/x86_64-linux-gnu/librum.a
has librum-dev usr/lib/x86_64-linux-gnu/pkgconfig/rum.pc
has librum-dev usr/lib/x86_64-linux-gnu/cmake/RUM/RUMConfig.cmake
has rum-server usr/bin/rumd
has rum-server usr/lib/systemd/system/rumd@.service
has rum-server usr/share/man/man8/rumd.8.gz
for prog in rumctl rum-cluster rum-bench mem_test hashtable; do has rum-tools "usr/bin/$prog"; done
grep -q 'librum0 (= ' "$tmp/librum-dev.info" || fail "librum-dev does not depend on its librum0"
grep -q 'librum0 (= ' "$tmp/rum-tools.info" || fail "rum-tools does not depend on librum0"
dpkg-deb --fsys-tarfile "$tmp"/debs/rum-server_*.deb | tar -xO ./usr/lib/systemd/system/rumd@.service >"$tmp/unit"
grep -q '^ExecStart=/usr/bin/rumd --machines /etc/rum/machines.csv --id %i ' "$tmp/unit" ||
  fail "the packaged unit does not start /usr/bin/rumd with /etc/rum/machines.csv"
echo "deb_test: packages built and inspected: $(cd "$tmp/debs" && echo *.deb)"

if [[ $(id -u) -ne 0 ]]; then
  echo "deb_test: SKIP of the install part: not root"
  exit 0
fi
for p in "${packages[@]}"; do
  if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    echo "deb_test: SKIP of the install part: $p is already installed on this machine (left alone)"
    exit 0
  fi
done
installed=1
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=60 \
  "$tmp"/debs/*.deb >"$tmp/apt.log" 2>&1 || { cat "$tmp/apt.log" >&2; fail "apt-get install failed"; }
/usr/bin/rumd --help | grep -q -- '--machines FILE' || fail "/usr/bin/rumd --help"
/usr/bin/rumctl --help | grep -q '^usage: rumctl' || fail "/usr/bin/rumctl --help"
/usr/bin/rum-cluster --help | grep -q 'rum-cluster start' || fail "/usr/bin/rum-cluster --help"
[[ $(readlink -f "$(dpkg -L librum0 | grep 'librum.so.0$')") == */librum.so.0.1.0 ]] || fail "librum.so.0 link"
pkg-config --modversion rum | grep -qx 0.1.0 || fail "pkg-config does not find the packaged rum.pc"
echo "deb_test: installed, /usr/bin/rumd and /usr/bin/rumctl run; purging"
DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq -o DPkg::Lock::Timeout=60 "${packages[@]}" >/dev/null
installed=0
[[ ! -e /usr/bin/rumd ]] || fail "/usr/bin/rumd is still there after the purge"
echo "deb_test: all checks passed"

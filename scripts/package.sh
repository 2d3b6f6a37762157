#!/usr/bin/env bash
# Build RUM's Debian packages (librum0, librum-dev, rum-server, rum-tools) into a folder.
# Usage: scripts/package.sh [OUT_DIR]   (default: build-deb/packages)
# Configures a tree of its own ($RUM_PACKAGE_BUILD_DIR, default build-deb/) with the
# prefix /usr, builds it and runs CPack's DEB generator there (cmake/cpack.cmake).
# Install the result with: apt-get install ./OUT_DIR/*.deb
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${RUM_PACKAGE_BUILD_DIR:-$root/build-deb}"
out="${1:-$build/packages}"
for tool in dpkg-shlibdeps dpkg-deb file; do
  command -v "$tool" >/dev/null || { echo "package.sh: $tool is missing (scripts/deps.sh installs it)" >&2; exit 1; }
done
if [ -z "${CC:-}" ] && command -v clang >/dev/null; then export CC=clang; fi
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=/usr >/dev/null
ninja -C "$build" -j"$(nproc)" >/dev/null
mkdir -p "$out"
out="$(cd "$out" && pwd)"
(cd "$build" && cpack -G DEB -B "$out/.cpack" >"$out/.cpack.log" 2>&1) || {
  cat "$out/.cpack.log" >&2
  exit 1
}
mv "$out"/.cpack/*.deb "$out"/
rm -rf "$out/.cpack" "$out/.cpack.log"
ls -1 "$out"/*.deb

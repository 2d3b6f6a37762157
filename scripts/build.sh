#!/usr/bin/env bash
# Configure and build RUM into build/ (or $RUM_BUILD_DIR) with CMake + Ninja.
# Usage: scripts/build.sh [Debug|Release|RelWithDebInfo|Asan]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${RUM_BUILD_DIR:-$root/build}"
type="${1:-RelWithDebInfo}"
# clang by default: the same build then also has the libFuzzer target (fuzz_proto).
if [ -z "${CC:-}" ] && command -v clang >/dev/null; then export CC=clang; fi
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE="$type" >/dev/null
ninja -C "$build" -j"$(nproc)"

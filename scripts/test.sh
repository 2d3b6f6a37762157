#!/usr/bin/env bash
# The test command: install what is missing, build, run every test with CTest.
# Usage: scripts/test.sh [extra ctest arguments, e.g. -R rpc]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/deps.sh"
"$root/scripts/build.sh" RelWithDebInfo
cd "${RUM_BUILD_DIR:-$root/build}"
# Two at a time: the machine has two cores and integration tests start clusters.
exec ctest --output-on-failure --timeout 600 -j2 "$@"

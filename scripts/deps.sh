#!/usr/bin/env bash
# Install the Debian packages RUM needs, only those missing. Sourced or run by
# scripts/test.sh and scripts/demo.sh; safe to run again.
set -euo pipefail

RUM_PACKAGES=(
  build-essential cmake ninja-build pkg-config clang libclang-rt-14-dev valgrind
  libssl-dev libcmocka-dev libxxhash-dev libdpdk-dev dpdk
  liblua5.4-dev lua5.4 libreadline-dev
  redis-tools redis-server s3cmd memcached
  libmicrohttpd-dev libxml2-dev zlib1g-dev awscli nginx
  iproute2 iptables procps python3
  dpkg-dev file strace systemd
  sqlite3 xz-utils g++ bc time gnuplot-nox
)

missing=()
for pkg in "${RUM_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "deps: all packages present"
fi

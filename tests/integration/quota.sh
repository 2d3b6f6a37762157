#!/usr/bin/env bash
# Per-client quotas end to end (run inside with_cluster.sh, nodes started with
# --client-quota-mb Q): client A allocates until ENOMEM and holds its memory; client B
# then fills its own quota the same way; both must reach it. Usage: quota.sh BIN Q N
set -euo pipefail
bin=$1 quota=$2 nodes=$3
coproc A { "$bin" --quota-mb "$quota" --nodes "$nodes" --hold; }
read -r -t 120 line <&"${A[0]}" || { echo "FAIL: client A did not fill its quota" >&2; exit 1; }
echo "client A: $line"
b=$("$bin" --quota-mb "$quota" --nodes "$nodes") || { echo "FAIL: client B failed while A held its quota" >&2; exit 1; }
echo "client B: $b"
[[ ${line#full } -gt 0 && ${b#full } -gt 0 ]] || exit 1
exec {A[1]}>&-
wait "$A_PID"
echo "ok: each client stopped at its own quota with ENOMEM"

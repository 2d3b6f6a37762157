#!/usr/bin/env bash
# rum-lua without a cluster file: a clear message on stderr and status 1.
rum_lua=$1
err=$("$rum_lua" --machines /nonexistent/rum-lua-test/machines.csv -e 'print("ran")' 2>&1 >/dev/null)
status=$?
if [ "$status" != 1 ]; then echo "FAIL: status $status, want 1"; echo "$err"; exit 1; fi
case "$err" in
  *"cannot start RUM"*) echo "OK: $err"; exit 0 ;;
  *) echo "FAIL: message does not say RUM could not start:"; echo "$err"; exit 1 ;;
esac

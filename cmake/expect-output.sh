#!/usr/bin/env bash
# expect-output.sh ERE... -- COMMAND [ARG...]
# Runs COMMAND (its output shown as it comes, stderr with stdout) and
# passes only when it exits 0 and each extended regular expression ERE
# matches a line of that output.  ctest's PASS_REGULAR_EXPRESSION alone
# ignores the exit status (not a signal): a LeakSanitizer report or a
# failed check that exits non-zero after the matched line passed.
set -uo pipefail
res=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do
  res+=("$1")
  shift
done
if [ $# -lt 2 ] || [ ${#res[@]} -eq 0 ]; then
  echo "usage: expect-output.sh ERE... -- COMMAND [ARG...]" >&2
  exit 2
fi
shift
log=$(mktemp) || exit 2
trap 'rm -f "$log"' EXIT
"$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
if [ "$rc" -ne 0 ]; then
  echo "expect-output: $1 exited with status $rc"
  exit 1
fi
for re in "${res[@]}"; do
  grep -Eq -- "$re" "$log" || { echo "expect-output: no line of $1's output matches /$re/"; exit 1; }
done
echo "expect-output: $1 exited 0, its output matches each of ${#res[@]} expression(s)"

#!/usr/bin/env bash
# check-archive-symbols.sh NM ARCHIVE [RUNTIME_REGEX]
# Fails when ARCHIVE needs a symbol it does not define itself: a
# freestanding core must not call memcpy, memset, or libgcc helpers such
# as __udivdi3 (64-bit division on i686).  RUNTIME_REGEX names the only
# outside symbols allowed, for an instrumented build (ASan, gcov).
set -euo pipefail
nm_tool=$1 archive=$2 runtime=${3:-}
undefined=$("$nm_tool" -u "$archive" | awk 'NF==2 {print $2}' | sort -u)
defined=$("$nm_tool" --defined-only "$archive" | awk 'NF==3 {print $3}' | sort -u)
missing=$(comm -23 <(printf '%s\n' "$undefined" | sed '/^$/d') <(printf '%s\n' "$defined"))
if [ -n "$runtime" ]; then
  missing=$(printf '%s\n' "$missing" | grep -Ev "$runtime" || true)
fi
count=$("$nm_tool" --defined-only "$archive" | awk 'NF==3 && $2 ~ /[TD]/' | wc -l)
if [ -n "$missing" ]; then
  echo "FAIL: $archive needs symbols from outside itself:"
  printf '  %s\n' $missing
  exit 1
fi
echo "OK: $archive defines every symbol it uses ($count global definitions, none undefined${runtime:+ but its instrumentation runtime $runtime})"

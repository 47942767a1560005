#!/usr/bin/env bash
# check-archive-symbols.sh NM ARCHIVE [ALLOWED_REGEX]
# Fails when ARCHIVE needs a symbol it does not define itself: a
# freestanding core must not call memcpy, memset, or libgcc helpers such
# as __udivdi3 (64-bit division on i686).  ARCHIVE may also be a
# ;-separated list of object files (an instrumented build's core, which is
# never archived).  ALLOWED_REGEX names the only outside symbols allowed:
# an instrumented build's runtime (ASan, gcov), or what the linker itself
# defines on an ISA (POWER's .TOC.).
set -euo pipefail
nm_tool=$1 archive=$2 runtime=${3:-}
IFS=';' read -r -a files <<<"$archive"
what=$archive
[ "${#files[@]}" -gt 1 ] && what="the ${#files[@]} objects in ${files[0]%/*}"
# nm heads each file's (and member's) symbols with "NAME:", which a path
# with blanks splits into fields as a symbol line: those lines are skipped.
undefined=$("$nm_tool" -u "${files[@]}" | awk '!/:$/ && NF==2 {print $2}' | sort -u)
defined=$("$nm_tool" --defined-only "${files[@]}" | awk '!/:$/ && NF==3 {print $3}' | sort -u)
missing=$(comm -23 <(printf '%s\n' "$undefined" | sed '/^$/d') <(printf '%s\n' "$defined"))
if [ -n "$runtime" ]; then
  missing=$(printf '%s\n' "$missing" | grep -Ev "$runtime" || true)
fi
count=$("$nm_tool" --defined-only "${files[@]}" | awk '!/:$/ && NF==3 && $2 ~ /[TD]/' | wc -l)
if [ -n "$missing" ]; then
  echo "FAIL: $what: symbols needed from outside:"
  printf '  %s\n' $missing
  exit 1
fi
echo "OK: $what: every symbol used is defined there ($count global definitions, none undefined${runtime:+ but those allowed, $runtime})"

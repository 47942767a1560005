#!/usr/bin/env bash
# The layer check must be able to fail: two objects that call each other.
# It must fail by finding the loop (exit 1, exactly the loop's report), not
# by any error: a crash in the loop report exits non-zero as well.
set -euo pipefail
src=$1
out=$2
mkdir -p "$out"
rejects() { # archive what
  local rc=0 text
  text=$(python3 "$src/tools/check-layers.py" "$1" 2>&1) || rc=$?
  local want=$'check-layers: call loop between a, b\n  a -> b\n  b -> a'
  if [ "$rc" -ne 1 ] || [ "$text" != "$want" ]; then
    printf '%s\n' "$text"
    echo "FAIL: check-layers.py did not report $2 (exit $rc)"
    exit 1
  fi
  echo "ok: check-layers.py rejects $2"
}
printf 'void b(void);\nvoid a(void) { b(); }\n' > "$out/a.c"
printf 'void a(void);\nvoid b(void) { a(); }\n' > "$out/b.c"
cc -c "$out/a.c" -o "$out/a.c.o"
cc -c "$out/b.c" -o "$out/b.c.o"
rm -f "$out/loop.a"
ar rcs "$out/loop.a" "$out/a.c.o" "$out/b.c.o"
rejects "$out/loop.a" "a call loop"
# The same loop with one side defined weak (nm's W, not T): still a loop.
printf 'void b(void);\n__attribute__((weak)) void a(void) { b(); }\n' > "$out/a.c"
cc -c "$out/a.c" -o "$out/a.c.o"
rm -f "$out/weak.a"
ar rcs "$out/weak.a" "$out/a.c.o" "$out/b.c.o"
rejects "$out/weak.a" "a call loop through a weak definition"

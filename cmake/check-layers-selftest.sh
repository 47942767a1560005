#!/usr/bin/env bash
# The layer check must be able to fail: two objects that call each other.
set -euo pipefail
src=$1
out=$2
mkdir -p "$out"
printf 'void b(void);\nvoid a(void) { b(); }\n' > "$out/a.c"
printf 'void a(void);\nvoid b(void) { a(); }\n' > "$out/b.c"
cc -c "$out/a.c" -o "$out/a.c.o"
cc -c "$out/b.c" -o "$out/b.c.o"
rm -f "$out/loop.a"
ar rcs "$out/loop.a" "$out/a.c.o" "$out/b.c.o"
if python3 "$src/tools/check-layers.py" "$out/loop.a"; then
  echo "FAIL: check-layers.py accepted a call loop"
  exit 1
fi
echo "ok: check-layers.py rejects a call loop"
# The same loop with one side defined weak (nm's W, not T): still a loop.
printf 'void b(void);\n__attribute__((weak)) void a(void) { b(); }\n' > "$out/a.c"
cc -c "$out/a.c" -o "$out/a.c.o"
rm -f "$out/weak.a"
ar rcs "$out/weak.a" "$out/a.c.o" "$out/b.c.o"
if python3 "$src/tools/check-layers.py" "$out/weak.a"; then
  echo "FAIL: check-layers.py accepted a call loop through a weak definition"
  exit 1
fi
echo "ok: check-layers.py rejects a call loop through a weak definition"

#!/usr/bin/env bash
# archive-check-selftest.sh SOURCE_DIR WORK_DIR
# Proves check-archive-symbols.sh can fail: an archive whose object calls
# memcpy and a 64-bit division helper must be rejected, a self-contained
# one accepted.
set -euo pipefail
src=$1 work=$2
mkdir -p "$work" && cd "$work"
cat > bad.c <<'C'
void *memcpy(void *, const void *, unsigned long);
unsigned long long f(void *d, const void *s, unsigned long long a, unsigned long long b)
{ memcpy(d, s, 16); return a / b; }
C
cat > good.c <<'C'
int g(int x) { return x * 3; }
C
i686-linux-gnu-gcc -m32 -ffreestanding -nostdlib -O2 -c bad.c -o bad.o
i686-linux-gnu-gcc -m32 -ffreestanding -nostdlib -O2 -c good.c -o good.o
rm -f bad.a good.a
i686-linux-gnu-ar rcs bad.a bad.o
i686-linux-gnu-ar rcs good.a good.o
if "$src/cmake/check-archive-symbols.sh" i686-linux-gnu-nm bad.a; then
  echo "FAIL: the check accepted an archive that calls memcpy and __udivdi3"; exit 1
fi
if "$src/cmake/check-archive-symbols.sh" i686-linux-gnu-nm bad.a '^__(asan|ubsan)_'; then
  echo "FAIL: an instrumentation allowance let memcpy and __udivdi3 through"; exit 1
fi
"$src/cmake/check-archive-symbols.sh" i686-linux-gnu-nm good.a
# Two archives (libnvmectl's check: the second calls the first) in a
# directory whose path has a blank: nm heads each with "PATH:", whose
# fields were taken for a symbol needed from outside.
mkdir -p "a dir"
printf 'int g(int);\nint h(int x) { return g(x) + 1; }\n' > uses.c
i686-linux-gnu-gcc -m32 -ffreestanding -nostdlib -fno-pic -O2 -c uses.c -o uses.o
rm -f "a dir/good.a" "a dir/uses.a"
i686-linux-gnu-ar rcs "a dir/good.a" good.o
i686-linux-gnu-ar rcs "a dir/uses.a" uses.o
"$src/cmake/check-archive-symbols.sh" i686-linux-gnu-nm "$PWD/a dir/good.a;$PWD/a dir/uses.a"
if "$src/cmake/check-archive-symbols.sh" i686-linux-gnu-nm "$PWD/a dir/uses.a;$PWD/bad.a"; then
  echo "FAIL: the check accepted archives in a path with a blank that need g, memcpy and __udivdi3"; exit 1
fi
echo "OK: the archive check rejects outside symbols and accepts a self-contained archive"

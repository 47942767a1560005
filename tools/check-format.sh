#!/usr/bin/env bash
# check-format.sh [TREE...] - checks C sources against the root .clang-format
# with clang-format-14 --dry-run --Werror (nothing is rewritten).
# Default trees: the project's own C code.  Prints every file that would
# change and a count.
#
# Exit status: 0 when every file conforms; 1 when no C file is found
# (outside a git checkout, or trees without any).  Non-conforming files fail the
# check with NVME_FORMAT_ENFORCE=1, which tools/run-all-tests.sh sets; run
# by hand without it, the check only reports.
# To reformat: clang-format-14 -i $(git ls-files '*.c' '*.h').
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
cf=${CLANG_FORMAT:-clang-format-14}
command -v "$cf" >/dev/null || { echo "check-format: $cf not found (apt-get install clang-format-14)"; exit 1; }
trees=("$@")
[ ${#trees[@]} -gt 0 ] || trees=(libnvme-core libnvmectl osal exos-glue tools tests bench)

# The list is taken apart from the process substitution, whose exit status
# bash drops: outside a git checkout git ls-files fails, and the check
# would pass having looked at no file.
listed=$(git ls-files -co --exclude-standard -- "${trees[@]}") ||
  { echo "check-format: git ls-files failed (not a git checkout?): no file checked"; exit 1; }
mapfile -t files < <(printf '%s\n' "$listed" | grep -E '\.[ch]$' | sort)
[ ${#files[@]} -gt 0 ] || { echo "check-format: no C file under ${trees[*]}: nothing checked"; exit 1; }
bad=()
for f in "${files[@]}"; do
  [ -f "$f" ] || continue
  if ! "$cf" --style=file --dry-run --Werror "$f" >/dev/null 2>&1; then
    bad+=("$f")
  fi
done
for f in "${bad[@]}"; do echo "  would change: $f"; done
echo "check-format: ${#bad[@]} of ${#files[@]} files would change (${trees[*]})"
if [ ${#bad[@]} -ne 0 ]; then
  if [ "${NVME_FORMAT_ENFORCE:-0}" = 1 ]; then
    exit 1
  fi
  echo "check-format: not enforced (NVME_FORMAT_ENFORCE=1 to fail on these)"
fi
exit 0

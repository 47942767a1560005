#!/usr/bin/env bash
# install-deps-selftest.sh SOURCE_DIR WORK_DIR
# tools/install-deps.sh on a machine without sudo (a fresh Debian 12),
# with stand-ins for id and apt-get on an otherwise empty PATH: as root
# it runs apt-get update and install itself; as another user it stops
# with a message naming the way out, exit 1, running nothing (it stopped
# with "sudo: command not found", exit 127).
set -uo pipefail
src=$1 work=$2
bash=$(command -v bash)
rm -rf "$work"
mkdir -p "$work/bin"
printf '#!/bin/sh\necho "apt-get $1" >>"%s/calls"\n' "$work" >"$work/bin/apt-get"
rc=0
for uid in 0 1000; do
  printf '#!/bin/sh\necho %s\n' "$uid" >"$work/bin/id"
  chmod +x "$work/bin/apt-get" "$work/bin/id"
  rm -f "$work/calls"
  out=$(PATH="$work/bin" "$bash" "$src/tools/install-deps.sh" 2>&1)
  st=$?
  calls=$(cat "$work/calls" 2>/dev/null | tr '\n' ' ')
  if [ "$uid" = 0 ]; then
    if [ "$st" -ne 0 ] || [ "$calls" != "apt-get update apt-get install " ]; then
      echo "FAIL: as root: exit $st, apt-get calls '$calls':"; printf '%s\n' "$out"; rc=1
    else
      echo "ok: as root without sudo: apt-get update and install run directly"
    fi
  elif [ "$st" -ne 1 ] || [ -n "$calls" ] || ! grep -q "not root and no sudo" <<<"$out"; then
    echo "FAIL: uid $uid without sudo: exit $st, apt-get calls '$calls':"; printf '%s\n' "$out"; rc=1
  else
    echo "ok: uid $uid without sudo: '$out', exit 1"
  fi
done
exit $rc

#!/usr/bin/env bash
# install-deps-selftest.sh SOURCE_DIR WORK_DIR
# tools/install-deps.sh with stand-ins for id, apt-get and sudo on an
# otherwise empty PATH.  On a machine without sudo (a fresh Debian 12): as
# root it runs apt-get update and install itself; as another user it stops
# with a message naming the way out, exit 1, running nothing (it stopped
# with "sudo: command not found", exit 127).  As another user with sudo,
# whose env_reset gives the command a fresh environment (the stand-in keeps
# PATH and the VAR=value words before the command, as sudo does): apt-get
# runs through sudo.  Every apt-get call sees DEBIAN_FRONTEND=noninteractive,
# so no debconf prompt stops an unattended install (through sudo it was
# dropped).
set -uo pipefail
src=$1 work=$2
bash=$(command -v bash)
env=$(command -v env)
rm -rf "$work"
mkdir -p "$work/bin"
printf '#!/bin/sh\necho "apt-get $1 ${DEBIAN_FRONTEND:-unset}" >>"%s/calls"\n' "$work" >"$work/bin/apt-get"
printf '#!/bin/sh\nvars=""\nwhile [ $# -gt 0 ]; do case $1 in *=*) vars="$vars $1"; shift ;; *) break ;; esac; done\nexec %s -i PATH="$PATH" $vars "$@"\n' \
  "$env" >"$work/sudo"
want="apt-get update noninteractive apt-get install noninteractive "
rc=0
for how in "0 without sudo" "1000 without sudo" "1000 with sudo"; do
  uid=${how%% *}
  printf '#!/bin/sh\necho %s\n' "$uid" >"$work/bin/id"
  rm -f "$work/bin/sudo"
  [ "$how" = "1000 with sudo" ] && cp "$work/sudo" "$work/bin/sudo"
  chmod +x "$work/bin/"*
  rm -f "$work/calls"
  out=$(PATH="$work/bin" "$bash" "$src/tools/install-deps.sh" 2>&1)
  st=$?
  calls=$(cat "$work/calls" 2>/dev/null | tr '\n' ' ')
  if [ "$how" = "1000 without sudo" ]; then
    if [ "$st" -ne 1 ] || [ -n "$calls" ] || ! grep -q "not root and no sudo" <<<"$out"; then
      echo "FAIL: uid $how: exit $st, apt-get calls '$calls':"; printf '%s\n' "$out"; rc=1
    else
      echo "ok: uid $how: '$out', exit 1"
    fi
  elif [ "$st" -ne 0 ] || [ "$calls" != "$want" ]; then
    echo "FAIL: uid $how: exit $st, apt-get calls and DEBIAN_FRONTEND '$calls', wanted '$want':"
    printf '%s\n' "$out"; rc=1
  else
    echo "ok: uid $how: apt-get update and install run, DEBIAN_FRONTEND=noninteractive"
  fi
done
exit $rc

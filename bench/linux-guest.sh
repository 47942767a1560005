# shellcheck shell=bash
# linux-guest.sh - sourced by compare-linux.sh and compare-nvme-cli.sh: a
# Linux guest for QEMU from Debian packages, to set beside the harness on
# the same NVMe device.  Needs `say` (a message on stderr) defined first.
#
#   lg_packages CMD:PKG ...  apt-get install the PKGs whose CMD is missing
#                            (CMD "-PKG": a package checked with dpkg -s)
#   lg_kernel WORK           Debian's linux-image-amd64 (its versioned
#                            image, `apt-get download`ed into WORK/kernel,
#                            never installed): sets lg_kdir (vmlinuz there),
#                            lg_kver and lg_kpkg
#   lg_root ROOT MODS...     an initramfs tree: busybox, /bin, /dev, /proc,
#                            /sys, and the kernel modules MODS with what
#                            they depend on (depends= in .modinfo) in
#                            /mods; sets lg_modules (load order, deps first)
#   lg_binary ROOT PATH      PATH and the libraries ldd names, into ROOT
#   lg_tree_hash ROOT        a hash of ROOT's names, modes and contents (the
#                            key of a cached archive of it)
#   lg_cpio ROOT OUT         ROOT as a gzipped newc archive, written aside
#                            and renamed: a cut-short one is never taken
#                            for a cached one

lg_packages() {
  local need=() c p
  for c in "$@"; do
    p=${c#*:}
    case ${c%%:*} in
      -*) dpkg -s "$p" >/dev/null 2>&1 || need+=("$p") ;;
      *) command -v "${c%%:*}" >/dev/null || need+=("$p") ;;
    esac
  done
  [ ${#need[@]} -gt 0 ] || return 0
  say "installing ${need[*]} (apt-get)"
  local sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${need[@]}" >&2
}

lg_kernel() {
  lg_kdir="$1/kernel"
  if [ ! -f "$lg_kdir/vmlinuz" ]; then
    local pkg
    pkg=$(apt-cache depends linux-image-amd64 | sed -n 's/.*Depends: \(linux-image-[0-9][^ ]*\).*/\1/p' | head -n 1)
    [ -n "$pkg" ] || { say "cannot resolve linux-image-amd64"; exit 2; }
    say "downloading $pkg (apt-get download; not installed)"
    rm -rf "$lg_kdir" && mkdir -p "$lg_kdir/x"
    (cd "$lg_kdir" && apt-get download "$pkg" >&2)
    dpkg-deb -x "$lg_kdir"/*.deb "$lg_kdir/x"
    cp "$lg_kdir"/x/boot/vmlinuz-* "$lg_kdir/vmlinuz"
    basename "$lg_kdir"/*.deb >"$lg_kdir/package"
  fi
  lg_kver=$(ls "$lg_kdir/x/lib/modules")
  lg_kpkg=$(cat "$lg_kdir/package")
}

lg_root() {
  local r=$1 m mdir="$lg_kdir/x/lib/modules/$lg_kver/kernel"
  shift
  mkdir -p "$r"/{bin,dev,proc,sys,mods}
  cp /bin/busybox "$r/bin/busybox"
  lg_modules=()
  _lg_modpath() { find "$mdir" -name "$(echo "$1" | sed 's/[-_]/[-_]/g').ko" | head -n 1; }
  _lg_add() {
    local m=$1 p d
    for d in "${lg_modules[@]+"${lg_modules[@]}"}"; do [ "$d" = "$m" ] && return 0; done
    p=$(_lg_modpath "$m"); [ -n "$p" ] || { say "module $m not found"; return 0; }
    for d in $(strings "$p" | sed -n 's/^depends=//p' | tr ',' ' '); do _lg_add "$d"; done
    lg_modules+=("$m")
  }
  for m in "$@"; do _lg_add "$m"; done
  for m in "${lg_modules[@]}"; do cp "$(_lg_modpath "$m")" "$r/mods/$m.ko"; done
}

lg_binary() {
  local r=$1 bin=$2 lib
  mkdir -p "$r$(dirname "$bin")" && cp "$bin" "$r$bin"
  for lib in $(ldd "$bin" | grep -o '/[^ ]*'); do
    mkdir -p "$r$(dirname "$lib")"
    cp -L "$lib" "$r$lib"
  done
}

lg_cpio() {
  (cd "$1" && find . | cpio -o -H newc --quiet | gzip -1) >"$2.tmp"
  mv "$2.tmp" "$2"
}

lg_tree_hash() {
  (cd "$1" && {
    find . -printf '%m %y %p\n' | LC_ALL=C sort
    find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
  } | sha256sum | cut -c1-16)
}

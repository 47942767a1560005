#!/usr/bin/env bash
# install-deps.sh - Debian 12 packages needed to build nvme-core, run its
# tests (cmocka, lcov, QEMU, clang, cppcheck, clang-format) and cross-build
# the freestanding core.
# Runs apt-get directly as root, through sudo otherwise.
set -euo pipefail
packages=(
  build-essential cmake pkg-config     # host build
  libcmocka-dev lcov                   # unit tests, coverage report
  gcc-i686-linux-gnu gcc-aarch64-linux-gnu gcc-riscv64-linux-gnu gcc-arm-linux-gnueabihf  # freestanding cross builds
  qemu-system-x86 fdisk dosfstools mtools e2fsprogs python3       # QEMU harness and disk images
  qemu-system-arm qemu-system-misc     # QEMU harness on aarch64, armv7 and riscv64 virt machines
  clang cppcheck clang-format-14       # clang build, static analysis, format check
  git                                  # the format check's file list (git ls-files; priority optional)
  libclang-rt-14-dev                   # libFuzzer target (tests/fuzz)
)
# A root shell on a fresh Debian 12 has no sudo (priority optional): as
# root apt-get runs directly; otherwise sudo must be there.  No debconf
# prompt: sudo's env_reset drops an exported DEBIAN_FRONTEND, so it is
# given on sudo's command line (allowed for any variable there when the
# command matched is ALL, as for the sudo group).
export DEBIAN_FRONTEND=noninteractive
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null ||
    { echo "install-deps.sh: not root and no sudo: run it as root (su -c 'bash $0')" >&2; exit 1; }
  sudo=(sudo DEBIAN_FRONTEND=noninteractive)
fi
"${sudo[@]}" apt-get update
"${sudo[@]}" apt-get install -y --no-install-recommends "${packages[@]}"

#!/usr/bin/env bash
# check-sources-fragment.sh ROOT "CORE_SOURCES" "NVMECTL_SOURCES"
# The makefile fragment libnvme-core/nvme-core-sources.mk must list the
# same sources as the CMake targets (absolute paths, ';' or ' ' separated),
# so make-based kernels build what CI tests.
set -euo pipefail
root=$1
norm() { tr ' ;' '\n\n' | sed '/^$/d' | sort; }
got=$(printf 'include %s/libnvme-core/nvme-core-sources.mk\nall:\n\t@echo $(NVME_CORE_SOURCES)\n\t@echo $(NVMECTL_SOURCES)\n' "$root" | make -s -f -)
core_mk=$(echo "$got" | sed -n 1p | norm)
ctl_mk=$(echo "$got" | sed -n 2p | norm)
core_cm=$(echo "$2" | norm)
ctl_cm=$(echo "$3" | norm)
rc=0
if [ "$core_mk" != "$core_cm" ]; then
  echo "NVME_CORE_SOURCES differs from libnvme-core/CMakeLists.txt:"; diff <(echo "$core_mk") <(echo "$core_cm") || true; rc=1
fi
if [ "$ctl_mk" != "$ctl_cm" ]; then
  echo "NVMECTL_SOURCES differs from libnvmectl/CMakeLists.txt:"; diff <(echo "$ctl_mk") <(echo "$ctl_cm") || true; rc=1
fi
[ $rc -ne 0 ] || echo "nvme-core-sources.mk lists the CMake sources: $(echo "$core_mk" | wc -l) core, $(echo "$ctl_mk" | wc -l) nvmectl"
exit $rc

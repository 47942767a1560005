#!/usr/bin/env bash
# run-all-tests.sh - every test of the project, as CI runs them:
#   1. the default build: unit tests (cmocka), freestanding cross builds
#      with the archive check, the QEMU harness suite, the EXOS shim tests;
#   2. the host tests again under AddressSanitizer + UBSan;
#   2b. the libFuzzer target over what the device returns (clang), a fixed
#      number of executions from tests/fuzz/corpus (tests/fuzz/run-fuzz.sh);
#   2c. ThreadSanitizer (clang): the SMP program (test_smp, the core on
#      three host threads) in its three runs; any data race fails it
#      unless tests/unit/tsan.supp names it (each entry explained);
#   3. a coverage build: lcov HTML report of libnvme-core, which must keep
#      at least 90% of its lines covered;
#   4. the host tree built with clang (-Wall -Wextra -Werror, as with gcc),
#      its unit and package tests;
#   5. cppcheck on libnvme-core, libnvmectl and osal/hosted-sim, zero
#      findings (each suppression explained where it stands, inline);
#   6. the .clang-format check (tools/check-format.sh): every C file of
#      the project conforms, or the run fails.
# The consumer of the installed package (tests/consumer) runs in 1 and 4
# (ctest package-consumer).
# Build trees go to build-test/ (override with NVME_TEST_BUILD=dir).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
out=${NVME_TEST_BUILD:-$src/build-test}
jobs=$(nproc 2>/dev/null || echo 2)
min_coverage=90
# sfdisk (the QEMU cases' MBR images, tests/qemu/check.py) is in /usr/sbin,
# which a non-root user's PATH lacks on Debian 12: qemu.*.basic failed.
case ":$PATH:" in *:/usr/sbin:*) ;; *) PATH=$PATH:/usr/sbin:/sbin ;; esac
export PATH

# ctest --no-tests=error: a step whose label selects no test (a label
# renamed, an option that drops the tests) fails instead of passing empty.
step() { printf '\n=== %s\n' "$*"; }
# Every step names each option it depends on: a build tree reused from a run
# by hand keeps its cache, so an option left out of a step's cmake line kept
# whatever that run chose (NVME_WERROR=OFF: the -Werror builds warned only;
# NVMECTL_LEAVE_OUT: commands left out of every test; another step's
# instrumentation).
pin=(-DNVME_WERROR=ON -DNVME_LIBS_ONLY=OFF -DNVMECTL_LEAVE_OUT=)

step "1/6 default build: unit, freestanding, qemu and exos tests"
# The suites named on: a cache left from a run by hand (NVME_QEMU_TESTS=OFF)
# kept them off, and the step passed without the QEMU suite.
cmake -S "$src" -B "$out/default" -DCMAKE_BUILD_TYPE=Debug -DNVME_QEMU_TESTS=ON \
      -DNVME_EXOS_TESTS=ON -DNVME_SANITIZE=OFF -DNVME_TSAN=OFF -DNVME_COVERAGE=OFF "${pin[@]}" >/dev/null
cmake --build "$out/default" -j "$jobs"
ctest --no-tests=error --test-dir "$out/default" --output-on-failure -j "$jobs"

step "2/6 AddressSanitizer + UndefinedBehaviorSanitizer: host tests"
cmake -S "$src" -B "$out/asan" -DCMAKE_BUILD_TYPE=Debug -DNVME_SANITIZE=ON \
      -DNVME_QEMU_TESTS=OFF -DNVME_EXOS_TESTS=ON -DNVME_TSAN=OFF -DNVME_COVERAGE=OFF "${pin[@]}" >/dev/null
cmake --build "$out/asan" -j "$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --no-tests=error --test-dir "$out/asan" --output-on-failure -j "$jobs" -L unit

step "2b/6 libFuzzer: everything the device returns (tests/fuzz/run-fuzz.sh)"
# Strict: the fake device also holds the core to the lifecycle rules of
# nvme.h (ownership, no register write after gone, bounded waits).
NVME_FUZZ_BUILD="$out/fuzz" bash "$src/tests/fuzz/run-fuzz.sh"

step "2c/6 ThreadSanitizer: the core on three host threads (test_smp)"
cmake -S "$src" -B "$out/tsan" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang -DNVME_TSAN=ON \
      -DNVME_QEMU_TESTS=OFF -DNVME_EXOS_TESTS=OFF -DNVME_SANITIZE=OFF -DNVME_COVERAGE=OFF "${pin[@]}" >/dev/null
cmake --build "$out/tsan" -j "$jobs" --target test_smp
ctest --no-tests=error --test-dir "$out/tsan" --output-on-failure -j "$jobs" -L tsan

step "3/6 coverage of libnvme-core (lcov)"
cmake -S "$src" -B "$out/coverage" -DCMAKE_BUILD_TYPE=Debug -DNVME_COVERAGE=ON \
      -DNVME_QEMU_TESTS=OFF -DNVME_EXOS_TESTS=OFF -DNVME_SANITIZE=OFF -DNVME_TSAN=OFF "${pin[@]}" >/dev/null
cmake --build "$out/coverage" -j "$jobs"
lcov --quiet --zerocounters --directory "$out/coverage/libnvme-core"
ctest --no-tests=error --test-dir "$out/coverage" --output-on-failure -j "$jobs" -L unit
lcov --quiet --capture --directory "$out/coverage/libnvme-core" \
     --output-file "$out/coverage/core.info" 2>/dev/null
lcov --quiet --extract "$out/coverage/core.info" "$src/libnvme-core/*" \
     --output-file "$out/coverage/core.info" 2>/dev/null
genhtml --quiet "$out/coverage/core.info" --output-directory "$out/coverage/html" >/dev/null
summary=$(lcov --summary "$out/coverage/core.info" 2>&1)
echo "$summary" | grep -E 'lines|functions'
pct=$(echo "$summary" | sed -n 's/.*lines\.*: \([0-9.]*\)%.*/\1/p')
echo "libnvme-core line coverage: ${pct}% (report: $out/coverage/html/index.html)"
if ! awk -v p="$pct" -v m="$min_coverage" 'BEGIN { exit !(p >= m) }'; then
  echo "FAIL: line coverage ${pct}% is below ${min_coverage}%"
  exit 1
fi

step "4/6 clang build (-Wall -Wextra -Werror): unit and package tests"
cmake -S "$src" -B "$out/clang" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang \
      -DNVME_QEMU_TESTS=OFF -DNVME_EXOS_TESTS=ON -DNVME_SANITIZE=OFF -DNVME_TSAN=OFF -DNVME_COVERAGE=OFF \
      "${pin[@]}" >/dev/null
cmake --build "$out/clang" -j "$jobs"
ctest --no-tests=error --test-dir "$out/clang" --output-on-failure -j "$jobs" -L 'unit|package'

step "5/6 cppcheck: libnvme-core, libnvmectl, osal/hosted-sim"
cppcheck --version
# Zero findings; each suppression is explained where it stands (inline).
cppcheck --enable=warning,style,performance,portability --std=c11 --inline-suppr \
         --error-exitcode=1 --quiet -D__GNUC__ -I "$src/libnvme-core/include" \
         -I "$src/libnvmectl/include" -I "$src/osal/hosted-sim/include" -j "$jobs" \
         "$src/libnvme-core/src" "$src/libnvmectl/src" "$src/osal/hosted-sim/src"
echo "cppcheck: no findings"

step "6/6 clang-format check"
NVME_FORMAT_ENFORCE=${NVME_FORMAT_ENFORCE:-1} "$src/tools/check-format.sh"
echo "all tests passed"

#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""check-test-properties.py CTEST BUILD_DIR - every ctest of the build
has a TIMEOUT (without one ctest waits for a hung test for ever: this
project includes no CTest module, so no default applies), and none passes
on PASS_REGULAR_EXPRESSION, with which ctest ignores the exit status (a
LeakSanitizer report or a failed check exiting non-zero after the matched
line passed):
such a test runs under cmake/expect-output.sh instead, which requires
both.  Reads `ctest --show-only=json-v1`; names every test that breaks a
rule, and fails then.
"""
import json
import subprocess
import sys


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    out = subprocess.run([sys.argv[1], "--test-dir", sys.argv[2], "--show-only=json-v1"],
                         stdout=subprocess.PIPE, check=True).stdout
    tests = json.loads(out)["tests"]
    bad = []
    for t in tests:
        props = {p["name"]: p["value"] for p in t.get("properties", [])}
        if not props.get("TIMEOUT"):
            bad.append("%s: no TIMEOUT" % t["name"])
        if "PASS_REGULAR_EXPRESSION" in props:
            bad.append("%s: PASS_REGULAR_EXPRESSION (its exit status is ignored)" % t["name"])
    for b in bad:
        print("check-test-properties: " + b)
    if bad or not tests:
        sys.exit("check-test-properties: %d problem(s) in %d tests" % (len(bad), len(tests)))
    print("check-test-properties: %d tests, each with a TIMEOUT, none passing on output alone"
          % len(tests))


if __name__ == "__main__":
    main()

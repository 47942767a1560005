#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Checks that every seed of a corpus still reaches what it was written for.

    python3 tests/fuzz/check-reach.py REPLAY CORPUS [--manifest FILE] [--show SEED...]

REPLAY is nvme-fuzz-replay or nvme-fuzz-nvmectl-replay, CORPUS the seed
directory (its base name, "corpus" or "corpus-nvmectl", names the section of
the manifest).  The replay runs the whole directory once with NVME_FUZZ_LOG=1
(the core's log lines, the device's fetches and injected faults, nvmectl's
command lines, output and results) and every seed's log must hold each of
its markers in reach.txt.  Fails, naming the seed and the marker, when:
  - a marker is missing from the seed's log (the seed decayed: its bytes no
    longer feed the command they were written for), or a "!" marker is there;
  - a seed of the directory has no entry (a new seed needs its markers), or
    an entry names no seed of the directory.
--show prints the named seeds' logs (to write their markers).

The manifest (reach.txt, next to the corpora): "[corpus]" or
"[corpus-nvmectl]" starts a section; then "SEED  MARKER", one marker a line
(a seed may have several, all must match): MARKER is a literal piece of one
log line, "re:REGEX" a Python regular expression searched in the whole log
(re.M), "re{N}:REGEX" one found at least N times, and a leading "!" inverts
any of them (the log must not hold it).
"""
import argparse
import os
import re
import subprocess
import sys


def parse_manifest(path):
    sections = {}
    cur = None
    with open(path) as f:
        for no, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            m = re.fullmatch(r"\[([\w.-]+)\]\s*", line)
            if m:
                cur = sections.setdefault(m.group(1), {})
                continue
            m = re.fullmatch(r"(\S+)\s+(\S.*?)\s*", line)
            if cur is None or not m:
                sys.exit(f"{path}:{no}: expected [SECTION] or 'SEED  MARKER'")
            marker = m.group(2)
            neg = marker.startswith("!")
            if neg:
                marker = marker[1:]
            times = 1
            r = re.match(r"re(?:\{(\d+)\})?:", marker)
            if r:
                times = int(r.group(1) or 1)
                try:
                    rx = re.compile(marker[r.end():], re.M)
                except re.error as e:
                    sys.exit(f"{path}:{no}: bad regex: {e}")
            else:
                rx = re.compile(re.escape(marker))
            cur.setdefault(m.group(1), []).append((m.group(2), neg, rx, times))
    return sections


def replay_logs(replay, corpus):
    """One replay of the directory; the log of each seed (the replay prints
    each path before running it, NVME_FUZZ_VERBOSE)."""
    env = dict(os.environ, NVME_FUZZ_LOG="1", NVME_FUZZ_VERBOSE="1", NVME_FUZZ_LAX="0")
    p = subprocess.run([replay, corpus], env=env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, timeout=240)
    names = sorted(n for n in os.listdir(corpus) if not n.startswith("."))
    paths = {os.path.join(corpus, n): n for n in names}
    logs = {}
    cur = None
    for line in p.stderr.decode("utf-8", "replace").splitlines():
        if line in paths:
            cur = paths[line]
            logs[cur] = []
        elif cur is not None:
            logs[cur].append(line)
    if p.returncode != 0:
        print(f"check-reach: {replay} {corpus} exited {p.returncode} "
              f"(in {cur or 'no seed'}): fuzz.corpus says why", file=sys.stderr)
    return names, {n: "\n".join(v) for n, v in logs.items()}, p.returncode


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("replay")
    ap.add_argument("corpus")
    ap.add_argument("--manifest", default=os.path.join(here, "reach.txt"))
    ap.add_argument("--section", help="manifest section (default: CORPUS's base name)")
    ap.add_argument("--show", nargs="+", metavar="SEED")
    a = ap.parse_args()

    names, logs, rc = replay_logs(a.replay, a.corpus)
    if a.show:
        for n in a.show:
            print(f"=== {n}\n{logs.get(n, '(not replayed)')}")
        return 0
    section = a.section or os.path.basename(os.path.normpath(a.corpus))
    want = parse_manifest(a.manifest).get(section)
    if want is None:
        sys.exit(f"check-reach: no [{section}] in {a.manifest}")

    bad = []
    for n in names:
        if n not in want:
            bad.append(f"{n}: no entry in {os.path.basename(a.manifest)} [{section}]: "
                       "add the marker(s) of what it was written for")
            continue
        log = logs.get(n)
        if log is None:
            bad.append(f"{n}: not replayed")
            continue
        for text, neg, rx, times in want[n]:
            found = rx.search(log) is not None if times == 1 else \
                sum(1 for _ in rx.finditer(log)) >= times
            if found == neg:
                bad.append(f"{n}: {'has' if neg else 'misses'} {text!r}")
    for n in sorted(set(want) - set(names)):
        bad.append(f"{n}: in {os.path.basename(a.manifest)} [{section}] but not in {a.corpus}")
    markers = sum(len(v) for k, v in want.items() if k in names)
    for line in bad:
        print("check-reach: " + line)
    seeds_bad = len({line.split(":")[0] for line in bad})
    print(f"check-reach: {len(names)} seeds, {markers} markers, {seeds_bad} seed(s) off target")
    return 1 if bad or rc != 0 else 0


if __name__ == "__main__":
    sys.exit(main())

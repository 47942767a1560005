#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""check-layers.py - no call loop between the core's source files.

Reads the object files of a libnvme-core archive with `nm`, draws an edge
from file A to file B whenever A uses a symbol B defines, and fails when
the graph has a cycle (files that call each other, directly or around a
loop).  Prints the layers, bottom first, so a reader sees the structure:

    tools/check-layers.py build/libnvme-core/libnvme-core.a

An instrumented build's core is never archived: give its object files
instead, ;-separated.
"""
import os
import subprocess
import sys
import tempfile


def objects(arg, tmp):
    """The object files of an archive (extracted into tmp), or of a list."""
    if not arg.endswith(".a"):
        return sorted(arg.split(";"))
    subprocess.run(["ar", "x", os.path.abspath(arg)], cwd=tmp, check=True)
    return [os.path.join(tmp, obj) for obj in sorted(os.listdir(tmp))]


def graph(archive):
    with tempfile.TemporaryDirectory() as tmp:
        defs, uses = {}, {}
        for obj in objects(archive, tmp):
            name = os.path.basename(obj).split(".")[0]
            out = subprocess.run(["nm", obj], capture_output=True,
                                 text=True, check=True).stdout
            uses[name] = set()
            for line in out.splitlines():
                f = line.split()
                # Every global definition: weak (W, V), GNU unique (u),
                # indirect (i) and small data (G, S) ones are called as
                # any other; a loop through them is still a loop.
                if len(f) == 3 and f[1] in "TDRBCWVuiGS":
                    defs[f[2]] = name
                elif len(f) == 2 and f[0] in "Uwv":  # w, v: weak references
                    uses[name].add(f[1])
    return {a: {defs[s] for s in us if s in defs and defs[s] != a} for a, us in uses.items()}


def cycles(g):
    """Strongly connected components with more than one file (Tarjan)."""
    index, low, stack, on, out, n = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = n[0]
        n[0] += 1
        stack.append(v)
        on.add(v)
        for w in g[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return out


def layers(g):
    level = {}

    def depth(v):
        if v not in level:
            level[v] = 0
            level[v] = 1 + max((depth(w) for w in g[v]), default=-1)
        return level[v]

    for v in g:
        depth(v)
    return [sorted(v for v in g if level[v] == i) for i in range(max(level.values()) + 1)]


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    g = graph(sys.argv[1])
    bad = cycles(g)
    if bad:
        for comp in bad:
            print("check-layers: call loop between %s" % ", ".join(comp))
            for a in comp:
                print("  %s -> %s" % (a, ", ".join(sorted(g[a] & set(comp)))))
        sys.exit(1)
    for i, files in enumerate(layers(g)):
        print("layer %d: %s" % (i, " ".join(files)))
    print("check-layers: %d files, no call loop" % len(g))


if __name__ == "__main__":
    main()

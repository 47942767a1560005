#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
qmp.py - run one monitor command on a running QEMU through its QMP socket.

    qmp.py SOCKET 'device_del nvme0'                      (an HMP command line)
    qmp.py SOCKET '{"execute": "query-status"}'           (a QMP command, JSON)

run.sh calls it when the harness prints "harness: HOOK NAME".  Prints the
reply (HMP: the monitor's text output; QMP: the "return" value as JSON) and
any QMP events that arrived meanwhile, one "event NAME" line each.
Exit status: 0 done, 1 the command failed (QMP error, or HMP output that
starts with "Error" or "unknown command:", or holds HMP's 'Try "help X"'
line after a parse error), 2 no monitor (socket missing, no greeting,
timeout).
"""
import json
import socket
import sys
import time


def main():
    if len(sys.argv) != 3:
        print("usage: qmp.py SOCKET COMMAND", file=sys.stderr)
        return 2
    path, cmd = sys.argv[1], sys.argv[2].strip()
    deadline = time.time() + 10
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    while True:
        try:
            s.connect(path)
            break
        except OSError as e:
            if time.time() > deadline:
                print("qmp.py: cannot connect to %s: %s" % (path, e))
                return 2
            time.sleep(0.05)
    s.settimeout(max(1.0, deadline - time.time()))
    f = s.makefile("rwb", buffering=0)

    def reply():
        """Next non-event message; prints events on the way."""
        while True:
            line = f.readline()
            if not line:
                raise EOFError("QMP connection closed")
            msg = json.loads(line)
            if "event" in msg:
                print("event %s %s" % (msg["event"], json.dumps(msg.get("data", {}))))
                continue
            return msg

    def send(obj):
        f.write((json.dumps(obj) + "\n").encode())
        return reply()

    try:
        greeting = reply()
        if "QMP" not in greeting:
            print("qmp.py: no QMP greeting: %r" % greeting)
            return 2
        send({"execute": "qmp_capabilities"})
        if cmd.startswith("{"):
            r = send(json.loads(cmd))
            if "error" in r:
                print("error: %s" % r["error"].get("desc", r["error"]))
                return 1
            print(json.dumps(r.get("return", {})))
            return 0
        r = send({"execute": "human-monitor-command", "arguments": {"command-line": cmd}})
        if "error" in r:
            print("error: %s" % r["error"].get("desc", r["error"]))
            return 1
        out = r.get("return", "")
        if out:
            sys.stdout.write(out if out.endswith("\n") else out + "\n")
        # HMP says a failure in its output, QMP's reply still "return":
        # "Error: ..." from the command, "unknown command: 'X'" for a name
        # it lacks, and a parse error ("unexpected end of expression",
        # "string expected"...) followed by 'Try "help X"'
        text = out.lstrip().lower()
        bad = text.startswith(("error", "unknown command:")) or '\ntry "help ' in "\n" + text
        return 1 if bad else 0
    except (OSError, EOFError, ValueError) as e:
        print("qmp.py: %s" % e)
        return 2


if __name__ == "__main__":
    sys.exit(main())

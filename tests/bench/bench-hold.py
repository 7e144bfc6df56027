#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A local stranger holding connections to `mailbearer serve`.

bench-hold.py SOCK N SECONDS [--reopen]
    Opens up to N connections to the UNIX socket SOCK (each connect bounded
    by the time left), sends nothing, and keeps them until SECONDS have
    passed since the start.  With --reopen, a connection the server closes
    is opened again at once, so that N stay open or pending for as long as
    the server lets them.  Prints "ready" on stdout once the first N
    attempts are made, then at the end one line:
    "attempts=A open=O closed_by_server=C connect_failed=F"
    where O is how many were still open at the end.
Everything is bounded by SECONDS (at most 600); nothing is ever read
beyond what the server sends on its own.
"""
import selectors
import socket
import sys
import time


def connect(path, end):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(max(0.01, min(2.0, end - time.monotonic())))
    try:
        s.connect(path)
    except OSError:
        s.close()
        return None
    s.setblocking(False)
    return s


def main():
    a = sys.argv[1:]
    reopen = "--reopen" in a
    a = [x for x in a if x != "--reopen"]
    if len(a) != 3:
        sys.stderr.write(__doc__)
        sys.exit(2)
    path, n, seconds = a[0], min(int(a[1]), 5000), min(float(a[2]), 600)
    end = time.monotonic() + seconds
    sel = selectors.DefaultSelector()
    attempts = closed = failed = 0
    for _ in range(n):
        if time.monotonic() >= end:
            break
        attempts += 1
        s = connect(path, end)
        if s is None:
            failed += 1
        else:
            sel.register(s, selectors.EVENT_READ)
    print("ready", flush=True)
    while time.monotonic() < end:
        events = sel.select(timeout=max(0.0, min(0.2,
                                                 end - time.monotonic())))
        for key, _ in events:
            s = key.fileobj
            try:
                data = s.recv(4096)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if data:
                continue  # an answer; the server closes next
            sel.unregister(s)
            s.close()
            closed += 1
            if reopen and time.monotonic() < end:
                attempts += 1
                s = connect(path, end)
                if s is None:
                    failed += 1
                else:
                    sel.register(s, selectors.EVENT_READ)
    still = len(sel.get_map())
    for key in list(sel.get_map().values()):
        key.fileobj.close()
    print("attempts=%d open=%d closed_by_server=%d connect_failed=%d"
          % (attempts, still, closed, failed))


main()

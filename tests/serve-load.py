#!/usr/bin/env python3
"""Load and abuse for `mailbearer serve` tests (MAILBEARER1 over a UNIX socket).

serve-load.py hold SOCK N SECONDS
    Opens N connections, sends nothing, keeps them SECONDS (bounded), then
    prints one summary line: "connected=C answered=A eof=E" where A counts
    connections that received a line (the line is printed once, as
    "first: LINE") and E those closed without one.
serve-load.py rate SOCK LINE RPS SECONDS [TIMEOUT]
    Sends LINE at RPS requests per second for SECONDS (one connection per
    request, each given TIMEOUT seconds, default 30), then prints "sent=S ok=O err=E slowest_ms=M" and the first
    non-OK answer as "bad: LINE".
Every socket has a timeout; every loop is bounded.
"""
import select
import socket
import sys
import time


def ask(path, line, timeout):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(path)
        try:
            s.sendall(line.encode("ascii") + b"\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused at accept: the reply is still there to read
        buf = b""
        while not buf.endswith(b"\n") and len(buf) < 65536:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
        return buf.decode("ascii", "replace").rstrip("\n")
    except OSError as e:
        return "EXC %s" % type(e).__name__
    finally:
        s.close()


def hold(path, n, seconds):
    socks = []
    for _ in range(min(n, 5000)):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(2)
        try:
            s.connect(path)
            socks.append(s)
        except OSError:
            s.close()
    end = time.monotonic() + min(seconds, 120)
    answered, eof, first = 0, 0, None
    poller = select.poll()
    byfd = {}
    for s in socks:
        poller.register(s.fileno(), select.POLLIN)
        byfd[s.fileno()] = s
    while byfd and time.monotonic() < end:
        wait_ms = max(1, int((end - time.monotonic()) * 1000))
        for fd, _ in poller.poll(wait_ms):
            s = byfd.pop(fd)
            poller.unregister(fd)
            try:
                data = s.recv(4096)
            except OSError:
                data = b""
            if data:
                answered += 1
                if first is None:
                    first = data.decode("ascii", "replace").rstrip("\n")
            else:
                eof += 1
    left = max(0.0, end - time.monotonic())
    time.sleep(left)
    for s in socks:
        s.close()
    print("connected=%d answered=%d eof=%d" % (len(socks), answered, eof))
    if first is not None:
        print("first: %s" % first)


def rate(path, line, rps, seconds, timeout=30.0):
    sent = ok = err = 0
    slowest = 0.0
    bad = None
    start = time.monotonic()
    total = int(rps * seconds)
    for i in range(total):
        due = start + i / rps
        now = time.monotonic()
        if due > now:
            time.sleep(due - now)
        t0 = time.monotonic()
        r = ask(path, line, timeout)
        slowest = max(slowest, time.monotonic() - t0)
        sent += 1
        if r.startswith("MAILBEARER1 OK "):
            ok += 1
        else:
            err += 1
            if bad is None:
                bad = r
    print("sent=%d ok=%d err=%d slowest_ms=%d" % (sent, ok, err,
                                                   slowest * 1000))
    if bad is not None:
        print("bad: %s" % bad)


def main():
    a = sys.argv[1:]
    if a and a[0] == "hold" and len(a) == 4:
        hold(a[1], int(a[2]), float(a[3]))
    elif a and a[0] == "rate" and len(a) in (5, 6):
        rate(a[1], a[2], float(a[3]), float(a[4]),
             float(a[5]) if len(a) == 6 else 30.0)
    else:
        sys.stderr.write(__doc__)
        sys.exit(2)


main()

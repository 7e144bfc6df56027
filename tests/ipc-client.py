#!/usr/bin/env python3
"""Test client for the MAILBEARER1 protocol (doc/protocol.md).

ipc-client.py SOCKET LINE [--parallel N] [--raw] [--slow SECONDS]
Sends LINE (a LF is added unless --raw) and prints the response line(s).
With --parallel N, N clients connect at once (after a barrier) and each
response is printed on its own line.  Bounded: every socket has a timeout.
"""
import socket
import sys
import threading
import time

def one(path, data, timeout, slow, results, idx):
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect(path)
        try:
            if slow:
                for b in data:
                    s.sendall(bytes([b]))
                    time.sleep(slow)
            else:
                s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused at accept: the reply is still there to read
        buf = b""
        while not buf.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
        s.close()
        results[idx] = buf.decode("ascii", "replace").rstrip("\n") or "EOF"
    except Exception as e:  # printed, compared by the test
        results[idx] = "EXC %s" % type(e).__name__

def main():
    args = sys.argv[1:]
    parallel, raw, slow, timeout = 1, False, 0.0, 20.0
    rest = []
    i = 0
    while i < len(args):
        if args[i] == "--parallel":
            parallel = int(args[i + 1]); i += 2
        elif args[i] == "--raw":
            raw = True; i += 1
        elif args[i] == "--slow":
            slow = float(args[i + 1]); i += 2
        elif args[i] == "--timeout":
            timeout = float(args[i + 1]); i += 2
        else:
            rest.append(args[i]); i += 1
    path, line = rest[0], rest[1]
    data = line.encode("latin-1").decode("unicode_escape").encode("latin-1")
    if not raw:
        data += b"\n"
    results = [None] * parallel
    threads = [threading.Thread(target=one, args=(path, data, timeout, slow,
                                                  results, k))
               for k in range(parallel)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout + 5)
    for r in results:
        print(r if r is not None else "HUNG")

main()

#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Benchmark driver for the fleet section (tests/bench/fleet.sh): asks
every host's `mailbearer serve` for an account's token every INTERVAL ms
for DURATION seconds and records, for each new token, when each host first
served it.  A token's spread is the time from the first host serving it to
the last one: how long a refresh made on one host takes to reach every
host.  Tokens already served in the first round are not refreshes seen
here and are left out.

    bench-fleet-poll.py [--interval-ms 20] --duration S
                        GROUP=ACCOUNT@SOCKET[,SOCKET...] ...

Output, key=value lines (never a token: tokens are compared by a hash
kept in memory only):
    GROUP.tokens      new tokens seen
    GROUP.complete    of which every host of the group served
    GROUP.spreads_ms  the spreads of the complete ones, in order
    GROUP.errors      answers that were not OK (or no answer in 1 s)
    rounds, late_rounds (a round that took longer than the interval)
"""
import argparse
import hashlib
import importlib.util
import os
import sys
import time


# one request on a fresh connection: serve-load.py's
_spec = importlib.util.spec_from_file_location("serve_load", os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "fixtures",
    "serve-load.py"))
serve_load = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(serve_load)


def ask(path, account):
    """The hash of the token serve answers with, or None."""
    f = serve_load.ask(path, "MAILBEARER1 TOKEN " + account, 1.0).split()
    if len(f) < 4 or f[:2] != ["MAILBEARER1", "OK"]:
        return None
    return hashlib.sha256(f[3].encode()).hexdigest()[:16]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--interval-ms", type=float, default=20.0)
    ap.add_argument("--duration", type=float, required=True)
    ap.add_argument("groups", nargs="+")
    a = ap.parse_args()
    groups = []     # (name, account, [sockets])
    for g in a.groups:
        name, rest = g.split("=", 1)
        account, socks = rest.rsplit("@", 1)
        groups.append((name, account, socks.split(",")))
    seen = {}       # (group, token) -> {socket: first time}
    order = {}      # group -> [token, ...] in order of first sight
    initial = {}    # group -> tokens of the first round
    errors = {g[0]: 0 for g in groups}
    step = a.interval_ms / 1000.0
    start = time.monotonic()
    end = start + a.duration
    rounds = late = 0
    tick = start
    while time.monotonic() < end:
        for name, account, socks in groups:
            for path in socks:
                h = ask(path, account)
                now = time.monotonic()
                if h is None:
                    errors[name] += 1
                    continue
                if rounds == 0:
                    initial.setdefault(name, set()).add(h)
                first = seen.setdefault((name, h), {})
                if not first:
                    order.setdefault(name, []).append(h)
                first.setdefault(path, now)
        rounds += 1
        tick += step
        now = time.monotonic()
        if now > tick:
            late += 1
            tick = now
        else:
            time.sleep(tick - now)
    for name, account, socks in groups:
        new = [h for h in order.get(name, [])
               if h not in initial.get(name, set())]
        spreads = []
        for h in new:
            first = seen[(name, h)]
            if len(first) == len(socks):
                t = first.values()
                spreads.append(round((max(t) - min(t)) * 1000.0, 1))
        print("%s.tokens=%d" % (name, len(new)))
        print("%s.complete=%d" % (name, len(spreads)))
        print("%s.spreads_ms=%s" % (name, " ".join(str(x) for x in spreads)))
        print("%s.errors=%d" % (name, errors[name]))
    print("rounds=%d" % rounds)
    print("late_rounds=%d" % late)
    return 0


if __name__ == "__main__":
    sys.exit(main())

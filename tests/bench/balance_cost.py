#!/usr/bin/env python3
"""tests/bench/balance_cost.py: what each balance algorithm costs a whole S1
request, in the daemon's instructions (callgrind: deterministic, unlike
throughput on a shared machine).

As policy_cost.py: gatehoused under valgrind --tool=callgrind with one
worker, one client sending N sequential keep-alive GETs (100 B answers),
the cost of a request being the difference of the instruction counts for
N2 and N1 requests divided by N2 - N1, counted only in the worker thread
(worker_main: the start's password hashing, timed and so uneven under
valgrind, stays out). Here the route's origin has three servers (three
ports of one origin) and the configurations differ only in the origin's
balance.

Usage: tests/bench/balance_cost.py GATEHOUSED [N1 N2]
"""
import os
import sqlite3
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import policy_cost  # noqa: E402  (origin(), free_port(), run())

ALGORITHMS = ("round_robin", "least_conn", "p2c", "hash", "random")
bare_setup = policy_cost.setup


def balance_setup(binary, work, oports, pport, algo):
    """The bare route of policy_cost.py, with three servers and <algo>."""
    db, kek = bare_setup(binary, work, oports[0], pport, "bare")
    c = sqlite3.connect(db, isolation_level=None)
    c.execute("PRAGMA foreign_keys=ON")
    for p in oports[1:]:
        c.execute("INSERT INTO servers (origin_id, address, port) "
                  "VALUES (1, '127.0.0.1', ?)", (p,))
    c.execute("UPDATE origins SET balance_algorithm = ?", (algo,))
    c.close()
    return db, kek


def main():
    binary = sys.argv[1]
    n1, n2 = (int(sys.argv[2]), int(sys.argv[3])) if len(sys.argv) > 3 else (200, 1200)
    oports = [policy_cost.origin() for _ in range(3)]
    base = None
    with tempfile.TemporaryDirectory() as work:
        print("| balance (3 servers) | instructions per S1 request | against round_robin |")
        print("|---|---:|---:|")
        for algo in ALGORITHMS:
            # policy_cost.run() makes its database with policy_cost.setup()
            policy_cost.setup = (lambda b, w, o, p, _, algo=algo:
                                 balance_setup(b, w, oports, p, algo))
            a = policy_cost.run(binary, work, oports[0], algo, n1, "worker_main")
            b = policy_cost.run(binary, work, oports[0], algo, n2, "worker_main")
            per = (b - a) / (n2 - n1)
            base = base or per
            print("| %s | %.0f | %+.2f%% |" % (algo, per, 100.0 * (per - base) / base))
            sys.stdout.flush()


if __name__ == "__main__":
    main()

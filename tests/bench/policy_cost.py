#!/usr/bin/env python3
"""tests/bench/policy_cost.py: what route policies cost per request, in
instructions (callgrind: deterministic, no timing, usable on a busy machine).

gatehoused runs under valgrind --tool=callgrind with one worker; one client
sends N sequential keep-alive GETs (S1: 100 B answers) on one connection.
The cost of one request is the difference of the daemon's instruction
counts for N2 and N1 requests divided by N2 - N1 (start-up cancels out).
Configurations: a bare route; the route with three header rules (set,
add with a {variable}, remove); and with an access list that lets the
client in by address plus a rate limit it never reaches, as issue 12's
bench line asks.

Usage: tests/bench/policy_cost.py GATEHOUSED [N1 N2]
"""
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import free_port, fresh_db, origin as bench_origin  # noqa: E402


BODY = b"a" * 100


def origin():
    """A keep-alive origin answering every request with 100 B."""
    return bench_origin()


def setup(binary, work, oport, pport, policy):
    db, kek = fresh_db(binary, work)
    c = sqlite3.connect(db, isolation_level=None)
    c.execute("PRAGMA foreign_keys=ON")
    c.execute("DELETE FROM routes")
    c.execute("DELETE FROM servers")
    c.execute("DELETE FROM origins")
    c.execute("DELETE FROM listeners")
    for t in ("access_lists", "rate_limits"):
        try:
            c.execute("DELETE FROM %s" % t)
        except sqlite3.OperationalError:
            pass
    c.execute("INSERT INTO listeners (name, address, port) VALUES ('l', '127.0.0.1', ?)", (pport,))
    c.execute("INSERT INTO origins (name) VALUES ('o')")
    c.execute("INSERT INTO servers (origin_id, address, port) VALUES (1, '127.0.0.1', ?)", (oport,))
    cols = {"name": "r", "listener_id": 1, "origin_id": 1}
    if policy in ("rules", "all"):
        cols.update(request_headers_set='{"X-Env":"prod"}',
                    request_headers_add='{"Via-Gate":"{host}"}',
                    request_headers_remove='["X-Debug"]')
    if policy == "all":
        c.execute("INSERT INTO access_lists (name, allow) VALUES ('office', '[\"127.0.0.0/8\"]')")
        c.execute("INSERT INTO rate_limits (name, rate, burst) VALUES ('api', 1000000, 1000000)")
        cols.update(access_list_id=1, rate_limit_id=1)
    keys = list(cols)
    c.execute("INSERT INTO routes (%s) VALUES (%s)" % (", ".join(keys), ", ".join("?" * len(keys))),
              [cols[k] for k in keys])
    c.close()
    return db, kek


def run(binary, work, oport, policy, n, collect=None):
    """<collect>: count only inside that function (--toggle-collect)."""
    pport = free_port()
    db, kek = setup(binary, work, oport, pport, policy)
    out = os.path.join(work, "cg.%s.%d" % (policy, n))
    only = ["--toggle-collect=" + collect] if collect else []
    p = subprocess.Popen(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out]
                         + only + [binary, "--db", db, "--kek", kek, "--workers", "1",
                                   "--access-log", "off"],
                         stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    deadline = time.time() + 60
    while True:
        try:
            s = socket.create_connection(("127.0.0.1", pport), timeout=30)
            break
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.2)
    req = b"GET /x HTTP/1.1\r\nHost: app.test\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n"
    for _ in range(n):
        s.sendall(req)
        got = b""
        while not got.endswith(BODY):
            d = s.recv(65536)
            if not d:
                raise SystemExit("connection closed: %r" % got[:200])
            got += d
        if b" 200 " not in got.split(b"\r\n", 1)[0]:
            raise SystemExit("not 200: %r" % got[:200])
    s.close()
    p.send_signal(signal.SIGTERM)
    p.wait()
    for line in open(out):
        if line.startswith("summary:") or line.startswith("totals:"):
            return int(line.split()[1])
    raise SystemExit("no totals in " + out)


def main():
    binary = sys.argv[1]
    n1, n2 = (int(sys.argv[2]), int(sys.argv[3])) if len(sys.argv) > 3 else (200, 1200)
    oport = origin()
    base = None
    with tempfile.TemporaryDirectory() as work:
        print("| route | instructions per request | against bare |")
        print("|---|---|---|")
        for policy in ("bare", "rules", "all"):
            a = run(binary, work, oport, policy, n1)
            b = run(binary, work, oport, policy, n2)
            per = (b - a) / (n2 - n1)
            base = base or per
            print("| %s | %.0f | %+.1f%% |" % (policy, per, 100.0 * (per - base) / base))
            sys.stdout.flush()


if __name__ == "__main__":
    main()

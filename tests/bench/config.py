#!/usr/bin/env python3
"""config.py: configuration at scale, driven through the admin API (run by
tests/bench/config.sh; the recipe is in /work/shared/notes/measuring.md,
"Configuration at scale").

For each size N: a fresh database, gatehoused with 2 workers; one PUT
/api/v1/config with N routes (host hI.example) on N/10 origins; then
PATCHES one-route changes (PATCH /routes/rK {"priority": i}) timed one by
one (p50, p99). Reported: the PUT's time, the PATCH latencies, resident
memory per route ((RSS after the load - RSS before) / N), and with
--changes C the database size after C one-route changes (the timed ones
included) against its size right after the first load (pages in use, WAL
checkpointed).
Prints one Markdown table row per size, and a JSON line per size.
"""

import argparse
import gc
import json
import os
import re
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ADMIN_RE = re.compile(r"admin API listening on (https?)://([^ ]+):(\d+)/")


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def db_used_bytes(path):
    c = sqlite3.connect(path, timeout=30)
    try:
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        pages, size, free = (c.execute("PRAGMA %s" % p).fetchone()[0]
                             for p in ("page_count", "page_size", "freelist_count"))
        return (pages - free) * size
    finally:
        c.close()


class Admin:
    def __init__(self, base):
        self.base = base
        self.token = None

    def call(self, method, path, body=None, timeout=600):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + "/api/v1" + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if self.token:
            req.add_header("Authorization", "Bearer " + self.token)
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read() or b"null")


def start(gh, workdir):
    db = os.path.join(workdir, "gatehouse.db")
    log = open(os.path.join(workdir, "gatehoused.log"), "w+")
    p = subprocess.Popen([gh, "--db", db, "--workers", "2", "--access-log", "off",
                          "--admin-listen", "127.0.0.1:0", "--log-level", "info"],
                         stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        log.seek(0)
        m = ADMIN_RE.search(log.read())
        if m:
            break
        if p.poll() is not None:
            sys.exit("config.py: gatehoused exited")
        time.sleep(0.05)
    else:
        sys.exit("config.py: gatehoused did not start")
    api = Admin("%s://127.0.0.1:%s" % (m.group(1), m.group(3)))
    with open(os.path.join(workdir, "admin-password")) as f:
        pw = f.read().strip()
    req = urllib.request.Request(api.base + "/api/v1/session", method="POST",
                                 data=json.dumps({"username": "admin", "password": pw}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        cookie = r.headers["Set-Cookie"].split(";")[0]
        csrf = json.loads(r.read())["csrf_token"]
    req = urllib.request.Request(api.base + "/api/v1/tokens", method="POST",
                                 data=json.dumps({"name": "bench", "role": "admin"}).encode(),
                                 headers={"Content-Type": "application/json", "Cookie": cookie,
                                          "X-CSRF-Token": csrf})
    with urllib.request.urlopen(req) as r:
        api.token = json.loads(r.read())["token"]
    return p, api, db


def document(n):
    return {"listeners": [{"name": "public", "address": "127.0.0.1", "port": 0}],
            "origins": [{"name": "o%d" % i, "servers": [{"address": "127.0.0.1", "port": 8000 + i % 1000}]}
                        for i in range(max(1, n // 10))],
            "routes": [{"name": "r%d" % i, "listener": "public", "origin": "o%d" % (i // 10),
                        "match": {"hosts": ["h%d.example" % i]}} for i in range(n)]}


PHASE_RE = re.compile(r"apply timing: (.*)")


def phase_rows(wd):
    """With GATEHOUSED_APPLY_TIMING=1: the phases of each item write, in
    order, from the daemon's log (api_apply.c)."""
    with open(os.path.join(wd, "gatehoused.log")) as f:
        return [dict((kv.rsplit(" ", 2)[0].strip(), float(kv.rsplit(" ", 2)[1]))
                     for kv in m.group(1).split(","))
                for m in (PHASE_RE.search(line) for line in f) if m]


def phases(rows):
    """The median of each phase."""
    return {k: round(statistics.median(r[k] for r in rows), 2) for k in rows[0]} if rows else {}


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q / 100.0 * (len(xs) - 1))))]


def run(gh, n, patches, changes):
    out = {"routes": n}
    with tempfile.TemporaryDirectory(prefix="gh-config-") as wd:
        p, api, db = start(gh, wd)
        try:
            time.sleep(0.5)
            before = rss_kb(p.pid)
            doc = document(n)
            out["body_mib"] = len(json.dumps(doc)) / 1048576
            t0 = time.monotonic()
            st, answer = api.call("PUT", "/config", doc)
            t1 = time.monotonic()
            out["put_ms"] = (t1 - t0) * 1000
            assert st == 200
            # The client's own cost stays out of the PATCH timings: the
            # answer lists every item added (a million Python objects at
            # 100,000 routes) and freeing it when the first PATCH's answer
            # replaced it took 25 ms (10,000 routes) and 320 ms (100,000)
            # inside that PATCH's timer. Freed here, and the first PATCH
            # still sent 0.5 s after the PUT's answer.
            del answer, doc
            gc.collect()
            time.sleep(max(0.0, 0.5 - (time.monotonic() - t1)))
            out["rss_kb_per_route"] = (rss_kb(p.pid) - before) / n
            size0 = db_used_bytes(db) if changes else 0
            lat = []
            for i in range(patches):
                t0 = time.monotonic()
                st, _ = api.call("PATCH", "/routes/r%d" % ((i * 7919) % n), {"priority": i % 100 + 1})
                lat.append((time.monotonic() - t0) * 1000)
            out["patch_p50_ms"] = statistics.median(lat)
            rows = phase_rows(wd)
            out["phases_p50_ms"] = phases(rows)
            if rows:
                # The daemon's side of the slowest PATCH: its phases.
                out["phases_slowest_ms"] = max(rows[:patches], key=lambda r: r.get("total", 0))
                out["daemon_ms"] = [r.get("total") for r in rows[:patches]]
            out["patch_ms"] = [round(x, 2) for x in lat]
            out["patch_p99_ms"] = pct(lat, 99)
            if changes:
                # The timed PATCHes count among the <changes>.
                t0 = time.monotonic()
                for i in range(patches, changes):
                    api.call("PATCH", "/routes/r%d" % ((i * 104729) % n), {"priority": 200 + i % 100})
                out["changes"] = max(changes, patches)
                out["changes_s"] = time.monotonic() - t0
                out["db_first_load_bytes"] = size0
                out["db_after_bytes"] = db_used_bytes(db)
                out["db_ratio"] = out["db_after_bytes"] / size0
        finally:
            p.send_signal(signal.SIGTERM)
            p.wait(timeout=60)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("gatehoused")
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--patches", type=int, default=50)
    ap.add_argument("--changes", type=int, default=1000,
                    help="one-route changes for the database-size check at the first size")
    a = ap.parse_args()
    print("| routes (origins) | body | PUT /config | PATCH p50 | PATCH p99 | RSS per route | DB after changes / first load |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for k, n in enumerate(int(x) for x in a.sizes.split(",")):
        r = run(a.gatehoused, n, a.patches, a.changes if k == 0 else 0)
        db = ("%.2f (%d changes: %.1f MB -> %.1f MB)" % (r["db_ratio"], r["changes"],
              r["db_first_load_bytes"] / 1e6, r["db_after_bytes"] / 1e6)) if "db_ratio" in r else "—"
        print("| %d (%d) | %.1f MiB | %.0f ms | %.1f ms | %.1f ms | %.2f kB | %s |" % (
            n, max(1, n // 10), r["body_mib"], r["put_ms"], r["patch_p50_ms"], r["patch_p99_ms"],
            r["rss_kb_per_route"], db), flush=True)
        print(json.dumps(r), file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()

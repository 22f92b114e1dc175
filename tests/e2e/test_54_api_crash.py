"""SIGKILL during a stream of API writes, 50 times: the daemon always
restarts with the last acknowledged revision (or the one in flight when
it died, which may have committed before its answer was sent), serving
exactly what that revision recorded, and the database passes
PRAGMA integrity_check. Each round kills only once the stream has had a
new revision acknowledged, so every round kills a daemon that is writing however
slow the machine is (a fixed delay could end rounds before their first
write on a loaded machine)."""

import random
import signal
import sqlite3
import threading
import time

import requests

from apiclient import restart_api, start_api


def writer(api, stop, acked, attempted, i=0):
    while not stop.is_set():
        i += 1
        ops = [("PATCH", "/routes/app", {"priority": i % 1000}),
               ("POST", "/origins", {"name": "tmp%d" % i, "servers": [
                   {"address": "127.0.0.1", "port": 1000 + i % 50000}]}),
               ("DELETE", "/origins/tmp%d" % (i - 1), None)]
        method, path, body = ops[i % 3]
        attempted.append(i)
        try:
            r = api.req(method, path, body, timeout=30)
        except requests.RequestException:
            return
        if r.status_code in (200, 201, 204) and "X-Config-Revision" in r.headers:
            acked.append(int(r.headers["X-Config-Revision"]))


def db_state(path):
    c = sqlite3.connect(path, timeout=10)
    try:
        ok = c.execute("PRAGMA integrity_check").fetchall()
        rev = c.execute("SELECT coalesce(max(id), 0) FROM revisions").fetchone()[0]
        return ok, rev
    finally:
        c.close()


def test_sigkill_during_writes(gh, origin):
    api = start_api(gh)
    api.ok("POST", "/origins", {"name": "web", "servers": [
        {"address": "127.0.0.1", "port": origin.port}]}, status=201)
    api.ok("POST", "/listeners", {"name": "public", "address": "127.0.0.1", "port": 0},
           status=201)
    api.ok("POST", "/routes", {"name": "app", "listener": "public", "origin": "web"},
           status=201)
    last_acked = api.revision()
    rng = random.Random(54)
    gh.allow_crit = False
    for round_ in range(50):
        stop = threading.Event()
        acked, attempted = [], []
        t = threading.Thread(target=writer,
                             args=(api, stop, acked, attempted, 1000 * round_))
        t.start()
        deadline = time.monotonic() + 60
        while (not acked or acked[-1] <= last_acked) and t.is_alive() and \
                time.monotonic() < deadline:
            time.sleep(0.005)
        assert acked and acked[-1] > last_acked, (round_, "no new revision before the kill")
        time.sleep(rng.uniform(0.0, 0.3))
        gh.proc.send_signal(signal.SIGKILL)
        gh.proc.wait(10)
        stop.set()
        t.join(10)
        assert not t.is_alive()
        if acked:
            assert acked == sorted(acked)
            last_acked = acked[-1]
        ok, rev = db_state(gh.db_path)
        assert ok == [("ok",)], (round_, ok)
        assert last_acked <= rev <= last_acked + 1, (round_, last_acked, rev)

        restart_api(gh, api)
        st = api.status()
        assert st["latest_revision"] == rev and st["serving_revision"] == rev, (round_, st)
        if rev > 0:
            assert api.get("/config").json() == api.get("/revisions/%d" % rev).json()["config"]
        last_acked = rev
    assert last_acked > 50

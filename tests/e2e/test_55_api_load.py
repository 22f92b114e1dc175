"""500 API changes (routes and origins added, edited, removed) under
continuous keep-alive load from a bounded client loop: not one client
request fails, and the daemon keeps its PID."""

import http.client
import threading
import time

from apiclient import start_api, wait_port

CHANGES = 500


def client_loop(port, stop, stats, max_requests=200000):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    for _ in range(max_requests):
        if stop.is_set():
            break
        try:
            conn.request("GET", "/load", headers={"Host": "app.test"})
            r = conn.getresponse()
            r.read()
            if r.status == 200 and r.getheader("X-Backend") in ("a", "b"):
                stats["ok"] += 1
            else:
                stats["bad"].append(r.status)
        except (OSError, http.client.HTTPException) as e:
            stats["bad"].append(repr(e))
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.close()


def test_500_changes_under_load(gh, origin, origin_factory):
    b = origin_factory("b")
    api = start_api(gh)
    api.ok("POST", "/origins", {"name": "web", "servers": [
        {"address": "127.0.0.1", "port": origin.port}]}, status=201)
    api.ok("POST", "/origins", {"name": "alt", "servers": [
        {"address": "127.0.0.1", "port": b.port}]}, status=201)
    api.ok("POST", "/listeners", {"name": "public", "address": "127.0.0.1", "port": 0},
           status=201)
    api.ok("POST", "/routes", {"name": "app", "listener": "public", "origin": "web",
                               "match": {"hosts": ["app.test"]}}, status=201)
    port = wait_port(api, gh, "public")
    pid = gh.proc.pid
    rev0 = api.revision()

    stop = threading.Event()
    stats = [{"ok": 0, "bad": []} for _ in range(3)]
    threads = [threading.Thread(target=client_loop, args=(port, stop, s)) for s in stats]
    for t in threads:
        t.start()
    time.sleep(0.2)
    n = 0
    i = 0
    while n < CHANGES:
        i += 1
        steps = [
            ("POST", "/origins", {"name": "o%d" % i, "servers": [
                {"address": "127.0.0.1", "port": origin.port}]}, 201),
            ("POST", "/routes", {"name": "r%d" % i, "listener": "public", "origin": "o%d" % i,
                                 "match": {"hosts": ["r%d.test" % i]}}, 201),
            ("PATCH", "/routes/r%d" % i, {"match": {"path_prefix": "/p%d" % i},
                                          "origin": "alt"}, 200),
            ("PATCH", "/origins/o%d" % i, {"servers": [
                {"address": "127.0.0.1", "port": b.port, "weight": 2}]}, 200),
            ("PATCH", "/routes/app", {"origin": "alt" if i % 2 else "web",
                                      "priority": i % 7}, 200),
            ("DELETE", "/routes/r%d" % i, None, 204),
            ("DELETE", "/origins/o%d" % i, None, 204),
        ]
        for method, path, body, want in steps:
            if n >= CHANGES:
                break
            r = api.req(method, path, body)
            assert r.status_code == want, (method, path, r.status_code, r.text)
            n += 1
    stop.set()
    for t in threads:
        t.join(30)
    ok = sum(s["ok"] for s in stats)
    bad = [x for s in stats for x in s["bad"]]
    assert bad == [], bad[:10]
    assert ok > CHANGES, ok
    assert api.revision() == rev0 + CHANGES
    st = api.status()
    assert st["in_sync"] and st["serving_revision"] == rev0 + CHANGES
    assert gh.proc.pid == pid and gh.proc.poll() is None

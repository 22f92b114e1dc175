"""Server states through PATCH /origins/{id}/servers/{sid} (issue 13).

A server put in drain under load gets no new request once the change is
answered, while its in-flight requests and an open WebSocket finish, and
no client sees an error. disabled takes a server out entirely; active
brings it back. Each change is an ordinary revision.
"""

import http.client
import threading
import time

from apiclient import problem_fields, start_api, wait_port
from backends import ws_frame, ws_handshake, ws_read_frame


def get(port, path):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        c.request("GET", path, headers={"Host": "d.test"})
        r = c.getresponse()
        r.read()
        return r.status, r.getheader("X-Backend")
    finally:
        c.close()


class Load:
    """Threads sending slow GETs back to back; every answer is kept with
    its start and end time."""

    def __init__(self, port, threads=6, ms=150):
        self.port, self.ms = port, ms
        self.stop = False
        self.lock = threading.Lock()
        self.done = []  # (start, end, status, backend)
        self.threads = [threading.Thread(target=self.run) for _ in range(threads)]
        for t in self.threads:
            t.start()

    def run(self):
        while not self.stop:
            start = time.monotonic()
            try:
                status, backend = get(self.port, "/_slow?ms=%d" % self.ms)
            except OSError as e:
                status, backend = str(e), None
            with self.lock:
                self.done.append((start, time.monotonic(), status, backend))

    def finish(self):
        self.stop = True
        for t in self.threads:
            t.join(30)
        return self.done


def test_drain_under_load(gh, origin_factory):
    backends = [origin_factory(n) for n in ("a", "b", "c")]
    api = start_api(gh)
    api.ok("POST", "/origins", {"name": "o", "servers": [
        {"address": "127.0.0.1", "port": b.port} for b in backends]})
    api.ok("POST", "/listeners", {"name": "l", "address": "127.0.0.1", "port": 0})
    api.ok("POST", "/routes", {"name": "r", "listener": "l", "origin": "o",
                               "match": {"hosts": ["d.test"]}})
    port = wait_port(api, gh, "l")

    conn, lines, _ = ws_handshake(port, "d.test")
    assert lines[0].startswith("HTTP/1.1 101"), lines
    ws_backend = [ln.split(":", 1)[1].strip() for ln in lines
                  if ln.lower().startswith("x-backend:")][0]
    target = {b.name: b for b in backends}[ws_backend]
    sid = "127.0.0.1:%d" % target.port

    load = Load(port)
    time.sleep(1.0)
    rev = api.revision()
    r = api.ok("PATCH", "/origins/o/servers/%s" % sid, {"state": "drain"})
    changed = time.monotonic()
    doc = r.json()
    assert [s["state"] for s in doc["servers"] if s["port"] == target.port] == ["drain"]
    assert api.revision() == rev + 1
    # the live state: /stats and /metrics
    live = {b["server"]: b for b in api.get("/stats").json()["balance"]}
    assert live[sid]["state"] == "drain" and live[sid]["in_flight"] >= 1, live
    assert sum(b["requests"] for b in live.values()) > 10, live
    assert all(b["health"] == "unchecked" for b in live.values())
    assert max(b["latency_ewma_us"] for b in live.values()) >= 100000, live
    metrics = api.get("/metrics").text
    assert 'gatehouse_server_admin_state{server_id="%d",server="%s",origin="o",state="drain"} 1' % (
        live[sid]["id"], sid) in metrics, metrics[-2000:]
    assert "gatehouse_server_in_flight{" in metrics
    assert "gatehouse_server_latency_ewma_seconds{" in metrics
    time.sleep(1.5)

    # The WebSocket opened before the drain still works, then closes cleanly.
    conn.sock.sendall(ws_frame(1, b"still here"))
    assert ws_read_frame(conn) == (1, b"still here")
    conn.sock.sendall(ws_frame(8, b"\x03\xe8"))
    assert ws_read_frame(conn)[0] == 8
    conn.sock.close()

    done = load.finish()
    errors = [d for d in done if d[2] != 200]
    assert errors == [], errors[:5]
    to_target = [d for d in done if d[3] == ws_backend]
    started_after = [d for d in to_target if d[0] > changed]
    finished_after = [d for d in to_target if d[0] < changed < d[1]]
    assert started_after == [], started_after[:5]
    # requests in flight on it when the change came finished (200 above)
    print("drain: %d requests, %d to the drained server, %d of them in flight "
          "at the change" % (len(done), len(to_target), len(finished_after)))
    assert len([d for d in done if d[0] > changed]) > 10

    # disabled: nothing; active again: back in the rotation
    api.ok("PATCH", "/origins/o/servers/%s" % sid, {"state": "disabled"})
    assert ws_backend not in {get(port, "/")[1] for _ in range(9)}
    api.ok("PATCH", "/origins/o/servers/%d" % doc["servers"][0]["id"],
           {"weight": 2})
    api.ok("PATCH", "/origins/o/servers/%s" % sid, {"state": "active"})
    assert ws_backend in {get(port, "/")[1] for _ in range(12)}
    assert api.get("/origins/o").json()["servers"][0]["weight"] == 2
    assert api.revision() == rev + 4


def test_server_patch_errors_and_limits(gh, origin_factory):
    a, b = origin_factory("a"), origin_factory("b")
    api = start_api(gh)
    api.ok("POST", "/origins", {"name": "o", "servers": [
        {"address": "127.0.0.1", "port": a.port},
        {"address": "127.0.0.1", "port": b.port, "max_connections": 1,
         "slow_start_s": 30}]})
    got = api.get("/origins/o").json()["servers"]
    assert got[0]["state"] == "active" and got[0]["slow_start_s"] == 0
    assert got[1]["max_connections"] == 1 and got[1]["slow_start_s"] == 30
    assert api.patch("/origins/o/servers/9999", {"state": "drain"}).status_code == 404
    assert api.patch("/origins/nope/servers/1", {"state": "drain"}).status_code == 404
    assert api.patch("/origins/o/servers/127.0.0.1:1", {"weight": 2}).status_code == 404
    r = api.patch("/origins/o/servers/127.0.0.1:%d" % b.port, {"state": "asleep"})
    assert r.status_code == 422, r.text
    assert [f for f, _ in problem_fields(r)] == ["servers[1].state"], r.text
    r = api.patch("/origins/o/servers/127.0.0.1:%d" % b.port, {"id": 1})
    assert r.status_code == 422, r.text
    r = api.patch("/origins/o", {"queue": {"timeout_ms": 10}})
    assert r.status_code == 422 and [f for f, _ in problem_fields(r)] == ["queue.max"], r.text
    api.ok("PATCH", "/origins/o", {"queue": {"max": 10}})
    q = api.get("/origins/o").json()["queue"]
    assert q["max"] == 10
    api.ok("PATCH", "/origins/o", {"queue": None})
    assert api.get("/origins/o").json()["queue"] is None


def test_max_connections_and_queue(gh, origin_factory):
    a = origin_factory("a")
    api = start_api(gh)
    api.ok("POST", "/origins", {"name": "o", "servers": [
        {"address": "127.0.0.1", "port": a.port, "max_connections": 1}],
        "queue": {"max": 5, "timeout_ms": 5000}})
    api.ok("POST", "/listeners", {"name": "l", "address": "127.0.0.1", "port": 0})
    api.ok("POST", "/routes", {"name": "r", "listener": "l", "origin": "o",
                               "match": {"hosts": ["d.test"]}})
    port = wait_port(api, gh, "l")

    def burst(n, ms):
        out = [None] * n

        def one(i):
            t = time.monotonic()
            out[i] = (get(port, "/_slow?ms=%d" % ms)[0], time.monotonic() - t)
        ts = [threading.Thread(target=one, args=(i,)) for i in range(n)]
        for t in ts:
            t.start()
            time.sleep(0.02)
        for t in ts:
            t.join(30)
        return out

    # one at a time on the server, the others wait their turn
    got = burst(4, 200)
    assert [s for s, _ in got] == [200] * 4, got
    assert max(t for _, t in got) >= 0.6, got
    # a short queue: the ones that do not fit get 503 at once
    api.ok("PATCH", "/origins/o", {"queue": {"max": 1, "timeout_ms": 5000}})
    got = burst(4, 400)
    assert sorted(s for s, _ in got) == [200, 200, 503, 503], got
    assert all(t < 0.3 for s, t in got if s == 503), got
    # waiting longer than timeout_ms: 503
    api.ok("PATCH", "/origins/o", {"queue": {"max": 5, "timeout_ms": 100}})
    got = burst(2, 600)
    assert sorted(s for s, _ in got) == [200, 503], got
    # no queue: 503 at once
    api.ok("PATCH", "/origins/o", {"queue": None})
    got = burst(2, 400)
    assert sorted(s for s, _ in got) == [200, 503], got

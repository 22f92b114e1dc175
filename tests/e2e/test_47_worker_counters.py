"""Counters are kept per worker thread and merged when read: with two
workers, the totals in /stats and /metrics after N requests over M
connections are exactly N and M (globals, the route, the listener)."""

import http.client
import os
import re

from apiclient import start_api
from conftest import wait_until

CONNS = 120
PER_CONN = 3


def thread_runtimes(pid):
    """Nanoseconds on CPU per thread of <pid>."""
    out = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                out[tid] = int(f.read().split()[0])
        except OSError:
            pass
    return out


def test_two_workers_totals_add_up(gh, origin):
    gh.add_listener("l")
    gh.add_origin("o", [(origin.host, origin.port)])
    gh.add_route("r", "l", "o", hosts=["app.test"])
    api = start_api(gh, args=["--workers", "2"])
    port = gh.ports["l"]
    g0 = api.get("/stats").json()["global"]
    t0 = thread_runtimes(gh.pid)

    for _ in range(CONNS):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        for _ in range(PER_CONN):
            c.request("GET", "/", headers={"Host": "app.test"})
            r = c.getresponse()
            r.read()
            assert r.status == 200
        c.close()
    t1 = thread_runtimes(gh.pid)
    # Both workers served (SO_REUSEPORT spreads the connections), so the
    # totals below are sums over two threads' counters.
    busy = [t for t in t1 if t1[t] - t0.get(t, 0) > 1000000]
    assert len(busy) >= 2, (t0, t1)

    def listener():
        doc = api.get("/stats").json()
        return {o["name"]: o for o in doc["listeners"]}["l"]
    wait_until(lambda: listener()["active"] == 0, what="connections closed")

    doc = api.get("/stats").json()
    g = doc["global"]
    n = CONNS * PER_CONN
    assert g["requests"] - g0["requests"] == n
    assert g["conn_accepted"] - g0["conn_accepted"] == CONNS
    assert g["conn_closed"] - g0["conn_closed"] == CONNS
    route = {o["name"]: o for o in doc["routes"]}["r"]
    assert route["requests"] == n and route["responses"]["2xx"] == n
    assert route["active"] == 0
    server = doc["servers"][0]
    assert server["requests"] == n
    lst = listener()
    assert lst["requests"] == CONNS and lst["errors"] == 0

    text = api.get("/metrics").text

    def metric(name, labels=""):
        m = re.search(r"^%s(\{[^}]*%s[^}]*\})? (\d+)$" % (re.escape(name), re.escape(labels)),
                      text, re.M)
        assert m, name
        return int(m.group(2))
    assert metric("gatehouse_route_requests_total", 'route="r"') == n
    assert metric("gatehouse_listener_requests_total", 'listener="l"') == CONNS
    assert metric("gatehouse_requests_total") >= n

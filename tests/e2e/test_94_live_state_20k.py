"""Live state of 20,000 servers and more (daemon/idtab.c).

Health-check states (health.c) and in-flight counts, latency, passive
ejections (server_live.c) are kept per server id in tables that grow with
the configuration (they were fixed at 8,192 ids). One PUT /config with
20,000 health-checked servers and an origin of four more created after
them: every one of the 20,000 is checked and shows its checks in /stats,
and the last origin's servers, ids above 20,000, are picked, ejected by
passive health and shown ejected. Nothing is refused (live_state_refused
stays 0), and a second PUT that keeps the servers keeps their state.
"""

import time

from apiclient import start_api, wait_port
from backends import StatusOrigin, status_of

N_ORIGINS = 20
PER_ORIGIN = 1000  # the most servers an origin may have
N = N_ORIGINS * PER_ORIGIN


def document(bad):
    # Low ports nobody serves HTTP on: each check fails once (fall 2:
    # the state stays up, no log line per server), once an hour.
    origins = [{"name": "o%d" % i,
                "health_check": {"path": "/", "interval_ms": 3600000,
                                 "timeout_ms": 2000, "fall": 2},
                "servers": [{"address": "127.0.0.1", "port": p + 1}
                            for p in range(PER_ORIGIN)]}
               for i in range(N_ORIGINS)]
    origins.append({"name": "p",
                    "passive_health": {"consecutive_failures": 1,
                                       "failure_statuses": [503], "eject_s": 600,
                                       "max_ejected_percent": 100},
                    "servers": [{"address": "127.0.0.1", "port": b.port} for b in bad]})
    return {"listeners": [{"name": "l", "address": "127.0.0.1", "port": 0}],
            "origins": origins,
            "routes": [{"name": "r", "listener": "l", "origin": "p",
                        "match": {"hosts": ["s.test"]}}]}


def stats(api):
    r = api.get("/stats", timeout=60)
    assert r.status_code == 200, r.text
    return r.json()


def test_20000_servers_keep_their_live_state(gh):
    bad = [StatusOrigin(code=503) for _ in range(4)]
    try:
        api = start_api(gh)
        r = api.put("/config", document(bad), timeout=120)
        assert r.status_code == 200, r.text
        port = wait_port(api, gh, "l")

        # Every health-checked server is checked: poll until each has
        # its first check counted (spread over 100 ms, refused at once).
        deadline = time.monotonic() + 60
        while True:
            s = stats(api)
            health = [h for h in s["health"] if h["origin"] != "p"]
            unchecked = [h for h in health if h["checks"] < 1]
            if not unchecked or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert len(health) == N
        assert unchecked == [], (len(unchecked), unchecked[:3])
        assert all(h["failures"] >= 1 and h["state"] == "up" for h in health), \
            [h for h in health if h["failures"] < 1 or h["state"] != "up"][:3]
        assert len({h["id"] for h in health}) == N

        # The last origin's servers: ids above every checked one.
        for _ in range(8):
            assert status_of(port)[0] == 503
        s = stats(api)
        assert len(s["balance"]) == N + len(bad)
        live = [b for b in s["balance"] if b["origin"] == "p"]
        assert min(b["id"] for b in live) > max(h["id"] for h in health)
        # each answered 503 once and was ejected (max_ejected_percent 100)
        assert all(b["requests"] >= 1 and b["ejections"] == 1 and
                   b["ejected_ms"] > 0 for b in live), live
        assert sum(b.hits for b in bad) == len(bad)
        assert s["global"]["live_state_refused"] == 0

        # A second PUT with the same servers keeps every state.
        r = api.put("/config", document(bad), timeout=120)
        assert r.status_code == 200, r.text
        s = stats(api)
        assert all(b["ejections"] == 1 and b["ejected_ms"] > 0
                   for b in s["balance"] if b["origin"] == "p")
        assert all(h["checks"] >= 1 for h in s["health"] if h["origin"] != "p")
        assert s["global"]["live_state_refused"] == 0
    finally:
        for b in bad:
            b.close()

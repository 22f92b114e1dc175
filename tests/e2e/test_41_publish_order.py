"""Snapshots go live in revision order whoever publishes them: a SIGHUP
whose compile read revision N and publishes late (the daemon is told to
wait between reading and publishing) never replaces the API's N+1, and
the change made through the API keeps serving."""

import signal
import time

from apiclient import start_api, wait_port
from conftest import curl


def test_sighup_racing_api_write(gh, origin, origin_factory):
    b = origin_factory("b")
    gh.extra_env["GATEHOUSED_TEST_RELOAD_DELAY_MS"] = "1500"
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
    assert curl(port, "/", host="app.test").header("X-Backend") == "a"
    old_rev = api.revision()

    since = gh.mark()
    gh.proc.send_signal(signal.SIGHUP)  # reads old_rev, publishes 1.5 s later
    gh.wait_for(r"SIGHUP: reading the configuration again", since=since)
    time.sleep(0.3)
    r = api.ok("PATCH", "/routes/app", {"origin": "alt"})
    new_rev = int(r.headers["X-Config-Revision"])
    assert new_rev > old_rev
    assert curl(port, "/", host="app.test").header("X-Backend") == "b"
    time.sleep(2.5)  # the late SIGHUP publication has come and gone
    for _ in range(5):
        assert curl(port, "/", host="app.test").header("X-Backend") == "b", \
            "rolled back to revision %d:\n%s" % (old_rev, gh.log_tail(10))
    assert gh.log_has(r"config revision %d not published: revision %d is newer"
                      % (old_rev, new_rev))
    # A SIGHUP that read the newest revision still publishes.
    gen, rev = gh.reload(timeout=15)
    assert rev == new_rev
    assert curl(port, "/", host="app.test").header("X-Backend") == "b"

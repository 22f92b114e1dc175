"""Sticky cookies are signed with the appliance's secret (issue 13).

The value is 32 hex digits: the server's id and a check, both HMACs with
a secret made at the first start and kept sealed in the database. A
forged or altered value is ignored (the balance chooses, a new cookie is
set) and counted as sticky_cookie_bad; a genuine value of a server since
removed is ignored without being counted. The same cookie names the same
server after a restart; a new secret (the row deleted) makes every old
cookie a forgery. A restore brings the backup's secret back live, without
a restart.
"""

import http.client

from apiclient import restart_api, start_api, wait_port

PASS = "correct horse battery staple"


def get(port, cookie=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        h = {"Host": "s.test"}
        if cookie:
            h["Cookie"] = "x=1; %s" % cookie
        c.request("GET", "/", headers=h)
        r = c.getresponse()
        r.read()
        assert r.status == 200, r.status
        setc = r.getheader("Set-Cookie")
        return r.getheader("X-Backend"), setc.split(";")[0] if setc else None
    finally:
        c.close()


def bad(api):
    return api.get("/stats").json()["global"]["sticky_cookie_bad"]


def setup_sticky(gh, backends):
    api = start_api(gh)
    api.ok("POST", "/origins", {"name": "o", "sticky": {"cookie": "gh_srv"},
                                "servers": [{"address": "127.0.0.1", "port": b.port}
                                            for b in backends]})
    api.ok("POST", "/listeners", {"name": "l", "address": "127.0.0.1", "port": 0})
    api.ok("POST", "/routes", {"name": "r", "listener": "l", "origin": "o",
                               "match": {"hosts": ["s.test"]}})
    return api, wait_port(api, gh, "l")


def cookies_by_server(port):
    """Each server's cookie, from fresh requests (round-robin)."""
    got = {}
    for _ in range(6):
        backend, cookie = get(port)
        assert cookie is not None
        got[backend] = cookie
    return got


def test_forged_and_altered_cookies_are_ignored_and_counted(gh, origin_factory):
    backends = [origin_factory(n) for n in ("a", "b", "c")]
    api, port = setup_sticky(gh, backends)
    ck = cookies_by_server(port)
    assert sorted(ck) == ["a", "b", "c"]
    for backend, cookie in ck.items():
        value = cookie.split("=", 1)[1]
        assert len(value) == 32 and all(ch in "0123456789abcdef" for ch in value)
        assert get(port, cookie) == (backend, None)  # genuine: sticks, no new cookie
    assert bad(api) == 0

    a = ck["a"].split("=", 1)[1]
    b = ck["b"].split("=", 1)[1]
    forged = [
        a[:31] + ("0" if a[31] != "0" else "1"),  # one digit of the check altered
        ("0" if a[0] != "0" else "1") + a[1:],    # one digit of the id altered
        a[:16] + b[16:],                          # a's id with b's check
        "0123456789abcdef" * 2,                   # made up
        a.upper(),                                # not our spelling
        a[:16],                                   # the unsigned length of before
        "../../etc",                              # garbage
    ]
    for n, value in enumerate(forged, 1):
        seen = set()
        for _ in range(6):
            backend, setc = get(port, "gh_srv=" + value)
            seen.add(backend)
            # ignored: the balance chose, and a genuine cookie is set
            assert setc == ck[backend], (value, setc)
        assert seen == {"a", "b", "c"}, (value, seen)
        assert bad(api) == 6 * n, (value, bad(api))
    m = api.get("/metrics").text
    assert "gatehouse_sticky_cookie_bad_total %d" % (6 * len(forged)) in m

    # a genuine cookie of a server since removed: ignored, not counted
    api.ok("PATCH", "/origins/o", {"servers": [
        {"address": "127.0.0.1", "port": x.port} for x in backends if x.name != "a"]})
    before = bad(api)
    backend, setc = get(port, ck["a"])
    assert backend in ("b", "c") and setc == ck[backend]
    assert bad(api) == before
    # b and c keep their cookies through the change
    assert get(port, ck["b"]) == ("b", None) and get(port, ck["c"]) == ("c", None)


def test_secret_kept_across_restarts_and_sealed(gh, origin_factory):
    backends = [origin_factory(n) for n in ("a", "b")]
    api, port = setup_sticky(gh, backends)
    ck = cookies_by_server(port)
    assert gh.log_has(r"made the sticky cookie secret")
    rows = gh.sql("SELECT name, value FROM secrets")
    assert len(rows) == 1 and rows[0][0] == "sticky_cookie"
    assert bytes(rows[0][1])[:4] == b"GHK1"  # sealed with the KEK

    gh.stop()
    gh.proc = None
    restart_api(gh, api)
    port = wait_port(api, gh, "l")
    assert not gh.log_has(r"made the sticky cookie secret")
    for backend, cookie in ck.items():
        assert get(port, cookie) == (backend, None)
    assert bad(api) == 0

    # another secret (as on another appliance): every old cookie is forged
    gh.stop()
    gh.proc = None
    gh.sql("DELETE FROM secrets")
    restart_api(gh, api)
    port = wait_port(api, gh, "l")
    assert gh.log_has(r"made the sticky cookie secret")
    backend, setc = get(port, ck["a"])
    assert setc is not None and setc != ck[backend]
    assert bad(api) == 1


def test_restored_secret_is_live_without_restart(gh, origin_factory):
    """A restore brings the backup's secret back, and it signs at once."""
    backends = [origin_factory(n) for n in ("a", "b")]
    api, port = setup_sticky(gh, backends)
    ck = cookies_by_server(port)  # signed with the first secret
    r = api.post("/backup", {"passphrase": PASS})
    assert r.status_code == 200, r.text
    blob = r.content

    # another secret, as after a rebuild: the old cookies are forgeries
    gh.stop()
    gh.proc = None
    gh.sql("DELETE FROM secrets")
    restart_api(gh, api)
    port = wait_port(api, gh, "l")
    ck2 = cookies_by_server(port)
    assert ck2["a"] != ck["a"]
    backend, setc = get(port, ck["a"])
    assert setc == ck2[backend]
    assert bad(api) == 1

    pid = gh.proc.pid
    r = api.req("POST", "/restore", raw=blob, ctype=None,
                headers={"Content-Type": "application/octet-stream",
                         "X-Backup-Passphrase": PASS})
    assert r.status_code == 200, r.text
    port = wait_port(api, gh, "l")
    # the backup's cookies stick again, without a restart
    for backend, cookie in ck.items():
        assert get(port, cookie) == (backend, None), backend
    assert bad(api) == 1
    assert cookies_by_server(port) == ck
    # and the secret made since is gone: its cookies are forgeries now
    backend, setc = get(port, ck2["b"])
    assert setc == ck[backend]
    assert bad(api) == 2
    assert gh.proc.pid == pid and gh.proc.poll() is None

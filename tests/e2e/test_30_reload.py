"""Live configuration through the database and SIGHUP: changes apply
without a restart, in-flight requests finish, invalid configs are rejected
and the old one keeps serving."""

import http.client
import re
import threading

from conftest import curl, wait_until


def test_route_added_by_reload(gh, origin):
    gh.add_listener("l")
    gh.start()
    gen0, _ = gh.generation()
    assert gh.curl("/").status == 404
    gh.add_origin("o", [(origin.host, origin.port)])
    gh.add_route("r", "l", "o", hosts=["app.test"])
    gen1, _ = gh.reload()
    assert gen1 > gen0
    r = gh.curl("/hello")
    assert r.status == 200 and r.header("x-backend") == "a"
    assert origin.paths() == ["/hello"]
    assert gh.proc.poll() is None


def test_route_origin_switch(gh, origin_factory):
    a, b = origin_factory("a"), origin_factory("b")
    gh.add_listener("l")
    gh.add_origin("a", [(a.host, a.port)])
    gh.add_origin("b", [(b.host, b.port)])
    gh.add_route("r", "l", "a", hosts=["app.test"])
    gh.start()
    pid = gh.pid
    assert gh.curl("/").header("x-backend") == "a"
    gh.sql("UPDATE routes SET origin_id = (SELECT id FROM origins WHERE name = 'b')")
    gh.reload()
    assert gh.curl("/").header("x-backend") == "b"
    assert gh.pid == pid and gh.proc.poll() is None


def test_server_added_to_origin(gh, origin_factory):
    a, b = origin_factory("a"), origin_factory("b")
    gh.simple(a)
    gh.add_server("o", b.host, b.port)
    gh.reload()
    seen = {gh.curl("/").header("x-backend") for _ in range(6)}
    assert seen == {"a", "b"}


def test_inflight_request_finishes_during_reload(gh, origin_factory):
    a, b = origin_factory("a"), origin_factory("b")
    gh.add_listener("l")
    gh.add_origin("a", [(a.host, a.port)])
    gh.add_origin("b", [(b.host, b.port)])
    gh.add_route("r", "l", "a", hosts=["app.test"])
    gh.start()
    port = gh.ports["l"]
    out = {}
    t = threading.Thread(target=lambda: out.update(r=curl(port, "/_slow?ms=1500", "app.test")))
    t.start()
    wait_until(lambda: "/_slow" in a.paths(), what="the slow request at the origin")
    gh.sql("UPDATE routes SET origin_id = (SELECT id FROM origins WHERE name = 'b')")
    gh.reload()
    assert gh.curl("/new").header("x-backend") == "b"
    t.join(10)
    assert out["r"].status == 200 and out["r"].header("x-backend") == "a"


def test_keepalive_client_sees_new_config(gh, origin_factory):
    a, b = origin_factory("a"), origin_factory("b")
    gh.add_listener("l")
    gh.add_origin("a", [(a.host, a.port)])
    gh.add_origin("b", [(b.host, b.port)])
    gh.add_route("r", "l", "a", hosts=["app.test"])
    gh.start()
    c = http.client.HTTPConnection("127.0.0.1", gh.ports["l"], timeout=5)
    c.request("GET", "/1", headers={"Host": "app.test"})
    r = c.getresponse()
    r.read()
    assert r.getheader("x-backend") == "a"
    gh.sql("UPDATE routes SET origin_id = (SELECT id FROM origins WHERE name = 'b')")
    gh.reload()
    c.request("GET", "/2", headers={"Host": "app.test"})
    r = c.getresponse()
    r.read()
    assert r.getheader("x-backend") == "b"
    c.close()
    assert a.paths() == ["/1"] and b.paths() == ["/2"]


def test_invalid_config_keeps_old_one(gh, origin):
    gh.simple(origin)
    gen0 = gh.generation()
    gh.sql("UPDATE servers SET address = 'not-an-address'")
    msg = gh.reload_rejected()
    assert re.match(r"\S+: \S", msg), msg
    assert "address" in msg or "servers" in msg, msg
    assert gh.generation() == gen0
    r = gh.curl("/still")
    assert r.status == 200 and r.header("x-backend") == "a"
    # Fixing the row makes the next reload apply again.
    gh.sql("UPDATE servers SET address = ?", (origin.host,))
    gen1, _ = gh.reload()
    assert gen1 > gen0[0]
    assert gh.curl("/").status == 200


def test_listener_added_and_removed_by_reload(gh, origin):
    gh.simple(origin)
    gh.add_listener("l2")
    gh.add_route("r2", "l2", "o", hosts=["two.test"])
    gh.reload()
    gh.wait_for(r"listener l2 listening on 127\.0\.0\.1:\d+")
    assert gh.curl("/", host="two.test", listener="l2").status == 200

    # A connection open on l2 survives its listener's removal.
    c = http.client.HTTPConnection("127.0.0.1", gh.ports["l2"], timeout=5)
    c.request("GET", "/before", headers={"Host": "two.test"})
    r = c.getresponse()
    r.read()
    assert r.status == 200
    gh.sql("DELETE FROM routes WHERE name = 'r2'")
    gh.sql("DELETE FROM listeners WHERE name = 'l2'")
    gh.reload()
    r = curl(gh.ports["l2"], "/", "two.test", timeout=3)
    assert r.rc == 7, r  # connection refused: no longer listening
    c.request("GET", "/after", headers={"Host": "two.test"})
    r = c.getresponse()
    r.read()
    assert r.status in (200, 404)
    c.close()

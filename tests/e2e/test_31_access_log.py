"""The access log: one JSON object per request."""

import json
import os
import time

KEYS = {"time", "client", "method", "host", "path", "status", "bytes_in", "bytes_out",
        "route", "server", "upstream_ms", "total_ms"}


def read_log(path, n, timeout=5):
    deadline = time.monotonic() + timeout
    while True:
        lines = []
        if os.path.exists(path):
            with open(path) as f:
                lines = [ln for ln in f.read().splitlines() if ln.strip()]
        if len(lines) >= n or time.monotonic() > deadline:
            return [json.loads(ln) for ln in lines]
        time.sleep(0.05)


def test_access_log_lines(gh, origin):
    gh.simple(origin)
    assert gh.curl("/one?q=1").status == 200
    assert gh.curl("/x", host="nope.test").status == 404
    assert gh.curl("/post", args=["-d", "0123456789"]).status == 200
    recs = read_log(gh.access_log, 3)
    assert len(recs) == 3, recs
    for r in recs:
        assert KEYS <= set(r), r
        assert r["client"].startswith("127.0.0.1")
        assert isinstance(r["total_ms"], (int, float)) and r["total_ms"] >= 0
        assert r["bytes_out"] > 0
    one, miss, post = recs
    assert (one["method"], one["host"], one["status"], one["route"]) == ("GET", "app.test", 200, "r")
    assert one["path"].startswith("/one")
    assert one["server"] == "%s:%d" % (origin.host, origin.port)
    assert isinstance(one["upstream_ms"], (int, float))
    assert miss["status"] == 404 and miss["route"] in (None, "")
    assert miss["host"] == "nope.test"
    assert post["method"] == "POST" and post["bytes_in"] >= 10


def test_access_log_off(gh, origin):
    gh.add_listener("l")
    gh.add_origin("o", [(origin.host, origin.port)])
    gh.add_route("r", "l", "o", hosts=["app.test"])
    gh.start(access_log="off")
    assert gh.curl("/").status == 200
    time.sleep(0.3)
    assert not os.path.exists(os.path.join(gh.dir, "off"))
    # The harness's schema-creating first start may have made the file;
    # with "off" nothing is written to it.
    assert not os.path.exists(gh.access_log) or os.path.getsize(gh.access_log) == 0


def test_access_log_dash(gh, origin):
    """"-" writes the log to a standard stream (stdout or stderr)."""
    gh.add_listener("l")
    gh.add_origin("o", [(origin.host, origin.port)])
    gh.add_route("r", "l", "o", hosts=["app.test"])
    gh.start(access_log="-")
    assert gh.curl("/dash").status == 200
    deadline = time.monotonic() + 5
    while True:
        with open(gh.stdout_path) as f:
            lines = f.read().splitlines()
        lines += [ln for ln in gh.lines if ln.startswith("{")]
        recs = [json.loads(ln) for ln in lines if ln.startswith("{")]
        if recs or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert [r["path"] for r in recs] == ["/dash"]


def test_access_log_records_refused_requests(gh, origin):
    from backends import raw_exchange
    port = gh.simple(origin)
    raw_exchange(port, b"GET / HTTP/1.1\r\nHost: app.test\r\nContent-Length: 1\r\n"
                 b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
    recs = read_log(gh.access_log, 1)
    assert [r["status"] for r in recs] == [400]

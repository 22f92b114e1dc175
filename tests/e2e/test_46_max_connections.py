"""max_connections on http and https listeners (accept.c): with the limit's
worth of connections open, one more is accepted and closed at once, counted
(conn_limit, the listener's errors in /stats and /metrics), nothing spins,
and once a connection ends a new one is served. The limit holds across
workers."""

import os
import re
import socket
import ssl
import time

from apiclient import start_api
from conftest import wait_until
from tlsutil import add_cert, make_ca, make_leaf

REQ = b"GET / HTTP/1.1\r\nHost: app.test\r\n\r\n"


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def read_response(s):
    """Reads one response with a Content-Length from <s>; returns the status."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(4096)
        assert chunk, "closed before a response: %r" % buf
        buf += chunk
    head, _, body = buf.partition(b"\r\n\r\n")
    m = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
    n = int(m.group(1)) if m else 0
    while len(body) < n:
        chunk = s.recv(4096)
        assert chunk
        body += chunk
    return int(head.split(b" ", 2)[1])


def tls_ctx():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def open_served(port, tls):
    """A keep-alive connection that got one answer (so it is admitted)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    if tls:
        s = tls_ctx().wrap_socket(s, server_hostname="app.test")
    s.sendall(REQ)
    assert read_response(s) == 200
    return s


def refused(port, tls):
    """True when a new connection is closed without an answer."""
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        if tls:
            s = tls_ctx().wrap_socket(s, server_hostname="app.test")
        s.sendall(REQ)
        data = s.recv(4096)
        s.close()
        return data == b""
    except (ConnectionError, ssl.SSLError, OSError):
        return True


def listener_stats(api, name):
    doc = api.get("/stats").json()
    lst = {o["name"]: o for o in doc["listeners"]}
    return doc["global"], lst.get(name)


def metric(api, name, labels=""):
    text = api.get("/metrics").text
    m = re.search(r"^%s\{?[^}\n]*%s[^}\n]*\}? (\d+)$" % (re.escape(name), re.escape(labels)),
                  text, re.M)
    return int(m.group(1)) if m else None


def run_limit(gh, origin, tmp_path, tls, workers=1, limit=2):
    cols = {"max_connections": limit}
    if tls:
        ca = make_ca(tmp_path)
        leaf = make_leaf(tmp_path, "app.test", ca, dns=["app.test"])
        cols.update(protocol="https", default_certificate_id=add_cert(gh, "c", leaf))
    gh.add_listener("l", **cols)
    gh.add_origin("o", [(origin.host, origin.port)])
    gh.add_route("r", "l", "o", hosts=["app.test"])
    api = start_api(gh, args=["--workers", str(workers)])
    port = gh.ports["l"]

    held = [open_served(port, tls) for _ in range(limit)]
    # Each refusal is one accept and one close: no loop, no log flood.
    c0, t0 = cpu_seconds(gh.pid), time.monotonic()
    for _ in range(5):
        assert refused(port, tls)
    time.sleep(1.0)
    cpu, elapsed = cpu_seconds(gh.pid) - c0, time.monotonic() - t0
    assert cpu < 0.3 * elapsed, "%.2f s CPU in %.2f s" % (cpu, elapsed)
    for s in held:  # the held ones still work
        s.sendall(REQ)
        assert read_response(s) == 200

    g, lst = listener_stats(api, "l")
    assert g["conn_limit"] == 5, g
    assert lst["errors"] == 5 and lst["requests"] == limit and lst["active"] == limit, lst
    assert metric(api, "gatehouse_conn_limit_total") == 5
    assert metric(api, "gatehouse_listener_errors_total", 'listener="l"') == 5
    assert metric(api, "gatehouse_listener_active", 'listener="l"') == limit

    # A slot given back is a connection served.
    held.pop().close()
    wait_until(lambda: listener_stats(api, "l")[1]["active"] == limit - 1,
               what="slot given back")
    held.append(open_served(port, tls))
    assert refused(port, tls)
    for s in held:
        s.close()
    wait_until(lambda: listener_stats(api, "l")[1]["active"] == 0, what="all closed")
    g, lst = listener_stats(api, "l")
    assert g["conn_limit"] == 6 and lst["requests"] == limit + 1
    assert not gh.log_has(r"\[(warn|crit)\]")


def test_http_max_connections(gh, origin, tmp_path):
    run_limit(gh, origin, tmp_path, tls=False)


def test_https_max_connections(gh, origin, tmp_path):
    run_limit(gh, origin, tmp_path, tls=True)


def test_limit_holds_across_workers(gh, origin, tmp_path):
    run_limit(gh, origin, tmp_path, tls=False, workers=2, limit=3)

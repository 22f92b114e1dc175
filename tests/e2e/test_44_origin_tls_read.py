"""Connections to TLS origins are read through sockread.c and the TLS
decoder, as client connections are (doc/design.md, doc/tls.md): large
answers arrive whole, with Content-Length and chunked, and a large upload
leaves whole, and a client that reads slowly pauses the origin's reads
without losing a byte; the TLS connection is pooled and reused; an origin's
close_notify on a pooled connection drops it at once and is answered with
ours, so the next request opens a new connection; an origin that drops TCP
mid-body gives the client a truncated answer and is counted; an origin
that never answers the handshake fails the request after the route's
response timeout, counted; TLS health checks send their request after the
handshake and read the answer, and a failed handshake marks the server
down."""

import os
import socket
import ssl
import threading
import time

import pytest

from apiclient import restart_api, start_api
from backends import Origin, sha256
from conftest import wait_until
from test_36_tls_origin import pki  # noqa: F401 (a fixture: CA, other CA, leaf)
from tlsutil import add_cert

MIB = 1 << 20


class TLSBackend(Origin):
    """backends.Origin behind TLS: every connection is wrapped before it is
    served, so every path of backends.py works. One more path:
    /_bye answers like the echo, then, <ms> later, sends a close_notify
    (the connection is pooled by then) and waits for the peer's; whether
    one came is in byes."""

    def __init__(self, pair):
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(pair.cert, pair.key)
        # An EOF without close_notify is an error, not an end (/_bye).
        self.ctx.options &= ~ssl.OP_IGNORE_UNEXPECTED_EOF
        self.byes = []  # True: the proxy answered our close_notify
        self.handshakes = 0
        super().__init__("tls")

    def _serve(self, s):
        try:
            s.settimeout(10)
            t = self.ctx.wrap_socket(s, server_side=True, suppress_ragged_eofs=False)
            t.settimeout(None)
        except (ssl.SSLError, OSError):
            s.close()
            return
        with self.lock:
            self.handshakes += 1
            self.open_conns.discard(s)
            self.open_conns.add(t)
        super()._serve(t)

    def respond(self, conn, req):
        if req.path != "/_bye":
            return super().respond(conn, req)
        doc = self.echo_doc(req, b"")
        self.send(conn.sock, 200, [("Content-Type", "application/json"),
                                   ("Content-Length", str(len(doc)))], doc)
        time.sleep(int(req.query.get("ms", "300")) / 1000.0)
        s = conn.sock
        s.setblocking(False)
        try:
            s.unwrap()  # sends our close_notify, then wants the peer's
        except ssl.SSLWantReadError:
            pass
        s.settimeout(5)
        try:
            ok = s.recv(1) == b""  # the peer's close_notify
        except ssl.SSLZeroReturnError:
            ok = True  # the same, as some versions say it
        except (ssl.SSLError, OSError):
            ok = False  # EOF without one (ragged EOFs are not hidden)
        with self.lock:
            self.byes.append(ok)
        return False


class Silent:
    """Accepts TCP connections and never says a word (a TLS origin that
    never answers the ClientHello)."""

    def __init__(self):
        self.lsock = socket.socket()
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(16)
        self.host, self.port = "127.0.0.1", self.lsock.getsockname()[1]
        self.conns = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                s, _ = self.lsock.accept()
            except OSError:
                return
            self.conns.append(s)

    def close(self):
        self.lsock.close()
        for s in self.conns:
            s.close()


@pytest.fixture
def be(pki):
    b = TLSBackend(pki[2])
    yield b
    b.close()


def start(gh, host, port, ca, route_cols=None, **origin_cols):
    """Listener l, TLS origin o (verified against <ca>), route r; admin API."""
    cols = dict(tls_enabled=1, tls_ca_id=add_cert(gh, "origin-ca", ca, kind="ca"),
                tls_sni="origin.test")
    cols.update(origin_cols)
    gh.add_listener("l")
    gh.add_origin("o", [(host, port)], **cols)
    gh.add_route("r", "l", "o", hosts=["app.test"], **(route_cols or {}))
    return start_api(gh)


def counters(api):
    return api.get("/stats").json()["global"]


def health(api):
    return {h["server"]: h for h in api.get("/stats").json()["health"]}


def test_large_answers_whole(gh, be, pki):
    """1 MiB with Content-Length and chunked, twice each, on one pooled
    TLS connection: every byte arrives, in order (records split across
    reads and reads ending mid-record are put back together)."""
    api = start(gh, be.host, be.port, pki[0])
    for _ in range(2):
        for mode in ("cl", "chunked"):
            r = gh.curl("/_gen?n=%d&mode=%s" % (MIB, mode))
            assert r.status == 200, r
            assert len(r.body) == MIB, (mode, len(r.body))
            assert sha256(r.body) == r.header("x-body-sha256"), mode
            if mode == "chunked":
                assert r.header("transfer-encoding") == "chunked"
    assert be.accepted == 1 and be.handshakes == 1
    assert counters(api)["upstream_tls_handshakes"] == 1


def test_slow_client_pauses_origin(gh, be, pki):
    """8 MiB to a client that reads nothing for a second: the proxy's
    output fills, reading from the TLS origin pauses (records left in the
    socket and in the connection's raw buffer), then resumes as the client
    drains; the answer arrives whole."""
    start(gh, be.host, be.port, pki[0])
    n = 8 * MIB
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32768)
    s.settimeout(30)
    s.connect(("127.0.0.1", gh.ports["l"]))
    s.sendall(b"GET /_gen?n=%d HTTP/1.1\r\nHost: app.test\r\n"
              b"Connection: close\r\n\r\n" % n)
    time.sleep(1.0)
    data = bytearray()
    while True:
        d = s.recv(65536)
        if not d:
            break
        data += d
    s.close()
    head, _, body = bytes(data).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head[:200]
    want = [ln.split(b": ", 1)[1].decode() for ln in head.split(b"\r\n")
            if ln.lower().startswith(b"x-body-sha256:")]
    assert len(body) == n
    assert [sha256(body)] == want


def test_large_upload_whole(gh, be, pki, tmp_path):
    """4 MiB of request body to a TLS origin: held back while the
    handshake runs, then sent whole (back-pressure resumes the client)."""
    start(gh, be.host, be.port, pki[0])
    body = os.urandom(4 * MIB)
    path = tmp_path / "up.bin"
    path.write_bytes(body)
    for _ in range(2):  # a new connection, then the pooled one
        r = gh.curl("/up", data_file=str(path), args=["-H", "Content-Type: x/y"],
                    timeout=30)
        assert r.status == 200, r
        doc = r.json()
        assert doc["body_len"] == len(body)
        assert doc["body_sha256"] == sha256(body)
    assert be.accepted == 1


def test_keepalive_reuse(gh, be, pki):
    """Sequential requests share one TLS connection: one TCP accept, one
    handshake, the rest counted as reused."""
    api = start(gh, be.host, be.port, pki[0])
    before = counters(api)
    for i in range(6):
        r = gh.curl("/k%d" % i)
        assert r.status == 200, r
        assert r.json()["path"] == "/k%d" % i
    after = counters(api)
    assert be.accepted == 1 and be.handshakes == 1
    assert after["upstream_conn_reused"] - before["upstream_conn_reused"] == 5
    assert after["upstream_tls_handshakes"] == 1
    assert after["upstream_conn_opened"] - before["upstream_conn_opened"] == 1


def test_close_notify_while_pooled(gh, be, pki):
    """The origin ends a pooled connection with a close_notify: the proxy
    drops it at once, answering with its own close_notify, and the next
    request opens a new connection (not the dead one found at send time
    and retried)."""
    api = start(gh, be.host, be.port, pki[0])
    r = gh.curl("/_bye?ms=300")
    assert r.status == 200, r
    wait_until(lambda: be.byes, timeout=10, what="the origin's close_notify exchange")
    assert be.byes == [True], "no close_notify came back from the proxy"
    before = counters(api)
    r = gh.curl("/after")
    assert r.status == 200, r
    assert r.json()["path"] == "/after"
    after = counters(api)
    assert be.accepted == 2 and be.handshakes == 2
    assert after["upstream_conn_reused"] == before["upstream_conn_reused"]
    assert after["upstream_conn_opened"] - before["upstream_conn_opened"] == 1


@pytest.mark.parametrize("query", ["n=1000000", "mode=chunked"])
def test_tcp_drop_mid_body(gh, be, pki, query):
    """The origin drops TCP mid-body without a close_notify: the client
    gets the head and part of the body, then the connection ends (never a
    complete-looking answer), and upstream_premature_close counts it."""
    api = start(gh, be.host, be.port, pki[0])
    before = counters(api)["upstream_premature_close"]
    r = gh.curl("/_close_mid?" + query)
    assert r.status == 200, r
    assert r.rc != 0, r  # curl: transfer closed with data outstanding
    if query.startswith("n="):
        assert 0 < len(r.body) < 1000000
    wait_until(lambda: counters(api)["upstream_premature_close"] == before + 1,
               what="upstream_premature_close")
    assert gh.curl("/fine").status == 200  # and the next one is served


def test_handshake_never_answered(gh, pki):
    """An origin that accepts TCP and never answers the ClientHello: the
    request fails after the route's response timeout with a 504, counted
    in upstream_response_timeout, and no handshake is counted."""
    silent = Silent()
    try:
        api = start(gh, silent.host, silent.port, pki[0],
                    route_cols={"response_timeout_ms": 700})
        t0 = time.monotonic()
        r = gh.curl("/")
        took = time.monotonic() - t0
        assert r.status == 504, r
        assert 0.6 < took < 5, took
        doc = counters(api)
        assert doc["upstream_response_timeout"] == 1
        assert doc["upstream_tls_handshakes"] == 0
        assert len(silent.conns) == 1
    finally:
        silent.close()


HC = dict(hc_path="/hc", hc_interval_ms=500, hc_timeout_ms=450, hc_rise=1, hc_fall=1)


def test_tls_health_check(gh, be, pki):
    """A TLS origin's health check: the request goes after the handshake
    and the answer is read (the server stays up, the checks pile up with
    no failure, each one a handshake the origin saw and a request it
    answered)."""
    api = start(gh, be.host, be.port, pki[0], **HC)
    key = "%s:%d" % (be.host, be.port)
    wait_until(lambda: health(api).get(key, {}).get("checks", 0) >= 3, timeout=10,
               what="three health checks")
    h = health(api)[key]
    assert h["state"] == "up" and h["failures"] == 0, h
    assert "/hc" in be.paths()
    for r in be.requests:
        if r.path == "/hc":
            assert r.header("User-Agent") == "gatehouse-health"
    assert gh.curl("/x").status == 200


def test_tls_health_check_failures(gh, be, pki):
    """Checks of a TLS origin fail on its status and on a failed
    verification: the server goes down with the reason."""
    api = start(gh, be.host, be.port, pki[0], **dict(HC, hc_path="/_status?code=503"))
    key = "%s:%d" % (be.host, be.port)
    gh.wait_for(r"origin o server %s is down: status 503" % key.replace(".", r"\."),
                timeout=10)
    gh.stop()
    gh.sql("UPDATE origins SET hc_path = '/hc', tls_ca_id = ? WHERE name = 'o'",
           (add_cert(gh, "other-ca", pki[1], kind="ca"),))
    restart_api(gh, api)
    gh.wait_for(r"origin o server %s is down: TLS handshake failed" % key.replace(".", r"\."),
                timeout=10)
    gh.wait_for(r"\[warn\] health check of origin o server %s: TLS certificate "
                r"verification failed" % key.replace(".", r"\."))
    assert counters(api)["upstream_tls_verify_failed"] >= 1
    assert health(api)[key]["last_error"] == "TLS handshake failed"

"""The admin plane under a connection flood (issue 16): slow connections
from many addresses cannot lock out another client; one address gets at
most --admin-max-conns-per-ip connections; request heads and bodies have
deadlines however slowly they trickle; the data plane keeps serving."""

import resource
import socket
import threading
import time

import pytest

from apiclient import start_api

SLOW_HEAD = b"GET /api/v1/healthz HTTP/1.1\r\nHost: x\r\n"


@pytest.fixture(autouse=True)
def more_fds():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192), hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def admin_port(api):
    return int(api.base.rsplit(":", 1)[1])


def slow_conn(port, source):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((source, 0))
    s.settimeout(5)
    s.connect(("127.0.0.1", port))
    s.sendall(SLOW_HEAD)
    return s


def is_closed(s, wait=0.0):
    s.settimeout(wait if wait > 0 else 0.001)
    try:
        return s.recv(1) == b""
    except (socket.timeout, BlockingIOError):
        return False
    except OSError:
        return True


class Flood:
    """<n> slow connections from 127.0.0.2 onwards, <per> per address, kept
    at <n> by a thread that reopens those the daemon closes."""

    def __init__(self, port, n=1000, per=25):
        self.port, self.n, self.per = port, n, per
        self.socks = []
        self.stop = threading.Event()
        self.opened = 0
        for i in range(n):
            self.socks.append(self._open(i))
        self.t = threading.Thread(target=self._keep, daemon=True)
        self.t.start()

    def _open(self, i):
        self.opened += 1
        src = "127.0.0.%d" % (2 + i // self.per)
        try:
            return slow_conn(self.port, src)
        except OSError:
            return None

    def _keep(self):
        while not self.stop.is_set():
            for i, s in enumerate(self.socks):
                if self.stop.is_set():
                    break
                if s is None or is_closed(s):
                    if s is not None:
                        s.close()
                    self.socks[i] = self._open(i)
            time.sleep(0.05)

    def close(self):
        self.stop.set()
        self.t.join(10)
        for s in self.socks:
            if s is not None:
                s.close()


def timed_get(api, path):
    t = time.monotonic()
    r = api.get(path, timeout=10)
    return r.status_code, time.monotonic() - t


def test_admin_answers_under_a_thousand_slow_connections(gh, origin):
    gh.add_listener("l")
    gh.add_origin("o", [(origin.host, origin.port)])
    gh.add_route("r", "l", "o", hosts=["app.test"])
    api = start_api(gh)
    port = admin_port(api)
    flood = Flood(port)
    try:
        time.sleep(0.5)
        for _ in range(5):
            status, took = timed_get(api, "/status")
            assert status == 200 and took < 1.0, took
            assert gh.curl("/", host="app.test").status == 200
            time.sleep(0.2)
        assert flood.opened >= 1000
    finally:
        flood.close()
    # Once it stops, nothing lingers.
    status, took = timed_get(api, "/status")
    assert status == 200 and took < 1.0
    g = api.get("/stats").json()["global"]
    assert g["api_conns_shed"] > 0


def test_one_address_is_limited(gh):
    api = start_api(gh, args=["--admin-max-conns-per-ip", "16"])
    port = admin_port(api)
    socks = []
    try:
        for _ in range(40):
            try:
                socks.append(slow_conn(port, "127.0.0.9"))
            except OSError:
                pass
        time.sleep(0.5)
        open_ = [s for s in socks if not is_closed(s, 0.05)]
        assert len(open_) <= 16
        # Another address is not affected.
        status, took = timed_get(api, "/status")
        assert status == 200 and took < 1.0
    finally:
        for s in socks:
            s.close()


def test_slow_heads_and_bodies_have_deadlines(gh):
    api = start_api(gh, args=["--admin-max-header-ms", "1000", "--admin-max-body-ms", "1500"])
    port = admin_port(api)
    # A head trickled a byte at a time is cut at the deadline.
    s = socket.create_connection(("127.0.0.1", port))
    t0 = time.monotonic()
    closed = False
    for b in SLOW_HEAD + b"X-Slow: " + b"a" * 100:
        try:
            s.sendall(bytes([b]))
        except OSError:
            closed = True
            break
        if is_closed(s, 0.1):
            closed = True
            break
    took = time.monotonic() - t0
    s.close()
    assert closed and 0.8 < took < 3.0, took
    # A body trickled in is cut at its deadline.
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"POST /api/v1/config/validate HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
              + api.token.encode() + b"\r\nContent-Type: application/json\r\n"
              b"Content-Length: 1000\r\n\r\n[")
    t0 = time.monotonic()
    closed = False
    while time.monotonic() - t0 < 5:
        try:
            s.sendall(b" ")
        except OSError:
            closed = True
            break
        if is_closed(s, 0.1):
            closed = True
            break
    took = time.monotonic() - t0
    s.close()
    assert closed and 1.2 < took < 3.5, took
    # A keep-alive client that is quick is not disturbed.
    for _ in range(3):
        assert api.get("/status").status_code == 200
    g = api.get("/stats").json()["global"]
    assert g["api_conns_timed_out"] >= 2

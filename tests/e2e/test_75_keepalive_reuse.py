"""What a keep-alive connection reuses from one request to the next: the
origin connection's lazily moved response timer.

The response timer is armed once and left pending while requests come
and go; each request only moves its deadline. These tests check that a
timer left from an earlier request neither cuts a later one short nor lets
it run past its own deadline.
"""

import socket
import time

from backends import parse_responses


def get(path, host="app.test"):
    return ("GET %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (path, host)).encode()


class KeepAlive:
    """One client connection sending requests one at a time."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""

    def request(self, path):
        self.s.sendall(get(path))
        return self.read_one()

    def read_one(self):
        while True:
            try:
                rs = parse_responses(self.buf, complete=False)
            except ValueError:
                rs = []
            if rs and rs[0].body is not None:
                # Keep what follows the first answer (none is expected).
                one = rs[0]
                self.buf = b""
                return one
            d = self.s.recv(65536)
            assert d, "connection closed: %r" % self.buf[:200]
            self.buf += d

    def close(self):
        self.s.close()


def test_slow_request_after_fast_one_times_out_at_its_own_deadline(gh, origin):
    port = gh.simple(origin, route_cols={"response_timeout_ms": 600})
    c = KeepAlive(port)
    try:
        assert c.request("/fast").status == 200
        accepted = origin.accepted
        # The timer armed for the first request fires 600 ms after it,
        # while this one waits: it must re-arm, not answer 504 early.
        time.sleep(0.3)
        t0 = time.monotonic()
        r = c.request("/_slow?ms=3000")
        took = time.monotonic() - t0
        assert r.status == 504, r
        assert 0.55 < took < 2.0, took
        assert origin.accepted == accepted, "the origin connection was not reused"
    finally:
        c.close()


def test_in_time_answers_on_one_origin_connection_all_pass(gh, origin):
    port = gh.simple(origin, route_cols={"response_timeout_ms": 500})
    c = KeepAlive(port)
    try:
        # Each answer takes 300 ms of a 500 ms limit; the timer armed for
        # the first fires during the second, whose deadline is later.
        for i in range(4):
            r = c.request("/_slow?ms=300&i=%d" % i)
            assert r.status == 200, (i, r)
        assert origin.accepted == 1
        # And a late one after them is still cut at its limit.
        t0 = time.monotonic()
        assert c.request("/_slow?ms=3000").status == 504
        assert 0.45 < time.monotonic() - t0 < 2.0
    finally:
        c.close()


def test_timer_left_pending_on_pooled_connection_is_harmless(gh, origin):
    gh.simple(origin, route_cols={"response_timeout_ms": 300})
    assert gh.curl("/one").status == 200
    # The origin connection idles in the pool past the timer it carries.
    time.sleep(0.5)
    assert gh.curl("/two").status == 200
    assert origin.accepted == 1
    assert gh.proc.poll() is None

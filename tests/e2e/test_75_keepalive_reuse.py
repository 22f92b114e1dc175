"""What a keep-alive connection reuses from one request to the next: the
origin connection's lazily moved response timer, and the read blocks a
worker hands from one read to the next (sockread.c).

The response timer is armed once and left pending while requests come
and go; each request only moves its deadline. These tests check that a
timer left from an earlier request neither cuts a later one short nor lets
it run past its own deadline. The read blocks go back to the worker when
their bytes are used: answers of many sizes, one after another on the same
connections and pipelined in one write, must each carry exactly their own
bytes.
"""

import socket
import time

from backends import gen_bytes, parse_responses, raw_exchange


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


def test_answers_of_every_size_carry_their_own_bytes(gh, origin):
    port = gh.simple(origin)
    a, b = KeepAlive(port), KeepAlive(port)
    try:
        sizes = [0, 1, 100, 5000, 16 * 1024, 70000, 3, 200000, 10, 64 * 1024 - 1, 7]
        for i, n in enumerate(sizes):
            for c in (a, b) if i % 2 else (b, a):
                r = c.request("/_gen?n=%d" % n)
                assert r.status == 200
                assert r.body == gen_bytes(n), n
    finally:
        a.close()
        b.close()


def test_pipelined_answers_are_exact(gh, origin):
    port = gh.simple(origin)
    sizes = [100, 0, 20000, 5, 70000, 1]
    data = b"".join(get("/_gen?n=%d" % n) for n in sizes)
    out, _ = raw_exchange(port, data, timeout=3)
    rs = parse_responses(out)
    assert [r.status for r in rs] == [200] * len(sizes)
    for r, n in zip(rs, sizes):
        assert r.body == gen_bytes(n), n


def test_request_split_over_reads_then_whole_ones(gh, origin):
    port = gh.simple(origin)
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        # A head in three reads (bytes wait in the input between them),
        # then whole heads: each answer belongs to its own request.
        for path in ("/split-%d" % i for i in range(3)):
            req = get(path)
            for part in (req[:7], req[7:30], req[30:]):
                s.sendall(part)
                time.sleep(0.05)
            buf = b""
            while True:
                buf += s.recv(65536)
                try:
                    rs = parse_responses(buf)
                    break
                except ValueError:
                    continue
            assert len(rs) == 1 and rs[0].status == 200
            assert b'"path": "%s"' % path.encode() in rs[0].body
        for i in range(5):
            s.sendall(get("/whole-%d" % i))
            buf = b""
            while True:
                buf += s.recv(65536)
                try:
                    rs = parse_responses(buf)
                    break
                except ValueError:
                    continue
            assert b'"path": "/whole-%d"' % i in rs[0].body
    finally:
        s.close()
